"""Headline figures of a territory's diagnostic, for before/after comparisons.

Prints (and writes as CSV with ``--csv``) for each key category the population-weighted
mean time and the shares of the population beyond 5, 10, 20 and 30 minutes, the number
of communes meeting at least one priority criterion and in the top tier, and the top 10
communes. Runs on the current code::

    PYTHONPATH=. .venv/bin/python scripts/diagnostic_figures.py --territory maurienne

and, unchanged, on the code of an earlier commit checked out elsewhere (the 0.1 module
paths are tried when the current ones are missing), which is how docs/validation.md's
before/after table was made.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
import pandas as pd

KEY = ["france_services", "general_practitioner", "emergency", "hospital", "post_office",
       "pharmacy", "childcare"]
BEYOND = [5, 10, 20, 30]


def _open(territory: str):
    try:
        from accessibility.indicators.diagnostic import run_diagnostic
    except ImportError:  # 0.1 layout
        from accessibility.diagnostic import run_diagnostic
    from accessibility.pipeline import open_study

    study = open_study(territory)
    return run_diagnostic(study)


def figures(diag) -> pd.DataFrame:
    cells = diag.cells
    pop_col = "pop_total" if "pop_total" in cells else "population"
    pop = cells[pop_col].to_numpy(float)
    rows = []
    for key in KEY:
        col = f"time_{key}_min"
        if col not in cells:
            continue
        t = cells[col].to_numpy(float)
        reach = ~np.isnan(t)
        row = {"category": key, "mean_min": float(np.average(t[reach], weights=pop[reach]))}
        for b in BEYOND:
            far = np.where(reach, t > b, True)
            row[f"beyond_{b}_pct"] = 100 * float(pop[far].sum() / pop.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def priority(diag) -> tuple[int, pd.DataFrame]:
    p = diag.priority
    flagged = int((p["priority_score"] > 0).sum()) if "priority_score" in p else len(p)
    return flagged, p.head(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--territory", default="maurienne")
    ap.add_argument("--csv", help="write the figures table here")
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diag = _open(args.territory)
    table = figures(diag)
    flagged, top = priority(diag)
    pd.set_option("display.width", 200)
    print(table.round(2).to_string(index=False))
    print(f"communes meeting at least one priority criterion: {flagged} of {len(diag.communes)}")
    if "priority_tier" in diag.priority:
        tiers = diag.priority["priority_tier"].replace("", "(none)").value_counts()
        print("tiers:", tiers.to_dict())
    cols = [c for c in ("rank", "commune_name", "priority_score", "priority_tier") if c in top]
    print(top[cols].to_string(index=False))
    if args.csv:
        table.to_csv(args.csv, index=False)


if __name__ == "__main__":
    sys.exit(main())
