"""How much the INSEE gammes' results owe to their composition, and to the road network.

Two comparisons, each holding one thing fixed (``docs/indicators.md``, gammes section):

* :func:`compare_compositions`: same territory, same road network and travel times, two
  gamme compositions (the earlier reconstruction, every BPE type counted alone, against
  INSEE's composition with its groupings): poles and communes "far from the gamme".
* :func:`compare_networks`: same composition, same cells, two road networks of one
  territory (on Corsica: Travel Mapping's numbered roads against the full road lines).

A commune is "far from the gamme" when the population-weighted mean over its cells of the
time to the nearest pole of the gamme exceeds the gamme's threshold (7, 15, 30 min), as in
the diagnostic. Both functions return tables (pandas), for the validation report and the
script ``scripts/gammes_check.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.engine.snapping import DEFAULT_SNAP
from accessibility.indicators.gammes import (
    GAMME_THRESHOLDS_MIN,
    GammeAccess,
    GammeComposition,
    bpe_counts,
    gamme_times,
    study_area_halls,
)
from accessibility.indicators.nearest import Reach
from accessibility.inputs.population import demand_points
from accessibility.inputs.services import GAMMES


@dataclass(frozen=True)
class GammeComparison:
    """Two variants (``a``, ``b``) of the gamme results of one territory."""

    labels: tuple[str, str]
    """Names of the two variants, e.g. ("reconstructed", "insee") or ("coarse", "full")."""
    summary: pd.DataFrame
    """One row per gamme and variant: poles in the study area, poles in the territory,
    communes far from the gamme (and communes without a time: no populated cell reaching
    a pole), population of cells beyond the threshold (and share)."""
    changes: pd.DataFrame
    """One row per gamme: poles gained and lost, communes newly flagged and no longer
    flagged (from ``a`` to ``b``), with their names."""
    communes: pd.DataFrame
    """One row per commune of the territory: its time to each gamme's nearest pole under
    each variant (``gamme_<g>_pole_min_<label>``) and the difference b - a."""


def _reach(study: Any, points: gpd.GeoDataFrame, halls: gpd.GeoDataFrame) -> Reach:
    """Cells to town halls with the study's snapping and access model, as the diagnostic."""
    access_points = getattr(study, "access_points", None)
    if access_points is not None:
        halls = access_points(halls)
    return Reach(
        study.network,
        points,
        halls,
        origin_id=C.CELL_ID,
        destination_id=C.COMMUNE_CODE,
        snap=getattr(study, "snap", DEFAULT_SNAP),
    )


def _cell_frame(study: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """The territory's cells as demand points, and the territory plus its buffer."""
    layers = study.layers
    points = demand_points(layers.cells).reset_index(drop=True)
    area = gpd.GeoSeries(
        [layers.communes.union_all().buffer(layers.territory.buffer_m)], crs=layers.cells.crs
    )
    return points, area


def _per_commune(points: pd.DataFrame, access: GammeAccess) -> pd.DataFrame:
    """Population-weighted mean of the cells' pole times, per commune."""
    w = points[C.POP_TOTAL].to_numpy(dtype=float)
    code = points[C.COMMUNE_CODE].to_numpy()
    out = {}
    for g in GAMMES:
        col = f"gamme_{g}_pole_min"
        if col not in access.times:
            continue
        v = access.times[col].to_numpy(dtype=float)
        ok = np.isfinite(v)
        num = pd.Series(np.where(ok, v * w, 0.0)).groupby(code).sum()
        den = pd.Series(np.where(ok, w, 0.0)).groupby(code).sum()
        out[col] = num / den.where(den > 0)
    return pd.DataFrame(out)


def _summary_rows(
    label: str, points: pd.DataFrame, access: GammeAccess, communes: pd.DataFrame, codes: set
) -> list[dict[str, Any]]:
    pop = points[C.POP_TOTAL].to_numpy(dtype=float)
    rows = []
    for g in GAMMES:
        col = f"gamme_{g}_pole_min"
        if col not in access.times:
            continue
        t = access.times[col].to_numpy(dtype=float)
        beyond = ~(t <= GAMME_THRESHOLDS_MIN[g])  # unreachable counts as beyond
        far = communes[col] > GAMME_THRESHOLDS_MIN[g]  # without a time: counted apart
        rows.append(
            {
                "gamme": g,
                "variant": label,
                "threshold_min": GAMME_THRESHOLDS_MIN[g],
                "poles_study_area": len(access.poles.get(g, [])),
                "poles_territory": len(set(access.poles.get(g, [])) & codes),
                "communes": len(communes),
                "communes_far": int(far.sum()),
                "communes_without_time": int(communes[col].isna().sum()),
                "population": float(pop.sum()),
                "population_beyond": float(pop[beyond].sum()),
                "share_beyond": float(pop[beyond].sum() / pop.sum()) if pop.sum() > 0 else np.nan,
            }
        )
    return rows


def _names(codes: list[str], names: pd.Series) -> str:
    """Codes with the commune's name when it is in the territory (the buffer's: code only)."""
    return "; ".join(f"{c} {names[c]}" if c in names.index else c for c in sorted(codes))


def _changes(
    labels: tuple[str, str],
    accesses: tuple[GammeAccess, GammeAccess],
    communes: tuple[pd.DataFrame, pd.DataFrame],
    names: pd.Series,
) -> pd.DataFrame:
    a, b = accesses
    rows = []
    for g in GAMMES:
        col = f"gamme_{g}_pole_min"
        if col not in a.times or col not in b.times:
            continue
        pa, pb = set(a.poles.get(g, [])), set(b.poles.get(g, []))
        fa = set(communes[0].index[communes[0][col] > GAMME_THRESHOLDS_MIN[g]])
        fb = set(communes[1].index[communes[1][col] > GAMME_THRESHOLDS_MIN[g]])
        rows.append(
            {
                "gamme": g,
                "from": labels[0],
                "to": labels[1],
                "poles_gained": len(pb - pa),
                "poles_lost": len(pa - pb),
                "communes_newly_far": len(fb - fa),
                "communes_no_longer_far": len(fa - fb),
                "poles_gained_list": _names(sorted(pb - pa), names),
                "poles_lost_list": _names(sorted(pa - pb), names),
                "communes_newly_far_list": _names(sorted(fb - fa), names),
                "communes_no_longer_far_list": _names(sorted(fa - fb), names),
            }
        )
    return pd.DataFrame(rows)


def _assemble(
    labels: tuple[str, str],
    study: Any,
    points: pd.DataFrame,
    accesses: tuple[GammeAccess, GammeAccess],
) -> GammeComparison:
    communes_layer = study.layers.communes
    names = communes_layer.set_index(C.COMMUNE_CODE)[C.COMMUNE_NAME]
    codes = set(communes_layer[C.COMMUNE_CODE])
    per = tuple(_per_commune(points, acc).reindex(names.index) for acc in accesses)
    summary = pd.DataFrame(
        _summary_rows(labels[0], points, accesses[0], per[0], codes)
        + _summary_rows(labels[1], points, accesses[1], per[1], codes)
    ).sort_values(["gamme", "variant"], key=lambda s: s.map(_order(s, labels)))
    table = pd.DataFrame({C.COMMUNE_NAME: names})
    for col in per[0].columns.intersection(per[1].columns):
        table[f"{col}_{labels[0]}"] = per[0][col]
        table[f"{col}_{labels[1]}"] = per[1][col]
        table[f"{col}_diff"] = per[1][col] - per[0][col]
    changes = _changes(labels, accesses, per, names)
    return GammeComparison(
        labels=labels, summary=summary.reset_index(drop=True), changes=changes, communes=table
    )


def _order(s: pd.Series, labels: tuple[str, str]) -> dict:
    if s.name == "gamme":
        return {g: i for i, g in enumerate(GAMMES)}
    return {lab: i for i, lab in enumerate(labels)}


def compare_compositions(
    study: Any,
    a: GammeComposition,
    b: GammeComposition,
    *,
    labels: tuple[str, str] = ("reconstructed", "insee"),
    counts: pd.DataFrame | None = None,
) -> GammeComparison:
    """Gamme poles and flags of ``study`` under two compositions, with the same times.

    ``study`` has ``layers`` (territory, communes, cells) and ``network``, as
    :func:`accessibility.pipeline.open_study` returns. ``counts`` (BPE counts per commune,
    :func:`~accessibility.indicators.gammes.bpe_counts`) is read when not given.
    """
    points, area = _cell_frame(study)
    counts = counts if counts is not None else bpe_counts(study.paths)
    halls, hall_counts = study_area_halls(study.network, area, counts, study.paths)
    reach = _reach(study, points, halls)
    ids = points[C.CELL_ID].to_numpy()
    accesses = tuple(
        gamme_times(reach, hall_counts, comp, ids, origin_id=C.CELL_ID) for comp in (a, b)
    )
    return _assemble(labels, study, points, accesses)


def compare_networks(
    study_a: Any,
    study_b: Any,
    composition: GammeComposition,
    *,
    labels: tuple[str, str] = ("coarse", "full"),
    counts: pd.DataFrame | None = None,
) -> GammeComparison:
    """Gamme poles and flags of one territory over two road networks, same composition.

    The two studies must hold the same cells (same territory and grid); only their
    ``network`` differs.
    """
    ids_a = study_a.layers.cells[C.CELL_ID].to_numpy()
    ids_b = study_b.layers.cells[C.CELL_ID].to_numpy()
    if len(ids_a) != len(ids_b) or (ids_a != ids_b).any():
        raise DataError(
            "compare_networks: the two studies do not hold the same cells (same territory "
            "and grid expected; only the road network may differ)"
        )
    counts = counts if counts is not None else bpe_counts(study_a.paths)
    accesses = []
    for study in (study_a, study_b):
        points, area = _cell_frame(study)
        halls, hall_counts = study_area_halls(study.network, area, counts, study.paths)
        reach = _reach(study, points, halls)
        ids = points[C.CELL_ID].to_numpy()
        accesses.append(gamme_times(reach, hall_counts, composition, ids, origin_id=C.CELL_ID))
    points, _ = _cell_frame(study_a)
    return _assemble(labels, study_a, points, (accesses[0], accesses[1]))
