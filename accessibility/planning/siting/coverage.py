"""The covering models: MCLP, LSCP and p-center, each solved to a proven optimum.

Owns: :func:`mclp` (most weight within a threshold), :func:`lscp` (fewest sites
covering everyone) and :func:`p_center` (least worst time: a bisection over covering
problems).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from accessibility.core import columns as col
from accessibility.core.errors import DataError
from accessibility.planning.siting import _search
from accessibility.planning.siting._common import (
    Costs,
    Problem,
    SitingResult,
    Weights,
    aggregate_bool,
    fold,
    nearest_assignment,
    no_site_within,
    not_reachable_by_p,
    problem,
    result,
)
from accessibility.planning.siting._highs import solve_lp, solve_mip
from accessibility.planning.siting._inputs import (
    CostMatrix,
    as_cost_matrix,
    check_p,
    check_threshold,
    existing_positions,
)


def mclp(
    costs: Costs,
    weights: Weights,
    p: int,
    threshold_min: float,
    *,
    existing: Sequence[Hashable] = (),
    time_limit_s: float | None = None,
) -> SitingResult:
    """Open ``p`` new sites maximising the weight within ``threshold_min`` minutes.

    Parameters are those of :func:`p_median` (no capacities); a demand point is
    covered when an open site (new or existing) is at most ``threshold_min`` away.

    Returns
    -------
    SitingResult
        ``objective`` is the covered weight, existing sites included; the assignment
        gives each point's nearest open site and ``covered``.
    """
    started = time.perf_counter()
    model = "mclp"
    threshold = check_threshold(threshold_min)
    pb = problem(costs, weights, existing, model)
    check_p(p, len(pb.free), len(pb.existing))
    cover = pb.d <= threshold
    if not cover[:, pb.free].any():
        raise no_site_within(model, pb, threshold)
    by_existing = cover[:, pb.existing].any(axis=1)
    rest = ~by_existing & (pb.w > 0) & cover[:, pb.free].any(axis=1)
    u, wu = aggregate_bool(~cover[rest][:, pb.free], pb.w[rest])
    params: dict[str, Any] = {
        "p": int(p),
        "threshold_min": threshold,
        "n_demand": len(pb.d),
        "n_candidates": pb.cm.shape[1],
        "n_demand_aggregated": len(u),
    }
    size = _search.enumeration_size(len(pb.free), p, len(u))
    if size <= min(_search.ENUMERATION_BUDGET, _search.COVERAGE_ENUMERATION_BUDGET):
        # minimise the uncovered weight: time 1 = not covered, 0 = covered
        chosen, _ = _search.enumerate_best(u.astype(float), p, _search.median_score(wu))
        method = "enumeration"
    else:
        chosen, method = _mclp_exact(~u, wu, p, time_limit_s)
    new_cols = pb.free[list(chosen)]
    assignment = nearest_assignment(pb, np.concatenate([pb.existing, new_cols]), threshold)
    objective = float(pb.w @ assignment[col.COVERED].to_numpy())
    return result(model, pb, new_cols, objective, assignment, method, started, params)


def _mclp_exact(
    cover: np.ndarray, w: np.ndarray, p: int, time_limit_s: float | None
) -> tuple[list[int], str]:
    """Exact MCLP on aggregated coverage rows (positive weights), with exact reductions.

    1. Dominated candidates (coverage set inside another's) leave: swapping one for its
       dominator never loses coverage. With at most ``p`` left, they cover all there is.
    2. Greedy + interchange gives a solution (value ``best``); the LP duals give the
       Lagrangian bound of :func:`_search.coverage_reduction`, which proves ``best``
       optimal when it meets it, else closes and fixes candidates.
    3. The sets of the undecided candidates are enumerated if few, else HiGHS solves
       the MIP on them.
    """
    n = cover.shape[1]
    keep = np.flatnonzero(~_search.dominated_columns(cover))
    if len(keep) <= p:
        pad = [j for j in range(n) if j not in set(keep.tolist())][: p - len(keep)]
        return sorted(keep.tolist() + pad), "dominance (every coverable point covered)"
    sub, ws = aggregate_bool(cover[:, keep], w)
    detail = f"{n - len(keep)} dominated candidate(s) dropped"
    uncovered = (~sub).astype(float)
    ms, ns = sub.shape
    a, lower, upper = _mclp_rows(sub, p)
    x, duals = solve_lp(
        np.concatenate([np.zeros(ns), ws]), a, lower, upper, np.zeros(ns + ms),
        np.ones(ns + ms), maximize=True, what="mclp",
    )  # fmt: skip
    # two solutions: greedy + interchange, and the LP's p largest y, interchanged
    heuristic, missed = _search.greedy_interchange(uncovered, ws, p)
    rounded = np.argsort(-x[:ns], kind="stable")[:p].tolist()
    rounded, missed_lp = _search.interchange(
        uncovered, ws, rounded, float(ws @ uncovered[:, rounded].min(axis=1))
    )
    if missed_lp < missed:
        heuristic, missed = rounded, missed_lp
    best = float(ws.sum() - missed)
    ub, closed, fixed = _search.coverage_reduction(sub, ws, p, np.abs(duals[1:]), best)
    if ub <= best + 1e-9 * max(1.0, abs(best)):
        return sorted(keep[heuristic].tolist()), f"{detail}; LP bound proves a heuristic optimal"
    forced = np.flatnonzero(fixed)
    rest = np.flatnonzero(~closed & ~fixed)
    q = p - len(forced)
    detail += f"; LP bound fixes {len(forced)}, leaves {len(rest)} open"
    picked: list[int] = []
    if q > 0:
        left = ~sub[:, forced].any(axis=1)
        rows, wr = aggregate_bool(sub[left][:, rest], ws[left])
        if _search.enumeration_size(len(rest), q, len(rows)) <= _search.ENUMERATION_BUDGET:
            idx, _ = _search.enumerate_best((~rows).astype(float), q, _search.median_score(wr))
            detail += ", then enumeration"
        else:
            idx = _mclp_mip(rows, wr, q, time_limit_s)
            detail += ", then HiGHS MIP"
        picked = rest[list(idx)].tolist()
    return sorted(keep[forced.tolist() + picked].tolist()), detail


def _mclp_rows(cover: np.ndarray, p: int) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Rows of the MCLP model: ``Σ y = p`` then ``v_i - Σ_{j covers i} y_j <= 0``."""
    m, n = cover.shape
    ii, jj = np.nonzero(cover)
    rows = np.concatenate([np.zeros(n, int), 1 + np.arange(m), 1 + ii])
    cols = np.concatenate([np.arange(n), n + np.arange(m), jj])
    vals = np.concatenate([np.ones(n + m), -np.ones(len(ii))])
    a = sp.csr_array((vals, (rows, cols)), shape=(1 + m, n + m))
    lower = np.concatenate([[p], np.full(m, -np.inf)])
    upper = np.concatenate([[p], np.zeros(m)])
    return a, lower, upper


def _mclp_mip(cover: np.ndarray, w: np.ndarray, p: int, time_limit_s: float | None) -> list[int]:
    """max sum w_i v_i s.t. v_i <= sum_{j covers i} y_j, sum y = p; y binary, v in [0, 1]."""
    m, n = cover.shape
    a, lower, upper = _mclp_rows(cover, p)
    integer = np.concatenate([np.ones(n, np.int32), np.zeros(m, np.int32)])
    cost = np.concatenate([np.zeros(n), w])
    sol = solve_mip(
        cost, a, lower, upper, np.zeros(n + m), np.ones(n + m), integer,
        maximize=True, time_limit_s=time_limit_s, what="mclp",
    )  # fmt: skip
    return np.flatnonzero(sol.x[:n] > 0.5).tolist()


# --- LSCP -----------------------------------------------------------------------------


def _min_cover(cover: np.ndarray, time_limit_s: float | None, what: str) -> list[int]:
    """min sum y s.t. every row of ``cover`` has an open site; y binary."""
    m, n = cover.shape
    if m == 0:
        return []
    ii, jj = np.nonzero(cover)
    a = sp.csr_array((np.ones(len(ii)), (ii, jj)), shape=(m, n))
    sol = solve_mip(
        np.ones(n), a, np.ones(m), np.full(m, np.inf), np.zeros(n), np.ones(n),
        np.ones(n, np.int32), time_limit_s=time_limit_s, what=what,
    )  # fmt: skip
    return np.flatnonzero(sol.x > 0.5).tolist()


def lscp(
    costs: Costs,
    threshold_min: float,
    *,
    existing: Sequence[Hashable] = (),
    time_limit_s: float | None = None,
) -> SitingResult:
    """Fewest new sites so that every demand point is within ``threshold_min``.

    Parameters
    ----------
    costs
        As for :func:`p_median` (a long table takes its demand ids from its origins).
    threshold_min
        Coverage threshold in minutes.
    existing
        Candidate ids that are always open (they cover without being counted).

    Raises
    ------
    DataError
        When a demand point has no candidate (nor existing site) within the threshold;
        the message names the points, their nearest candidate's time and the threshold.

    Returns
    -------
    SitingResult
        ``objective`` is the number of new sites.
    """
    started = time.perf_counter()
    model = "lscp"
    threshold = check_threshold(threshold_min)
    cm = costs if isinstance(costs, CostMatrix) else as_cost_matrix(costs, np.empty(0))
    ex = existing_positions(existing, cm.candidate_ids)
    d = np.where(np.isnan(cm.times), np.inf, cm.times)
    nearest = d.min(axis=1) if d.shape[1] else np.full(d.shape[0], np.inf)
    out = nearest > threshold
    if out.any():
        worst = np.argsort(-nearest[out], kind="stable")
        ids = cm.demand_ids[out][worst]
        times = nearest[out][worst]
        listed = ", ".join(
            f"{i!r} ({'unreachable' if np.isinf(t) else f'{t:g} min'})"
            for i, t in zip(ids[:10], times[:10], strict=False)
        )
        more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
        raise DataError(
            f"{model}: {len(ids)} demand point(s) have no candidate site within the "
            f"threshold of {threshold:g} min; nearest candidate time: {listed}{more}"
        )
    pb = Problem(cm, d, np.ones(len(d)), np.ones(len(d), bool), ex,
                  np.setdiff1d(np.arange(cm.shape[1]), ex))  # fmt: skip
    cover = d <= threshold
    rest = ~cover[:, ex].any(axis=1)
    rows = np.unique(cover[rest][:, pb.free], axis=0)
    chosen = _min_cover(rows, time_limit_s, model)
    new_cols = pb.free[chosen]
    assignment = nearest_assignment(pb, np.concatenate([ex, new_cols]), threshold)
    params = {
        "threshold_min": threshold,
        "n_demand": cm.shape[0],
        "n_candidates": cm.shape[1],
        "n_demand_aggregated": len(rows),
    }
    return result(model, pb, new_cols, len(new_cols), assignment, "HiGHS MIP", started, params)


# --- p-center -------------------------------------------------------------------------


def p_center(
    costs: Costs,
    weights: Weights,
    p: int,
    *,
    existing: Sequence[Hashable] = (),
    time_limit_s: float | None = None,
) -> SitingResult:
    """Open ``p`` new sites minimising the largest travel time.

    Only demand points of positive weight count (a cell with nobody in it does not
    set the worst time). Parameters are those of :func:`p_median` (no capacities).

    The optimum radius is one of the matrix's times: the smallest time ``r`` for which
    the set-cover problem "every point within ``r``" needs at most ``p`` new sites. It
    is found by bisection over the distinct times between a lower bound (the largest
    nearest-candidate time) and the time of the greedy + interchange solution, each
    step an exact set-cover MIP; by enumeration when the site sets are few.

    Returns
    -------
    SitingResult
        ``objective`` is the largest travel time in minutes.
    """
    started = time.perf_counter()
    model = "p-center"
    pb = problem(costs, weights, existing, model)
    check_p(p, len(pb.free), len(pb.existing))
    folded, _ = fold(pb)
    positive = pb.w > 0
    u = np.unique(folded[positive], axis=0)
    params: dict[str, Any] = {
        "p": int(p),
        "n_demand": len(pb.d),
        "n_candidates": pb.cm.shape[1],
        "n_demand_aggregated": len(u),
    }
    if _search.enumeration_size(len(pb.free), p, len(u)) <= _search.ENUMERATION_BUDGET:
        chosen, value = _search.enumerate_best(u, p, _search.center_score)
        if not np.isfinite(value):
            raise not_reachable_by_p(model, p)
        method = "enumeration"
    else:
        chosen, steps = _center_bisection(u, p, time_limit_s)
        method = f"HiGHS MIP (set-cover bisection, {steps} solve(s))"
    new_cols = pb.free[list(chosen)]
    assignment = nearest_assignment(pb, np.concatenate([pb.existing, new_cols]), None)
    objective = float(assignment[col.TRAVEL_TIME_MIN].to_numpy()[positive].max(initial=0.0))
    return result(model, pb, new_cols, objective, assignment, method, started, params)


def _center_bisection(u: np.ndarray, p: int, time_limit_s: float | None) -> tuple[list[int], int]:
    lower = float(u.min(axis=1).max())
    heuristic, _ = _search.greedy_interchange(u, np.ones(len(u)), p)
    upper = float(u[:, heuristic].min(axis=1).max())
    if not np.isfinite(upper):
        upper = float(u[np.isfinite(u)].max())
    values = np.unique(u[(u >= lower) & (u <= upper)])
    best: list[int] | None = heuristic if np.isfinite(u[:, heuristic].min(axis=1).max()) else None
    lo, hi, steps = 0, len(values) - 1, 0
    # invariant: values[hi + 1:] feasible (best holds the sites), values[:lo] infeasible
    while lo <= hi:
        mid = (lo + hi) // 2
        steps += 1
        chosen = _min_cover(u <= values[mid], time_limit_s, "p-center")
        if len(chosen) <= p:
            best, hi = chosen, mid - 1
        else:
            lo = mid + 1
    if best is None:
        raise not_reachable_by_p("p-center", p)
    # pad to exactly p sites (extra sites never make the largest time worse)
    extra = [j for j in range(u.shape[1]) if j not in best][: p - len(best)]
    return sorted(best + extra), steps


__all__ = ["lscp", "mclp", "p_center"]
