"""Print (and optionally save) the two gamme comparisons of a territory.

1. Composition alone: the earlier reconstruction (``data/indicators/gammes_reconstructed.toml``,
   every BPE type counted alone) against INSEE's composition with its groupings
   (``data/indicators/gammes.toml``), same network and times.
2. Network alone (``--coarse FILE``): the territory over the road network of another
   territory file holding the same communes and grid (e.g. a copy of corse.toml with the
   Travel Mapping reader) against the territory's own network, same composition.

Run from the repository root::

    .venv/bin/python scripts/gammes_check.py --territory savoie
    .venv/bin/python scripts/gammes_check.py --territory corse --coarse /tmp/corse_tm.toml
    .venv/bin/python scripts/gammes_check.py --territory corse --out /tmp/gammes_check

A Travel Mapping copy of corse.toml: replace its ``[sources.network]`` table by
``reader = "travelmapping"`` and
``source = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"``, and give it another
``slug`` (e.g. ``corse-tm``) so that its prepared files do not replace corse's.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from accessibility.indicators.gammes import (
    GAMMES_FILE,
    RECONSTRUCTED_FILE,
    bpe_counts,
    load_gamme_composition,
)
from accessibility.pipeline import open_study
from accessibility.validation.gammes_check import (
    GammeComparison,
    compare_compositions,
    compare_networks,
)

SUMMARY_COLUMNS = [
    "gamme",
    "variant",
    "poles_study_area",
    "poles_territory",
    "communes",
    "communes_far",
    "communes_without_time",
    "population_beyond",
    "share_beyond",
]


def _show(title: str, cmp: GammeComparison) -> None:
    print(f"\n== {title} ==")
    with pd.option_context("display.width", 200, "display.max_colwidth", 200):
        print(cmp.summary[SUMMARY_COLUMNS].to_string(index=False, float_format="{:.3f}".format))
        print()
        for row in cmp.changes.itertuples():
            print(
                f"{row.gamme}: poles +{row.poles_gained} -{row.poles_lost}; communes far "
                f"+{row.communes_newly_far} -{row.communes_no_longer_far}"
            )
            for what in (
                "poles_gained",
                "poles_lost",
                "communes_newly_far",
                "communes_no_longer_far",
            ):
                listed = getattr(row, f"{what}_list")
                if listed:
                    print(f"    {what}: {listed}")
        diffs = cmp.communes.filter(like="_diff")
        if not diffs.empty:
            print("\ncommune time difference b - a, minutes (mean / mean |d| / max |d|):")
            for col in diffs.columns:
                d = diffs[col].dropna()
                print(f"    {col}: {d.mean():.2f} / {d.abs().mean():.2f} / {d.abs().max():.2f}")


def _save(out: Path | None, stem: str, cmp: GammeComparison) -> None:
    if out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    cmp.summary.to_csv(out / f"{stem}_summary.csv", index=False)
    cmp.changes.to_csv(out / f"{stem}_changes.csv", index=False)
    cmp.communes.to_csv(out / f"{stem}_communes.csv")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--territory", default="savoie", help="slug or territory TOML file")
    ap.add_argument("--coarse", help="territory TOML file with the other road network")
    ap.add_argument("--out", type=Path, help="folder for the CSV tables")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    study = open_study(args.territory)
    data = study.paths.data
    insee = load_gamme_composition(data / GAMMES_FILE)
    old = load_gamme_composition(data / RECONSTRUCTED_FILE)
    counts = bpe_counts(study.paths)
    slug = study.layers.territory.slug
    cmp = compare_compositions(study, old, insee, counts=counts)
    _show(f"{slug}: composition alone (reconstructed -> INSEE), same times", cmp)
    _save(args.out, f"{slug}_composition", cmp)
    if args.coarse:
        coarse = open_study(args.coarse)
        net_cmp = compare_networks(coarse, study, insee, counts=counts)
        _show(f"{slug}: network alone (coarse {args.coarse} -> full), INSEE composition", net_cmp)
        _save(args.out, f"{slug}_network", net_cmp)


if __name__ == "__main__":
    main()
