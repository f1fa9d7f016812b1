"""Exact enumeration of small site sets, and the greedy + interchange heuristic.

Both work on a dense matrix ``d`` (demand × candidate, minutes, ``inf`` for
unreachable) whose existing sites are already folded in (see ``models._fold``).
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np

# Score of a block of candidate sets: ``m`` is (n_demand, k), the travel time of each
# demand point to its nearest open site under each of k sets; lower is better.
Score = Callable[[np.ndarray], np.ndarray]

# Largest number of (site set × demand point) evaluations done by enumeration; past it
# the Lagrangian reduction (p-median) or the MIP (MCLP) is faster. Measured with
# benchmarks/bench_siting.py: 5e7 evaluations take about 0.2 s here.
ENUMERATION_BUDGET = 50_000_000
# MCLP's MIP is fast (tens of ms on 391 × 53, p = 5): enumerate only tiny cases.
COVERAGE_ENUMERATION_BUDGET = 1_000_000


def enumeration_size(n_candidates: int, p: int, n_demand: int) -> int:
    """Number of evaluations that :func:`enumerate_best` would do."""
    return comb(n_candidates, p) * n_demand


def enumerate_best(d: np.ndarray, p: int, score: Score) -> tuple[tuple[int, ...], float]:
    """The best set of ``p`` columns of ``d`` under ``score``, by trying them all.

    The sets are visited in lexicographic order and the first best is kept, so the
    answer is deterministic. For each set of the first ``p - 1`` columns, the last
    column is scored for all the remaining candidates at once (one numpy block).
    """
    n = d.shape[1]
    best: tuple[tuple[int, ...], float] = ((), np.inf)

    def visit(prefix: tuple[int, ...], nearest: np.ndarray) -> None:
        nonlocal best
        start = prefix[-1] + 1 if prefix else 0
        if len(prefix) == p - 1:
            if start >= n:
                return
            block = np.minimum(nearest[:, None], d[:, start:])
            scores = score(block)
            k = int(np.argmin(scores))
            if scores[k] < best[1] or not best[0]:
                best = ((*prefix, start + k), float(scores[k]))
            return
        for j in range(start, n - (p - 1 - len(prefix)) + 1):
            visit((*prefix, j), np.minimum(nearest, d[:, j]))

    visit((), np.full(d.shape[0], np.inf))
    return best


def median_score(w: np.ndarray) -> Score:
    """Weighted total time (p-median); ``inf`` when a demand point is not reached."""

    def score(block: np.ndarray) -> np.ndarray:
        return w @ block

    return score


def center_score(block: np.ndarray) -> np.ndarray:
    """Largest time (p-center)."""
    return block.max(axis=0)


def coverage_score(w: np.ndarray, threshold: float) -> Score:
    """Minus the covered weight (MCLP), so that lower is better."""

    def score(block: np.ndarray) -> np.ndarray:
        return -(w @ (block <= threshold))

    return score


def greedy_interchange(d: np.ndarray, w: np.ndarray, p: int) -> tuple[list[int], float]:
    """A good p-median solution: greedy adds, then best-improvement swaps (Teitz–Bart).

    Used as the upper bound of the exact methods, never as an answer on its own.
    Each swap round scores all (closed, open) pairs with one
    (n_demand × n_candidates) block per open site.
    """
    nearest = np.full(d.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(p):
        scores = w @ np.minimum(nearest[:, None], d)
        scores[chosen] = np.inf
        j = int(np.argmin(scores))
        chosen.append(j)
        nearest = np.minimum(nearest, d[:, j])
    return interchange(d, w, chosen, float(w @ nearest))


def interchange(
    d: np.ndarray, w: np.ndarray, chosen: list[int], value: float
) -> tuple[list[int], float]:
    """Best-improvement swaps from ``chosen`` (value ``value``) until none improves."""
    chosen = list(chosen)
    p, n = len(chosen), d.shape[1]
    if p >= n:
        return chosen, value
    rows = np.arange(d.shape[0])
    while True:
        sub = d[:, chosen]
        order = np.argsort(sub, axis=1)
        first = sub[rows, order[:, 0]]
        second = sub[rows, order[:, 1]] if p > 1 else np.full(d.shape[0], np.inf)
        best = (value, -1, -1)
        for r in range(p):
            without = np.where(order[:, 0] == r, second, first)
            scores = w @ np.minimum(without[:, None], d)
            scores[chosen] = np.inf
            j = int(np.argmin(scores))
            # relative tolerance: a swap must improve by more than rounding noise
            if scores[j] < best[0] - 1e-12 * max(1.0, abs(best[0])):
                best = (float(scores[j]), r, j)
        if best[1] < 0:
            return chosen, value
        value, r, j = best
        chosen[r] = j


def lagrangian_reduction(
    c: np.ndarray, p: int, ub_sites: list[int], *, iterations: int = 3000, enough: int = 0
) -> tuple[float, list[int], np.ndarray, np.ndarray]:
    """Lagrangian bounds for the p-median, used to close and fix candidates exactly.

    ``c`` is the weighted cost (weight × time, ``inf`` unreachable). Relaxing "each
    demand point is served once" with multipliers ``λ`` gives the lower bound
    ``L(λ) = Σ λ_i + (sum of the p smallest ρ_j)``, ``ρ_j = Σ_i min(0, c_ij - λ_i)``
    (Beasley 1993), raised by subgradient steps. With ``UB`` the best known value:

    - a candidate ``j`` outside the p smallest with ``L + ρ_j - ρ_(p) > UB`` is in no
      optimal solution (closed);
    - one inside with ``L - ρ_j + ρ_(p+1) > UB`` is in every optimal solution (fixed).

    Stops early once at most ``enough`` candidates are left undecided. Returns the
    best value found, its sites, the closed mask and the fixed mask.
    """
    m, n = c.shape
    best_sites = list(ub_sites)
    ub = float(np.min(c[:, best_sites], axis=1).sum())
    lam = np.min(c[:, best_sites], axis=1)
    lam = np.where(np.isfinite(lam), lam, np.nanmax(np.where(np.isfinite(c), c, np.nan)))
    closed = np.zeros(n, bool)
    fixed = np.zeros(n, bool)
    if p >= n:
        return ub, best_sites, closed, fixed
    theta, best_lb, stall = 2.0, -np.inf, 0
    tol = 1e-9 * max(1.0, abs(ub))
    for it in range(iterations):
        reduced = np.minimum(c - lam[:, None], 0.0)
        rho = reduced.sum(axis=0)
        order = np.argsort(rho, kind="stable")
        chosen = order[:p]
        lb = float(lam.sum() + rho[chosen].sum())
        value = float(np.min(c[:, chosen], axis=1).sum())
        if value < ub - tol:  # a better solution: polish it by interchange
            best_sites, ub = interchange(c, np.ones(m), sorted(chosen.tolist()), value)
        if lb > best_lb + tol:
            best_lb, stall = lb, 0
        else:
            stall += 1
            if stall >= 30:
                theta, stall = theta / 2, 0
        # reduction tests (valid for any λ)
        rp, rp1 = rho[order[p - 1]], rho[order[p]]
        outside = np.ones(n, bool)
        outside[chosen] = False
        closed |= outside & (lb + rho - rp > ub + tol)
        fixed |= ~outside & (lb - rho + rp1 > ub + tol)
        undecided = n - int(closed.sum()) - int(fixed.sum())
        if ub - lb <= tol or (it % 10 == 9 and undecided <= enough) or theta < 1e-6:
            break
        g = 1.0 - (c[:, chosen] < lam[:, None]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = lam + theta * (ub - lb) / norm * g
    return ub, best_sites, closed, fixed


# --- MCLP -------------------------------------------------------------------------------


def dominated_columns(cover: np.ndarray) -> np.ndarray:
    """Candidates whose coverage set is contained in another one's (``cover``: rows × sites).

    Of two identical sets the later column is the dominated one, so the relation is a
    strict order and every dominated column has a non-dominated one covering at least
    as much. Counts are exact in float32 up to 2**24 rows.
    """
    c = cover.astype(np.float32)
    inter = c.T @ c  # inter[j, k] = rows covered by both j and k
    size = np.diag(inter).copy()
    inside = inter >= size[:, None]  # set of j (row) within set of k (column)
    np.fill_diagonal(inside, False)
    idx = np.arange(len(size))
    after = (size[None, :] > size[:, None]) | (
        (size[None, :] == size[:, None]) & (idx[None, :] < idx[:, None])
    )
    return (inside & after).any(axis=1)


def coverage_reduction(
    cover: np.ndarray, w: np.ndarray, p: int, pi: np.ndarray, best: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """A Lagrangian upper bound of the MCLP and the candidates it decides.

    Relaxing ``v_i <= Σ_{j covers i} y_j`` with multipliers ``0 <= π_i <= w_i`` (here
    the LP duals; the bound is valid for any such ``π``) leaves
    ``UB = Σ_i (w_i - π_i) + (sum of the p largest g_j)``, ``g_j = Σ_{i covered by j} π_i``.
    With ``best`` the value of a known solution, a candidate outside the p largest with
    ``UB - g_(p) + g_j < best`` is in no optimal solution (closed) and one inside with
    ``UB - g_j + g_(p+1) < best`` is in all of them (fixed). Returns UB, closed, fixed.
    """
    pi = np.clip(np.nan_to_num(pi), 0.0, w)
    g = pi @ cover
    n = len(g)
    order = np.argsort(-g, kind="stable")
    ub = float((w - pi).sum() + g[order[:p]].sum())
    closed = np.zeros(n, bool)
    fixed = np.zeros(n, bool)
    if p >= n:
        return ub, closed, fixed
    tol = 1e-9 * max(1.0, abs(best))
    inside = np.zeros(n, bool)
    inside[order[:p]] = True
    gp, gp1 = g[order[p - 1]], g[order[p]]
    closed = ~inside & (ub - gp + g < best - tol)
    fixed = inside & (ub - g + gp1 < best - tol)
    return ub, closed, fixed
