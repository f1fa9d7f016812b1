"""Coarse against full road network: errors of the time to the nearest service.

Owns the comparison of the project's coarse model (Travel Mapping's numbered roads,
reached by straight off-road legs) with a full road network of the same territory
(OpenStreetMap-derived road lines, e.g. Corsica's): times from every populated cell to
the nearest service of each category on both networks, and the population-weighted
errors (coarse − full) by time band and by category. Also reads the calibration's
held-out error table (``data/network/calibration_heldout.csv``, written by the
calibration harness) for territories no full network covers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.errors import DataError
from accessibility.core.paths import project_data_dir
from accessibility.engine.snapping import DEFAULT_SNAP, SnapOptions
from accessibility.indicators.nearest import time_to_nearest
from accessibility.inputs.territory import Territory
from accessibility.network.graph import RoadNetwork

#: Lower limits of the time bands (minutes, by the full network's time); the last is open.
BAND_LIMITS_MIN = (0.0, 5.0, 10.0, 20.0, 30.0, 45.0)
BAND_LABELS = ("0-5", "5-10", "10-20", "20-30", "30-45", ">45")
#: Categories compared by default (those present in the territory's services are used).
DEFAULT_CATEGORIES = (
    "france_services",
    "general_practitioner",
    "pharmacy",
    "post_office",
    "hospital",
    "emergency",
    "supermarket",
    "primary_school",
)
#: The coarse model's network: Travel Mapping's numbered roads of France.
COARSE_NETWORK = {
    "reader": "travelmapping",
    "source": "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz",
}
FULL_READERS = ("osm", "lines")
HELDOUT_FILE = "network/calibration_heldout.csv"


def has_full_network(territory: Territory) -> bool:
    """Whether the territory runs on a full road network (OSM or road lines)."""
    spec = territory.sources.get("network", {})
    return isinstance(spec, Mapping) and spec.get("reader") in FULL_READERS


def coarse_territory(territory: Territory) -> Territory:
    """The same territory on the coarse model's network (Travel Mapping), in memory."""
    sources = {**territory.sources, "network": dict(COARSE_NETWORK)}
    return dataclasses.replace(territory, sources=params.freeze(sources))


def band_of(minutes: np.ndarray | pd.Series) -> pd.Categorical:
    """The time band label of each value (NaN for NaN)."""
    edges = [*BAND_LIMITS_MIN, np.inf]
    return pd.cut(np.asarray(minutes, dtype=float), edges, right=False, labels=list(BAND_LABELS))


def paired_times(
    full: RoadNetwork,
    coarse: RoadNetwork,
    cells: pd.DataFrame,
    services: pd.DataFrame,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    *,
    full_snap: SnapOptions = DEFAULT_SNAP,
    coarse_snap: SnapOptions = DEFAULT_SNAP,
) -> pd.DataFrame:
    """Time from every populated cell to the nearest service of each category, on both
    networks: columns ``cell_id``, ``category``, ``population``, ``full_min``,
    ``coarse_min``, ``error_min`` (coarse − full) and ``band`` (by the full time).

    ``full_snap`` / ``coarse_snap``: how points join each network (the coarse model's
    calibrated access model: :func:`~accessibility.engine.access_model.snap_options_for`;
    ``cells`` and ``services`` then carry the columns it reads)."""
    present = set(services[C.CATEGORY])
    chosen = [c for c in categories if c in present]
    if not chosen:
        raise DataError(
            f"coarse/full comparison: none of the categories {', '.join(categories)} has "
            "a service in the territory"
        )
    cells = cells[cells[C.POP_TOTAL] > 0]
    parts = []
    for category in chosen:
        tf = time_to_nearest(full, cells, services, category, snap=full_snap)
        tc = time_to_nearest(coarse, cells, services, category, snap=coarse_snap)
        parts.append(pd.DataFrame({
            C.CELL_ID: cells[C.CELL_ID].to_numpy(),
            "category": category,
            "population": cells[C.POP_TOTAL].to_numpy(float),
            "full_min": tf[C.TRAVEL_TIME_MIN].to_numpy(),
            "coarse_min": tc[C.TRAVEL_TIME_MIN].to_numpy(),
        }))
    out = pd.concat(parts, ignore_index=True)
    out["error_min"] = out["coarse_min"] - out["full_min"]
    out["band"] = band_of(out["full_min"])
    return out


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The population-weighted median (numpy's inverted-CDF weighted quantile)."""
    if len(values) == 0 or not np.sum(weights) > 0:
        return float("nan")
    return float(np.quantile(values, 0.5, weights=weights, method="inverted_cdf"))


def _errors(group: pd.DataFrame) -> pd.Series:
    ok = group["full_min"].notna() & group["coarse_min"].notna()
    g = group[ok]
    w = g["population"].to_numpy(float)
    err = g["error_min"].to_numpy(float)
    full = g["full_min"].to_numpy(float)
    has = len(g) > 0 and w.sum() > 0
    return pd.Series({
        "cells": len(g),
        "population": float(w.sum()),
        "unreached_population": float(group.loc[~ok, "population"].sum()),
        "mean_full_min": float(np.average(full, weights=w)) if has else np.nan,
        "mean_coarse_min": float(np.average(g["coarse_min"], weights=w)) if has else np.nan,
        "mean_signed_error_min": float(np.average(err, weights=w)) if has else np.nan,
        "mean_signed_error_pct": float(100 * (w * err).sum() / (w * full).sum())
        if has and (w * full).sum() > 0 else np.nan,
        "median_abs_error_min": weighted_median(np.abs(err), w),
        "p90_abs_error_min": float(np.quantile(np.abs(err), 0.9, weights=w,
                                               method="inverted_cdf")) if has else np.nan,
    })


def error_table(times: pd.DataFrame, by: str) -> pd.DataFrame:
    """Population-weighted errors grouped by ``by`` (``"band"`` or ``"category"``), plus
    an ``all`` row. Pairs unreached on either network are left out of the errors and
    counted in ``unreached_population``."""
    if by not in ("band", "category"):
        raise DataError(f"error_table: by must be 'band' or 'category', got {by!r}")
    rows = [_errors(g).rename(str(k)) for k, g in times.groupby(by, observed=True, sort=True)]
    rows.append(_errors(times).rename("all"))
    table = pd.DataFrame(rows)
    table.index.name = by
    table = table.reset_index()
    table["cells"] = table["cells"].astype(int)
    return table


@dataclass(frozen=True)
class Comparison:
    """Coarse against full network on one territory."""

    times: pd.DataFrame
    by_band: pd.DataFrame
    by_category: pd.DataFrame
    full_edges: int
    coarse_edges: int


def compare_networks(
    full: RoadNetwork,
    coarse: RoadNetwork,
    cells: pd.DataFrame,
    services: pd.DataFrame,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    *,
    full_snap: SnapOptions = DEFAULT_SNAP,
    coarse_snap: SnapOptions = DEFAULT_SNAP,
) -> Comparison:
    """Times on both networks and their error tables (by band and by category)."""
    times = paired_times(full, coarse, cells, services, categories,
                         full_snap=full_snap, coarse_snap=coarse_snap)
    return Comparison(
        times=times,
        by_band=error_table(times, "band"),
        by_category=error_table(times, "category"),
        full_edges=full.n_edges,
        coarse_edges=coarse.n_edges,
    )


def read_heldout(path: str | Path | None = None) -> pd.DataFrame | None:
    """The calibration's held-out errors, or ``None`` when the calibration has not run.

    The file is the calibration harness's; whatever columns it has are kept (``region``,
    ``band``, ``n``, ``median_abs_error_min``, ``mean_signed_error_pct``, ...).
    """
    path = Path(path) if path is not None else project_data_dir() / HELDOUT_FILE
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV table of held-out errors ({exc})") from exc
    if table.empty:
        raise DataError(f"{path}: no rows; expected one per region and time band")
    return table


#: Column names the calibration harness may use, by meaning (first found wins).
_SIGNED = ("mean_signed_error_pct", "mean_signed_pct")
_ABS_MIN = ("median_abs_error_min", "median_abs_min")


def _first(table: pd.DataFrame, names: Sequence[str]) -> str | None:
    return next((n for n in names if n in table.columns), None)


@dataclass(frozen=True)
class HeldoutSummary:
    """The held-out errors by band (rows: bands, columns: regions) and the differences
    of the population shares beyond a threshold, in points (rows: thresholds)."""

    signed_pct: pd.DataFrame
    median_abs_min: pd.DataFrame
    share_diff_pts: pd.DataFrame | None


def heldout_summary(table: pd.DataFrame) -> HeldoutSummary | None:
    """Pivot the calibration's held-out table for the report, or ``None`` when its
    columns are not the expected ones (the raw table is then shown as it is).

    Rows of the ``heldout`` model (when a ``model`` column exists) and of the
    ``band`` statistic (when a ``statistic`` column exists) give, per time band and
    region, the mean signed error (%) and the median absolute error (min); rows of the
    ``share`` statistic give the difference of the shares beyond each threshold.
    """
    signed, mae = _first(table, _SIGNED), _first(table, _ABS_MIN)
    if signed is None or mae is None or not {"region", "band"} <= set(table.columns):
        return None
    t = table
    if "model" in t.columns and (t["model"] == "heldout").any():
        t = t[t["model"] == "heldout"]
    bands = t[t["statistic"] == "band"] if "statistic" in t.columns else t
    bands = bands[bands["band"].isin(BAND_LABELS)]
    if "n" in bands.columns:
        bands = bands[pd.to_numeric(bands["n"], errors="coerce") > 0]
    if bands.empty:
        return None
    order = [b for b in BAND_LABELS if b in set(bands["band"])]

    def pivot(col: str) -> pd.DataFrame:
        p = bands.pivot_table(index="band", columns="region", values=col, aggfunc="first")
        return p.reindex(order)

    shares = None
    if {"statistic", "beyond_min", "diff_pts"} <= set(t.columns):
        s = t[t["statistic"] == "share"]
        if len(s):
            shares = s.pivot_table(index="beyond_min", columns="region", values="diff_pts",
                                   aggfunc="first")
            if "tolerance_pts" in s.columns:
                shares["tolerance"] = s.groupby("beyond_min")["tolerance_pts"].first()
    return HeldoutSummary(pivot(signed), pivot(mae), shares)
