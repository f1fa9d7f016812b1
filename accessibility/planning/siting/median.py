"""The p-median model (plain and capacitated), solved to a proven optimum.

Owns: :func:`p_median`: enumeration when the site sets are few, otherwise a Lagrangian
reduction then enumeration, or the HiGHS MIP (Elloumi's formulation; the classic one
with capacities).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from accessibility.core import columns as col
from accessibility.core.errors import DataError
from accessibility.planning.siting import _search
from accessibility.planning.siting._common import (
    Costs,
    Problem,
    SitingResult,
    Weights,
    aggregate,
    fold,
    nearest_assignment,
    not_reachable_by_p,
    problem,
    result,
)
from accessibility.planning.siting._highs import solve_mip
from accessibility.planning.siting._inputs import check_p, per_id


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
    pb = problem(costs, weights, existing, model)
    check_p(p, len(pb.free), len(pb.existing))
    params: dict[str, Any] = {"p": int(p), "n_demand": len(pb.d), "n_candidates": pb.cm.shape[1]}
    if capacities is not None:
        return _capacitated(pb, p, capacities, params, started, time_limit_s)

    folded, _ = fold(pb)
    positive = pb.w > 0
    u, wu, _ = aggregate(folded[positive], pb.w[positive])
    params["n_demand_aggregated"] = len(u)
    chosen, value, method = _median_exact(u, wu, p, time_limit_s)
    if not np.isfinite(value):
        raise not_reachable_by_p(model, p)
    new_cols = pb.free[list(chosen)]
    assignment = nearest_assignment(pb, np.concatenate([pb.existing, new_cols]), None)
    objective = float(pb.w @ assignment[col.TRAVEL_TIME_MIN].to_numpy())
    return result(model, pb, new_cols, objective, assignment, method, started, params)


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
    pb: Problem,
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
    u, wu, inverse = aggregate(pb.d[positive], pb.w[positive])
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
    return result(
        model, pb, new_cols, objective, assignment.reset_index(drop=True),
        "HiGHS MIP (classic formulation)", started, params, sol.status,
    )  # fmt: skip
