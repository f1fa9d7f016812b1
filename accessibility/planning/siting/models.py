"""The siting models (p-median, MCLP, LSCP, p-center), each solved to a proven optimum."""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from accessibility.core import columns as col
from accessibility.core.errors import DataError
from accessibility.planning.siting import _search
from accessibility.planning.siting._highs import SolverError, solve_lp, solve_mip
from accessibility.planning.siting._inputs import (
    CostMatrix,
    as_cost_matrix,
    check_p,
    check_threshold,
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


# --- shared steps ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """A validated problem: the matrix with ``inf`` for unreachable, rows kept, columns."""

    cm: CostMatrix
    d: np.ndarray  # kept rows × all candidates, inf = unreachable
    w: np.ndarray  # weights of the kept rows
    keep: np.ndarray  # boolean mask of kept rows in cm
    existing: np.ndarray  # column positions of existing sites
    free: np.ndarray  # column positions of the other candidates


def _problem(costs: Costs, weights: Weights, existing: Sequence[Hashable], model: str) -> _Problem:
    cm = as_cost_matrix(costs, weights)
    w = per_id(weights, cm.demand_ids, name="weights", of="demand point")
    ex = existing_positions(existing, cm.candidate_ids)
    keep = drop_unreachable(cm.times, w, cm.demand_ids, model=model)
    d = np.where(np.isnan(cm.times[keep]), np.inf, cm.times[keep])
    free = np.setdiff1d(np.arange(cm.shape[1]), ex)
    return _Problem(cm, d, w[keep], keep, ex, free)


def _fold(pb: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """Free-candidate matrix with each row capped at its nearest existing site.

    With at least one new site open, ``min(e_i, min_S d_ij) = min_S min(d_ij, e_i)``,
    so the existing sites leave the model. Returns the matrix and ``e`` (inf if none).
    """
    e = pb.d[:, pb.existing].min(axis=1) if len(pb.existing) else np.full(len(pb.d), np.inf)
    return np.minimum(pb.d[:, pb.free], e[:, None]), e


def _aggregate(rows: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge identical rows, summing their weights. Returns rows, weights, inverse."""
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return unique, np.bincount(inverse, weights=w, minlength=len(unique)), inverse


def _aggregate_bool(rows: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge identical boolean rows (compared as packed bytes: fast), summing weights."""
    if len(rows) == 0:
        return rows, w
    packed = np.ascontiguousarray(np.packbits(rows, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first], np.bincount(inverse.ravel(), weights=w, minlength=len(first))


def _nearest_assignment(
    pb: _Problem, open_cols: np.ndarray, threshold: float | None
) -> pd.DataFrame:
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


def _result(
    model: str,
    pb: _Problem,
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


def _not_reachable_by_p(model: str, p: int) -> DataError:
    return DataError(
        f"{model}: no set of {p} new site(s) (with the existing ones) reaches every demand "
        "point: some demand points are cut off from most candidates (NaN times); add "
        "existing sites, raise p, or drop those points"
    )


# --- p-median -------------------------------------------------------------------------


def p_median(
    costs: Costs,
    weights: Weights,
    p: int,
    *,
    existing: Sequence[Hashable] = (),
    capacities: pd.Series | np.ndarray | None = None,
    time_limit_s: float | None = None,
) -> SitingResult:
    """Open ``p`` new sites minimising the total weighted travel time.

    Parameters
    ----------
    costs
        A :class:`CostMatrix`, a long table (``origin_id``, ``destination_id``,
        ``travel_time_min``; demand ids from ``weights``' index) or a 2-D array (ids are
        positions). NaN means unreachable: a demand point reaching no candidate is left
        out with a :class:`~accessibility.DataWarning` naming it and its weight; a pair
        that is NaN can never serve.
    weights
        Demand weight (population) per demand point: a Series indexed by demand id, or
        an array in row order. Finite and >= 0.
    p
        Number of new sites, >= 1, among the candidates that are not ``existing``.
    existing
        Candidate ids that are always open and do not count in ``p``.
    capacities
        Optional capacity per candidate (same unit as ``weights``), by id or in column
        order. Demand may then be split between sites (as in spopt's capacitated
        p-median); checked first: total demand must not exceed the largest capacity
        that ``p`` new sites and the existing ones can offer.
    time_limit_s
        Optional limit for the MIP solver; reaching it raises :class:`SolverError`.

    Returns
    -------
    SitingResult
        ``objective`` is the total of weight × minutes to the assigned site.
    """
    started = time.perf_counter()
    model = "p-median" if capacities is None else "capacitated p-median"
    pb = _problem(costs, weights, existing, model)
    check_p(p, len(pb.free), len(pb.existing))
    params: dict[str, Any] = {"p": int(p), "n_demand": len(pb.d), "n_candidates": pb.cm.shape[1]}
    if capacities is not None:
        return _capacitated(pb, p, capacities, params, started, time_limit_s)

    folded, _ = _fold(pb)
    positive = pb.w > 0
    u, wu, _ = _aggregate(folded[positive], pb.w[positive])
    params["n_demand_aggregated"] = len(u)
    chosen, value, method = _median_exact(u, wu, p, time_limit_s)
    if not np.isfinite(value):
        raise _not_reachable_by_p(model, p)
    new_cols = pb.free[list(chosen)]
    assignment = _nearest_assignment(pb, np.concatenate([pb.existing, new_cols]), None)
    objective = float(pb.w @ assignment[col.TRAVEL_TIME_MIN].to_numpy())
    return _result(model, pb, new_cols, objective, assignment, method, started, params)


def _radius_model(
    u: np.ndarray, w: np.ndarray, radius: np.ndarray, p: int
) -> tuple[np.ndarray, sp.csr_array, np.ndarray, float, int]:
    """Build the p-median MIP with each row's times capped at ``radius``.

    Formulation (Elloumi 2010, chained form): for demand point ``i`` let
    ``d_1 < ... < d_K`` be its distinct times up to ``radius_i``. ``z_k`` in [0, 1]
    is "no open site within ``d_k``"; its cost is ``w_i (d_{k+1} - d_k)``, and with
    ``Y_k`` the sum of the ``y_j`` at time exactly ``d_k``::

        z_1 + Y_1 >= 1,   z_k - z_{k-1} + Y_k >= 0 (k = 2..K-1)

    plus ``Y_K - z_{K-1} >= 0`` ("some site within the radius") when the rest of the
    row is unreachable. The capped cost is a lower bound of the true one, equal to it
    when a site lies within the radius. Returns cost, matrix, row lower bounds, the
    constant term and the number of ``y`` columns; row 0 is ``sum y = p``.
    """
    m, n = u.shape
    order = np.argsort(u, axis=1, kind="stable")
    s = np.take_along_axis(u, order, axis=1)
    within = s <= radius[:, None]
    new = np.ones_like(within)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    rank = np.cumsum(new, axis=1) - 1
    k = np.where(within, rank, -1).max(axis=1) + 1  # distinct times within the radius
    finite_max = np.where(np.isfinite(u), u, -np.inf).max(axis=1)
    hard = np.isinf(u).any(axis=1) & (radius >= finite_max)
    nz = k - 1
    nrows = nz + hard
    zoff = n + np.concatenate([[0], np.cumsum(nz)[:-1]])
    roff = 1 + np.concatenate([[0], np.cumsum(nrows)[:-1]])
    n_rows = 1 + int(nrows.sum())

    firsts = within & new
    row_of = np.nonzero(firsts)[0]
    dvals = s[firsts]
    same = row_of[1:] == row_of[:-1]
    zcost = (w[row_of[1:]] * (dvals[1:] - dvals[:-1]))[same]
    cost = np.concatenate([np.zeros(n), zcost])
    offset = float(w @ s[:, 0])

    # y entries
    ii, ss = np.nonzero(within)
    r = rank[ii, ss]
    j = order[ii, ss]
    in_chain = r < k[ii] - 1
    in_hard = (r == k[ii] - 1) & hard[ii]
    y_rows = np.concatenate([roff[ii[in_chain]] + r[in_chain], roff[ii[in_hard]] + nz[ii[in_hard]]])
    y_cols = np.concatenate([j[in_chain], j[in_hard]])
    # z entries: +1 in its own row, -1 in the next row of the same demand point
    zi = np.repeat(np.arange(m), nz)
    zk = np.arange(len(zi)) - np.repeat(zoff - n, nz)  # 0-based k
    zcols = n + np.arange(len(zi))
    nxt = zk + 1 < nrows[zi]
    rows = np.concatenate([np.zeros(n, int), y_rows, roff[zi] + zk, roff[zi[nxt]] + zk[nxt] + 1])
    cols = np.concatenate([np.arange(n), y_cols, zcols, zcols[nxt]])
    vals = np.concatenate([np.ones(n + len(y_rows) + len(zi)), -np.ones(int(nxt.sum()))])
    a = sp.csr_array((vals, (rows, cols)), shape=(n_rows, n + len(zi)))
    lower = np.zeros(n_rows)
    lower[0] = p
    lower[roff[nrows > 0]] = 1.0
    return cost, a, lower, offset, n


def _largest_enumerable(p: int, m: int) -> int:
    """Most candidates whose p-subsets can be enumerated within the budget."""
    n = p
    while _search.enumeration_size(n + 1, p, m) <= _search.ENUMERATION_BUDGET and n < 100_000:
        n += 1
    return n


def _median_exact(
    u: np.ndarray, w: np.ndarray, p: int, time_limit_s: float | None
) -> tuple[list[int], float, str]:
    """Exact p-median on aggregated rows: enumeration, after a Lagrangian reduction if needed.

    1. Few site sets: enumerate them all.
    2. Otherwise greedy + interchange gives an upper bound, Lagrangian bounds close the
       candidates that are in no optimal solution and fix those in all of them (see
       :func:`_search.lagrangian_reduction`); the sets of what is left are enumerated.
    3. If still too many are left, the reduced problem goes to the HiGHS MIP.
    """
    m, n = u.shape
    score = _search.median_score(w)
    if _search.enumeration_size(n, p, m) <= _search.ENUMERATION_BUDGET:
        chosen, value = _search.enumerate_best(u, p, score)
        return list(chosen), value, "enumeration"
    heuristic, _ = _search.greedy_interchange(u, w, p)
    with np.errstate(invalid="ignore"):
        c = w[:, None] * u
    _, _, closed, fixed = _search.lagrangian_reduction(
        c, p, heuristic, enough=_largest_enumerable(p, m)
    )
    forced = np.flatnonzero(fixed)
    rest = np.flatnonzero(~closed & ~fixed)
    q = p - len(forced)
    detail = f"Lagrangian reduction to {len(forced)} fixed + {len(rest)} open candidates"
    if q == 0:
        sub_chosen: list[int] = []
    else:
        base = u[:, forced].min(axis=1) if len(forced) else np.full(m, np.inf)
        sub = np.minimum(u[:, rest], base[:, None])
        if _search.enumeration_size(len(rest), q, m) <= _search.ENUMERATION_BUDGET:
            picked, _ = _search.enumerate_best(sub, q, score)
            method = f"{detail}, then enumeration"
        else:
            picked = _median_mip(sub, w, q, time_limit_s)
            method = f"{detail}, then HiGHS MIP"
        sub_chosen = rest[list(picked)].tolist()
    chosen = sorted(forced.tolist() + sub_chosen)
    value = float(w @ u[:, chosen].min(axis=1))
    return chosen, value, method if q else detail


def _median_mip(u: np.ndarray, w: np.ndarray, p: int, time_limit_s: float | None) -> list[int]:
    """Solve the p-median MIP (Elloumi's formulation) with HiGHS; return the columns."""
    finite_max = np.where(np.isfinite(u), u, -np.inf).max(axis=1)
    cost, a, lower, offset, n = _radius_model(u, w, finite_max, p)
    upper = np.full(len(lower), np.inf)
    upper[0] = p
    integer = np.zeros(len(cost), dtype=np.int32)
    integer[:n] = 1
    sol = solve_mip(
        cost, a, lower, upper, np.zeros(len(cost)), np.ones(len(cost)), integer,
        offset=offset, time_limit_s=time_limit_s, what="p-median",
    )  # fmt: skip
    return np.flatnonzero(sol.x[:n] > 0.5).tolist()


def _capacitated(
    pb: _Problem,
    p: int,
    capacities: pd.Series | np.ndarray,
    params: dict[str, Any],
    started: float,
    time_limit_s: float | None,
) -> SitingResult:
    """Capacitated p-median, classic formulation with splittable demand."""
    model = "capacitated p-median"
    cap = per_id(capacities, pb.cm.candidate_ids, name="capacities", of="candidate")
    total = float(pb.w.sum())
    best = float(cap[pb.existing].sum() + np.sort(cap[pb.free])[::-1][:p].sum())
    if total > best:
        raise DataError(
            f"{model}: total demand is greater than the capacity that {p} new site(s) and "
            f"the {len(pb.existing)} existing one(s) can offer ({total:g} > {best:g})"
        )
    positive = pb.w > 0
    u, wu, inverse = _aggregate(pb.d[positive], pb.w[positive])
    m, n = u.shape
    ii, jj = np.nonzero(np.isfinite(u))
    nx = len(ii)
    xcols = n + np.arange(nx)
    # rows: [0] sum of new y = p; [1..m] sum_j x_ij = 1; [m+1..m+n] capacity; then x <= y
    is_new = np.zeros(n, bool)
    is_new[pb.free] = True
    r0 = (np.zeros(int(is_new.sum()), int), np.flatnonzero(is_new), np.ones(int(is_new.sum())))
    r1 = (1 + ii, xcols, np.ones(nx))
    r2 = (np.concatenate([1 + m + jj, 1 + m + np.arange(n)]), np.concatenate([xcols, np.arange(n)]),
          np.concatenate([wu[ii], -cap]))  # fmt: skip
    base = 1 + m + n
    r3 = (np.concatenate([base + np.arange(nx)] * 2), np.concatenate([xcols, jj]),
          np.concatenate([np.ones(nx), -np.ones(nx)]))  # fmt: skip
    rows, cols, vals = (np.concatenate(parts) for parts in zip(r0, r1, r2, r3, strict=True))
    a = sp.csr_array((vals, (rows, cols)), shape=(base + nx, n + nx))
    lower = np.concatenate([[p], np.ones(m), np.full(n + nx, -np.inf)])
    upper = np.concatenate([[p], np.ones(m), np.zeros(n + nx)])
    col_lower = np.zeros(n + nx)
    col_lower[pb.existing] = 1.0
    integer = np.concatenate([np.ones(n, np.int32), np.zeros(nx, np.int32)])
    cost = np.concatenate([np.zeros(n), wu[ii] * u[ii, jj]])
    sol = solve_mip(
        cost, a, lower, upper, col_lower, np.ones(n + nx), integer,
        time_limit_s=time_limit_s, what=model,
    )  # fmt: skip
    new_cols = np.flatnonzero((sol.x[:n] > 0.5) & is_new)
    # assignment: each demand point takes its aggregated row's split
    x = sol.x[n:]
    used = x > 1e-9
    groups = pd.DataFrame({"g": ii[used], "j": jj[used], col.SHARE: x[used]})
    kept_ids = pb.cm.demand_ids[pb.keep]
    members = pd.DataFrame(
        {col.DEMAND_ID: kept_ids[positive], "g": inverse, "i": np.flatnonzero(positive)}
    )
    assignment = members.merge(groups, on="g").sort_values(["i", "j"])
    assignment[col.SITE_ID] = pb.cm.candidate_ids[assignment["j"].to_numpy()]
    assignment[col.TRAVEL_TIME_MIN] = pb.d[assignment["i"].to_numpy(), assignment["j"].to_numpy()]
    assignment = assignment[[col.DEMAND_ID, col.SITE_ID, col.TRAVEL_TIME_MIN, col.SHARE]]
    objective = float((wu[ii] * u[ii, jj] * x).sum())
    params["n_demand_aggregated"] = m
    return _result(
        model, pb, new_cols, objective, assignment.reset_index(drop=True),
        "HiGHS MIP (classic formulation)", started, params, sol.status,
    )  # fmt: skip


# --- MCLP -----------------------------------------------------------------------------


def _no_site_within(model: str, pb: _Problem, threshold: float) -> DataError:
    shortest = pb.d.min() if pb.d.size else np.nan
    return DataError(
        f"{model}: no candidate site is within the threshold of {threshold:g} min of any "
        f"demand point (the shortest travel time is {shortest:g} min)"
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
    pb = _problem(costs, weights, existing, model)
    check_p(p, len(pb.free), len(pb.existing))
    cover = pb.d <= threshold
    if not cover[:, pb.free].any():
        raise _no_site_within(model, pb, threshold)
    by_existing = cover[:, pb.existing].any(axis=1)
    rest = ~by_existing & (pb.w > 0) & cover[:, pb.free].any(axis=1)
    u, wu = _aggregate_bool(~cover[rest][:, pb.free], pb.w[rest])
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
    assignment = _nearest_assignment(pb, np.concatenate([pb.existing, new_cols]), threshold)
    objective = float(pb.w @ assignment[col.COVERED].to_numpy())
    return _result(model, pb, new_cols, objective, assignment, method, started, params)


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
    sub, ws = _aggregate_bool(cover[:, keep], w)
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
        rows, wr = _aggregate_bool(sub[left][:, rest], ws[left])
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
    pb = _Problem(cm, d, np.ones(len(d)), np.ones(len(d), bool), ex,
                  np.setdiff1d(np.arange(cm.shape[1]), ex))  # fmt: skip
    cover = d <= threshold
    rest = ~cover[:, ex].any(axis=1)
    rows = np.unique(cover[rest][:, pb.free], axis=0)
    chosen = _min_cover(rows, time_limit_s, model)
    new_cols = pb.free[chosen]
    assignment = _nearest_assignment(pb, np.concatenate([ex, new_cols]), threshold)
    params = {
        "threshold_min": threshold,
        "n_demand": cm.shape[0],
        "n_candidates": cm.shape[1],
        "n_demand_aggregated": len(rows),
    }
    return _result(model, pb, new_cols, len(new_cols), assignment, "HiGHS MIP", started, params)


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
    pb = _problem(costs, weights, existing, model)
    check_p(p, len(pb.free), len(pb.existing))
    folded, _ = _fold(pb)
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
            raise _not_reachable_by_p(model, p)
        method = "enumeration"
    else:
        chosen, steps = _center_bisection(u, p, time_limit_s)
        method = f"HiGHS MIP (set-cover bisection, {steps} solve(s))"
    new_cols = pb.free[list(chosen)]
    assignment = _nearest_assignment(pb, np.concatenate([pb.existing, new_cols]), None)
    objective = float(assignment[col.TRAVEL_TIME_MIN].to_numpy()[positive].max(initial=0.0))
    return _result(model, pb, new_cols, objective, assignment, method, started, params)


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
        raise _not_reachable_by_p("p-center", p)
    # pad to exactly p sites (extra sites never make the largest time worse)
    extra = [j for j in range(u.shape[1]) if j not in best][: p - len(best)]
    return sorted(best + extra), steps


__all__ = ["SitingResult", "SolverError", "lscp", "mclp", "p_center", "p_median"]
