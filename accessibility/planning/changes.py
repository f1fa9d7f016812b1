"""Before/after arithmetic of a site scenario, on plain arrays and tables.

Owns: :func:`nearest_time` (each cell's time to its nearest open site),
:func:`change_summary` (population-weighted before/after figures per group),
:func:`paired_summary` (two states of the same cells, same cells and same weights) and
:func:`rank_sites` (candidates each added alone). Pure functions: no network, no files.

Unreachable cells (NaN times) are never silently dropped: means are taken over the
cells that reach a site, and the population of the others is reported beside them
(``unreachable_pop_before`` / ``unreachable_pop_after``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from accessibility.core import columns as C

#: Thresholds of the "population within" figures, minutes.
MINUTES = (10, 20, 30)

TIME_BEFORE = "time_before_min"
TIME_AFTER = "time_after_min"


def nearest_time(times: np.ndarray, columns: np.ndarray | Sequence[int]) -> np.ndarray:
    """Row-wise minimum over ``columns`` of a (cells × sites) matrix; NaN when none is
    reachable (or no column is given)."""
    cols = np.asarray(columns, dtype=int)
    if cols.size == 0:
        return np.full(times.shape[0], np.nan)
    t = np.where(np.isnan(times[:, cols]), np.inf, times[:, cols]).min(axis=1)
    return np.where(np.isinf(t), np.nan, t)


def within(t: np.ndarray, m: float) -> np.ndarray:
    return np.nan_to_num(t, nan=np.inf) <= m


def change_summary(
    table: pd.DataFrame,
    *,
    threshold_min: float,
    minutes: Sequence[float] = MINUTES,
    by: str | None = None,
) -> pd.DataFrame:
    """Population-weighted before/after figures, per group or for the whole table.

    Parameters
    ----------
    table
        One row per cell: ``pop_total``, ``time_before_min``, ``time_after_min`` (NaN:
        unreachable) and the ``by`` column when given.
    threshold_min
        Threshold of the ``newly_within`` / ``no_longer_within`` columns.
    minutes
        Thresholds of the ``within_<m>_before`` / ``within_<m>_after`` columns.
    by
        Group column (``commune_code``, ``epci_code``); None: one row for all.

    Returns
    -------
    pandas.DataFrame
        ``population``; ``mean_before_min`` / ``mean_after_min`` (weighted by population,
        over the cells that reach a site) each followed by ``unreachable_pop_before`` /
        ``unreachable_pop_after`` (the population of the cells that reach no site, left
        out of that mean), ``change_mean_min`` (after − before);
        ``max_before_min`` / ``max_after_min`` (over cells with inhabitants); population
        ``within_<m>_before`` / ``_after``; ``newly_within`` (within the threshold after
        but not before) and ``no_longer_within`` (the reverse), in inhabitants.
    """
    pop = table[C.POP_TOTAL].to_numpy(dtype=float)
    tb = table[TIME_BEFORE].to_numpy(dtype=float)
    ta = table[TIME_AFTER].to_numpy(dtype=float)
    keys = table[by].to_numpy() if by else np.zeros(len(table), dtype=int)
    cols: dict[str, np.ndarray] = {"population": pop}
    for name, t in (("before", tb), ("after", ta)):
        ok = np.isfinite(t)
        cols[f"_num_{name}"] = np.where(ok, t * pop, 0.0)
        cols[f"_den_{name}"] = np.where(ok, pop, 0.0)
        cols[f"max_{name}_min"] = np.where(ok & (pop > 0), t, -np.inf)
        cols[f"unreachable_pop_{name}"] = np.where(ok, 0.0, pop)
    for m in minutes:
        cols[f"within_{m:g}_before"] = np.where(within(tb, m), pop, 0.0)
        cols[f"within_{m:g}_after"] = np.where(within(ta, m), pop, 0.0)
    inside_b, inside_a = within(tb, threshold_min), within(ta, threshold_min)
    cols["newly_within"] = np.where(inside_a & ~inside_b, pop, 0.0)
    cols["no_longer_within"] = np.where(inside_b & ~inside_a, pop, 0.0)
    frame = pd.DataFrame(cols)
    frame["_key"] = keys
    agg = {c: ("max" if c.startswith("max_") else "sum") for c in cols}
    g = frame.groupby("_key", sort=True).agg(agg)
    out = pd.DataFrame(index=g.index)
    out["population"] = g["population"]
    for name in ("before", "after"):
        out[f"mean_{name}_min"] = g[f"_num_{name}"] / g[f"_den_{name}"].where(g[f"_den_{name}"] > 0)
        out[f"unreachable_pop_{name}"] = g[f"unreachable_pop_{name}"]
    out["change_mean_min"] = out["mean_after_min"] - out["mean_before_min"]
    for name in ("before", "after"):
        out[f"max_{name}_min"] = g[f"max_{name}_min"].replace(-np.inf, np.nan)
    for m in minutes:
        out[f"within_{m:g}_before"] = g[f"within_{m:g}_before"]
        out[f"within_{m:g}_after"] = g[f"within_{m:g}_after"]
    out["newly_within"] = g["newly_within"]
    out["no_longer_within"] = g["no_longer_within"]
    if by is None:
        return out.reset_index(drop=True)
    return out.rename_axis(by).reset_index()


def paired_summary(table: pd.DataFrame, *, by: str, threshold_min: float) -> pd.DataFrame:
    """Two states of the same cells (e.g. summer and winter) compared on the same cells
    with the same weights, per group.

    A change in a mean time must come from the roads and services, not from who is
    counted or which cells are left out: both means are taken over the cells that have
    a time in both states, each weighted by its *residents* (the same number in both);
    a cell with a time in one state only is left out of both means and its residents are
    reported as unreachable in the other. So when the second state only closes or slows
    down, no group's mean can fall. Visitors (seasonal populations) are reported beside,
    never mixed into the weights.

    Parameters
    ----------
    table
        One row per cell: the ``by`` column, ``residents``, ``visitors_before``,
        ``visitors_after``, ``time_before_min`` and ``time_after_min`` (NaN: no route).
    by
        Group column.
    threshold_min
        Threshold of the ``beyond_*`` columns (a cell with no route is beyond it).

    Returns
    -------
    pandas.DataFrame
        Indexed by group: ``mean_before_min``, ``mean_after_min`` (NaN when no cell of
        the group has a time in both states), ``unreachable_before`` /
        ``unreachable_after`` and ``beyond_before`` / ``beyond_after`` (residents),
        ``visitors_before`` / ``visitors_after`` and ``visitors_beyond_before`` /
        ``visitors_beyond_after`` (visitors, on their own).
    """
    res = table["residents"].to_numpy(dtype=float)
    tb = table[TIME_BEFORE].to_numpy(dtype=float)
    ta = table[TIME_AFTER].to_numpy(dtype=float)
    both = np.isfinite(tb) & np.isfinite(ta)
    cols = {
        "_nb": np.where(both, tb * res, 0.0),
        "_na": np.where(both, ta * res, 0.0),
        "_den": np.where(both, res, 0.0),
    }
    for name, t in (("before", tb), ("after", ta)):
        vis = table[f"visitors_{name}"].to_numpy(dtype=float)
        cols[f"unreachable_{name}"] = np.where(np.isfinite(t), 0.0, res)
        cols[f"beyond_{name}"] = np.where(within(t, threshold_min), 0.0, res)
        cols[f"visitors_{name}"] = vis
        cols[f"visitors_beyond_{name}"] = np.where(within(t, threshold_min), 0.0, vis)
    g = pd.DataFrame(cols).groupby(table[by].to_numpy(), sort=True).sum()
    den = g.pop("_den")
    out = pd.DataFrame({"mean_before_min": g.pop("_nb") / den.where(den > 0)})
    out["mean_after_min"] = g.pop("_na") / den.where(den > 0)
    return out.join(g).rename_axis(by)


def rank_sites(
    times: np.ndarray,
    before: np.ndarray,
    population: np.ndarray,
    site_ids: Sequence[Hashable],
    *,
    threshold_min: float,
) -> pd.DataFrame:
    """Rank candidate sites, each added alone to the existing ones.

    Parameters
    ----------
    times
        (cells × candidates) minutes, NaN unreachable.
    before
        Each cell's time to its nearest existing site (NaN: none reachable).
    population
        Each cell's population.
    site_ids
        The candidates' ids (columns of ``times``).
    threshold_min
        Threshold of ``newly_within``.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``newly_within`` (inhabitants brought within the threshold),
        ``mean_saved_min`` (minutes saved per inhabitant of the territory; a cell that
        reached no site before counts only in ``newly_within``), ``rank`` (1 = best:
        most ``newly_within``, then most ``mean_saved_min``), sorted by rank.
    """
    t = np.asarray(times, dtype=float)
    pop = np.asarray(population, dtype=float)
    b = np.asarray(before, dtype=float)
    inside_b = within(b, threshold_min)
    newly = ((np.nan_to_num(t, nan=np.inf) <= threshold_min) & ~inside_b[:, None]).T @ pop
    saved = np.where(np.isfinite(b)[:, None], np.clip(b[:, None] - t, 0, None), 0.0)
    saved = np.nan_to_num(saved, nan=0.0).T @ pop / pop.sum() if pop.sum() > 0 else saved[0] * 0
    out = pd.DataFrame({C.SITE_ID: list(site_ids), "newly_within": newly, "mean_saved_min": saved})
    out = out.sort_values(["newly_within", "mean_saved_min"], ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)
