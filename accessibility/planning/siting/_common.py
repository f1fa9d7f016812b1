"""What every siting model shares: the result type, the validated problem, the helpers.

Owns: :class:`SitingResult`, :class:`Problem` (a checked cost matrix with ``inf`` for
unreachable pairs and the demand that reaches no candidate set aside, with a warning)
and the steps the models share (folding the existing sites in, merging identical rows,
the nearest-site assignment, the result).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from accessibility.core import columns as col
from accessibility.core.errors import DataError
from accessibility.planning.siting._inputs import (
    CostMatrix,
    as_cost_matrix,
    drop_unreachable,
    existing_positions,
    per_id,
)

Costs = CostMatrix | pd.DataFrame | np.ndarray
Weights = pd.Series | np.ndarray


@dataclass(frozen=True)
class SitingResult:
    """The answer of a siting model.

    Attributes
    ----------
    model
        ``"p-median"``, ``"capacitated p-median"``, ``"mclp"``, ``"lscp"`` or ``"p-center"``.
    sites
        The new sites chosen (candidate ids, in the cost matrix's column order).
    existing
        The existing sites, open whatever the model says (not counted in ``p``).
    objective
        p-median: total weighted travel time (weight × minutes); MCLP: weight within the
        threshold, existing sites included; LSCP: number of new sites; p-center: the
        largest travel time (minutes) over demand points of positive weight.
    assignment
        One row per demand point (several with capacities): ``demand_id``, ``site_id``
        (its nearest open site; NA when none reaches it), ``travel_time_min``, ``share``
        (fraction of its weight served there), and ``covered`` for MCLP and LSCP.
    status
        The solver's status (always ``"Optimal"``: anything else raises).
    method
        How the optimum was proven: ``"enumeration"`` or ``"HiGHS MIP"`` (with details).
    solve_time_s
        Wall time of the whole call (checks, preprocessing, solving), in seconds.
    parameters
        The model's parameters (``p``, ``threshold_min``, sizes after preprocessing, ...).
    dropped
        Demand ids left out because no candidate reaches them (a warning names them).
    """

    model: str
    sites: tuple[Hashable, ...]
    existing: tuple[Hashable, ...]
    objective: float
    assignment: pd.DataFrame = field(repr=False)
    status: str
    method: str
    solve_time_s: float
    parameters: Mapping[str, Any]
    dropped: tuple[Hashable, ...] = ()

    @property
    def open_sites(self) -> tuple[Hashable, ...]:
        """Existing and new sites together."""
        return self.existing + self.sites


@dataclass(frozen=True)
class Problem:
    """A validated problem: the matrix with ``inf`` for unreachable, rows kept, columns."""

    cm: CostMatrix
    d: np.ndarray  # kept rows × all candidates, inf = unreachable
    w: np.ndarray  # weights of the kept rows
    keep: np.ndarray  # boolean mask of kept rows in cm
    existing: np.ndarray  # column positions of existing sites
    free: np.ndarray  # column positions of the other candidates


def problem(costs: Costs, weights: Weights, existing: Sequence[Hashable], model: str) -> Problem:
    cm = as_cost_matrix(costs, weights)
    w = per_id(weights, cm.demand_ids, name="weights", of="demand point")
    ex = existing_positions(existing, cm.candidate_ids)
    keep = drop_unreachable(cm.times, w, cm.demand_ids, model=model)
    d = np.where(np.isnan(cm.times[keep]), np.inf, cm.times[keep])
    free = np.setdiff1d(np.arange(cm.shape[1]), ex)
    return Problem(cm, d, w[keep], keep, ex, free)


def fold(pb: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Free-candidate matrix with each row capped at its nearest existing site.

    With at least one new site open, ``min(e_i, min_S d_ij) = min_S min(d_ij, e_i)``,
    so the existing sites leave the model. Returns the matrix and ``e`` (inf if none).
    """
    e = pb.d[:, pb.existing].min(axis=1) if len(pb.existing) else np.full(len(pb.d), np.inf)
    return np.minimum(pb.d[:, pb.free], e[:, None]), e


def aggregate(rows: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge identical rows, summing their weights. Returns rows, weights, inverse."""
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return unique, np.bincount(inverse, weights=w, minlength=len(unique)), inverse


def aggregate_bool(rows: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge identical boolean rows (compared as packed bytes: fast), summing weights."""
    if len(rows) == 0:
        return rows, w
    packed = np.ascontiguousarray(np.packbits(rows, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first], np.bincount(inverse.ravel(), weights=w, minlength=len(first))


def nearest_assignment(pb: Problem, open_cols: np.ndarray, threshold: float | None) -> pd.DataFrame:
    sub = pb.d[:, open_cols]
    k = np.argmin(sub, axis=1)
    t = sub[np.arange(len(sub)), k]
    reached = np.isfinite(t)
    site = pd.Series(pb.cm.candidate_ids[open_cols[k]], dtype=object).where(reached, None)
    out = pd.DataFrame(
        {
            col.DEMAND_ID: pb.cm.demand_ids[pb.keep],
            col.SITE_ID: site.to_numpy(),
            col.TRAVEL_TIME_MIN: np.where(reached, t, np.nan),
            col.SHARE: np.where(reached, 1.0, 0.0),
        }
    )
    if threshold is not None:
        out[col.COVERED] = t <= threshold
    return out


def result(
    model: str,
    pb: Problem,
    new_cols: Sequence[int],
    objective: float,
    assignment: pd.DataFrame,
    method: str,
    started: float,
    parameters: dict[str, Any],
    status: str = "Optimal",
) -> SitingResult:
    ids = pb.cm.candidate_ids
    return SitingResult(
        model=model,
        sites=tuple(ids[np.sort(np.asarray(new_cols, dtype=int))]),
        existing=tuple(ids[pb.existing]),
        objective=float(objective),
        assignment=assignment,
        status=status,
        method=method,
        solve_time_s=time.perf_counter() - started,
        parameters=parameters,
        dropped=tuple(pb.cm.demand_ids[~pb.keep]),
    )


def not_reachable_by_p(model: str, p: int) -> DataError:
    return DataError(
        f"{model}: no set of {p} new site(s) (with the existing ones) reaches every demand "
        "point: some demand points are cut off from most candidates (NaN times); add "
        "existing sites, raise p, or drop those points"
    )


def no_site_within(model: str, pb: Problem, threshold: float) -> DataError:
    shortest = pb.d.min() if pb.d.size else np.nan
    return DataError(
        f"{model}: no candidate site is within the threshold of {threshold:g} min of any "
        f"demand point (the shortest travel time is {shortest:g} min)"
    )
