"""An itinerant tour against one fixed site, on the same access indicators.

Owns: :func:`compare_with_fixed_site`.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from accessibility.core.errors import DataError, DataWarning
from accessibility.planning.tour_inputs import sample, time_matrix

if TYPE_CHECKING:
    from accessibility.planning.tours import TourPlan


def compare_with_fixed_site(
    times: np.ndarray | pd.DataFrame,
    population: pd.Series,
    tour: TourPlan,
    site_id: Hashable,
    *,
    minutes: Sequence[float] = (10, 20, 30),
    ids: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Compare an itinerant tour with one fixed site on the same access indicators.

    Travel times are read from each place of ``population`` (origin) to the fixed site
    or to the nearest bus stop of the week (destination).

    Parameters
    ----------
    times
        Travel times in minutes, as for :func:`~accessibility.planning.tours.plan_tour`.
    population
        Population of each place (usually each commune), indexed by its id in ``times``.
    tour
        The itinerant tour, from :func:`~accessibility.planning.tours.plan_tour`.
    site_id
        Id, in ``times``, of the fixed site.
    minutes
        Thresholds of the "population within" rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator``, ``fixed_site``, ``itinerant``; rows: the number of sites
        (1) and of distinct bus stops, the population within each threshold, the
        population of places that host the site or a stop, and the population-weighted
        mean travel time (minutes; places that reach both the site and a stop) and the
        population left out of those means (places that reach only one of them, or
        neither): unreachable places are reported, never silently dropped.

    Warns
    -----
    DataWarning
        Places that reach neither the site nor any stop, left out of the means.
    """
    index, matrix = time_matrix(times, ids)
    pop = _check_population(population, index, site_id, tour)
    orig = index.get_indexer(population.index)
    t_site = matrix[orig, index.get_loc(site_id)]
    t_bus = _nearest_stop(matrix, orig, index.get_indexer(tour.stop_ids))
    both = ~np.isnan(t_site) & ~np.isnan(t_bus)
    if (~both).any() and tour.stop_ids:
        lost = population.index[~both]
        warnings.warn(
            f"{len(lost)} place(s) cannot reach the fixed site or any bus stop and are left "
            f"out of the mean travel times: {sample(lost)}",
            DataWarning,
            stacklevel=2,
        )
    stops = set(tour.stop_ids)
    rows = [
        ("sites or distinct stops", 1.0, float(len(stops))),
        *(
            (f"population within {m:g} min", _within(pop, t_site, m), _within(pop, t_bus, m))
            for m in minutes
        ),
        (
            "population of places with the site or a stop",
            float(population.get(site_id, 0.0)),
            float(population[[i for i in population.index if i in stops]].sum()),
        ),
        (
            "mean travel time, population-weighted (min)",
            _mean(pop, t_site, both),
            _mean(pop, t_bus, both) if tour.stop_ids else float("nan"),
        ),
        (
            "population unreachable (left out of the means)",
            float(pop[~both].sum()),
            float(pop[~both].sum()),
        ),
    ]
    return pd.DataFrame(rows, columns=["indicator", "fixed_site", "itinerant"])


def _mean(pop: np.ndarray, t: np.ndarray, rows: np.ndarray) -> float:
    w = pop[rows]
    return float((w * t[rows]).sum() / w.sum()) if w.sum() > 0 else float("nan")


def _within(pop: np.ndarray, t: np.ndarray, m: float) -> float:
    return float(pop[np.nan_to_num(t, nan=np.inf) <= m].sum())


def _check_population(
    population: pd.Series, index: pd.Index, site_id: Hashable, tour: TourPlan
) -> np.ndarray:
    """The populations as floats, once every id is known to the matrix."""
    if not isinstance(population, pd.Series):
        raise DataError(
            f"population: expected a pandas Series indexed by place id, got "
            f"{type(population).__name__}"
        )
    if population.index.has_duplicates:
        dup = population.index[population.index.duplicated()].unique()
        raise DataError(f"population: duplicate place ids {sample(dup)}")
    pop = population.to_numpy(dtype=float)
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise DataError("population: values must be finite and non-negative")
    missing = [i for i in [*population.index, site_id, *tour.stop_ids] if i not in index]
    if missing:
        raise DataError(
            f"ids missing from the travel-time matrix: {sample(pd.Index(missing).unique())}"
        )
    return pop


def _nearest_stop(matrix: np.ndarray, orig: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Each origin's time to its nearest stop (NaN: no stop, or none reachable)."""
    if len(stops) == 0:
        return np.full(len(orig), np.nan)
    m = matrix[np.ix_(orig, stops)]
    t = np.min(np.where(np.isnan(m), np.inf, m), axis=1)
    t[np.isinf(t)] = np.nan
    return t
