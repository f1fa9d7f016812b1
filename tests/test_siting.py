"""Tests of the siting models: hand-worked cases, brute force, spopt, input errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from accessibility.core import columns as col
from accessibility.core.errors import DataError, DataWarning
from accessibility.planning.siting import (
    CostMatrix,
    _search,
    coverage,
    lscp,
    mclp,
    p_center,
    p_median,
)

# 3 demand points (a, b, c) × 2 candidates (X, Y), minutes:
#        X   Y
#   a    5  20
#   b   10  10
#   c   30   5
TIMES = np.array([[5.0, 20.0], [10.0, 10.0], [30.0, 5.0]])
IDS = CostMatrix(TIMES, ["a", "b", "c"], ["X", "Y"])
W = pd.Series({"a": 100.0, "b": 50.0, "c": 10.0})


def test_p_median_hand_worked():
    # X: 100*5 + 50*10 + 10*30 = 1300; Y: 100*20 + 50*10 + 10*5 = 2550 -> X
    res = p_median(IDS, W, 1)
    assert res.sites == ("X",)
    assert res.objective == pytest.approx(1300.0)
    a = res.assignment.set_index(col.DEMAND_ID)
    assert a.loc["c", col.SITE_ID] == "X"
    assert a.loc["c", col.TRAVEL_TIME_MIN] == 30.0
    assert res.status == "Optimal"


def test_p_median_existing_site_is_open_and_not_counted():
    three = CostMatrix(np.c_[TIMES, [1.0, 40.0, 40.0]], ["a", "b", "c"], ["X", "Y", "Z"])
    # Z near a only. With Y existing and one new site:
    #   X: a min(5,20)=5, b 10, c 5 -> 500+500+50 = 1050
    #   Z: a 1, b 10, c 5 -> 100+500+50 = 650 -> Z
    res = p_median(three, W, 1, existing=["Y"])
    assert res.sites == ("Z",)
    assert res.existing == ("Y",)
    assert res.open_sites == ("Y", "Z")
    assert res.objective == pytest.approx(650.0)


def test_mclp_hand_worked():
    # threshold 10: X covers a, b (150); Y covers b, c (60) -> X, 150
    res = mclp(IDS, W, 1, 10.0)
    assert res.sites == ("X",)
    assert res.objective == pytest.approx(150.0)
    assert res.assignment.set_index(col.DEMAND_ID)[col.COVERED].to_dict() == {
        "a": True,
        "b": True,
        "c": False,
    }


def test_lscp_hand_worked_and_infeasible():
    # threshold 10: X covers {a, b}, Y covers {b, c}: both needed -> 2
    assert lscp(IDS, 10.0).objective == 2
    # threshold 20: Y covers a (20), b, c -> 1 site, Y
    res = lscp(IDS, 20.0)
    assert (res.objective, res.sites) == (1, ("Y",))
    # threshold 4: nobody within 4 min; the message names the point, time, threshold
    with pytest.raises(DataError, match=r"'a' \(5 min\)"):
        lscp(IDS, 4.0)


def test_p_center_hand_worked():
    # X: max(5, 10, 30) = 30; Y: max(20, 10, 5) = 20 -> Y, 20
    res = p_center(IDS, W, 1)
    assert (res.sites, res.objective) == (("Y",), 20.0)


def test_long_table_is_accepted():
    long = pd.DataFrame(
        {
            col.ORIGIN_ID: ["a", "a", "b", "b", "c", "c"],
            col.DESTINATION_ID: ["X", "Y"] * 3,
            col.TRAVEL_TIME_MIN: TIMES.ravel(),
        }
    )
    assert p_median(long, W, 1).objective == pytest.approx(1300.0)


def test_unreachable_demand_is_dropped_with_warning():
    # d reaches nothing; it is named with its weight 7 and left out
    times = np.vstack([TIMES, [np.nan, np.nan]])
    cm = CostMatrix(times, ["a", "b", "c", "d"], ["X", "Y"])
    w = pd.concat([W, pd.Series({"d": 7.0})])
    with pytest.warns(DataWarning, match=r"1 demand point.*weight 7.*'d'"):
        res = p_median(cm, w, 1)
    assert res.dropped == ("d",)
    assert res.objective == pytest.approx(1300.0)


def test_nan_pair_cannot_serve():
    # c cannot reach X: p = 1 must pick Y (2550); X alone would leave c unserved
    times = TIMES.copy()
    times[2, 0] = np.nan
    assert p_median(times, W.to_numpy(), 1).sites == (1,)


def test_capacity_feasibility_error_gives_both_numbers():
    with pytest.raises(DataError, match=r"\(160 > 120\)"):
        p_median(IDS, W, 1, capacities=pd.Series({"X": 120.0, "Y": 100.0}))


def test_capacitated_hand_worked():
    # capacities X 110, Y 100, p = 2: uncapacitated a->X, b->X or Y (10 each), c->Y.
    # a (100) must go to X (5 min); b splits: 10 to X, 40 to Y (both 10 min): cost
    # 100*5 + 50*10 + 10*5 = 1050, the same as uncapacitated.
    res = p_median(IDS, W, 2, capacities=np.array([110.0, 100.0]))
    assert res.objective == pytest.approx(1050.0)
    load = (
        res.assignment.assign(w=lambda t: t[col.SHARE] * t[col.DEMAND_ID].map(W))
        .groupby(col.SITE_ID)["w"]
        .sum()
    )
    assert load["X"] <= 110 + 1e-6
    # capacity X 90: a cannot all go to X: 10 of a goes to Y (20 min) -> extra 10*(20-5)
    res = p_median(IDS, W, 2, capacities=np.array([90.0, 100.0]))
    assert res.objective == pytest.approx(1050.0 + 0.1 * 100 * 15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: p_median(IDS, W, 3), r"3 new site\(s\).*only 2 candidate"),
        (lambda: p_median(IDS, W, 1, existing=["X", "Y"]), r"only 0 candidate"),
        (lambda: p_median(IDS, W.mul(-1), 1), r"weights: 3 value\(s\).*>= 0"),
        (lambda: p_median(TIMES, np.ones(4), 1), r"expected 3 value"),
        (lambda: p_median(IDS, W, 1, existing=["Q"]), r"not candidate ids.*'Q'"),
        (lambda: mclp(IDS, W, 1, 1.0), r"within the threshold of 1 min.*shortest.*5 min"),
        (lambda: p_median(-TIMES, np.ones(3), 1), r"negative travel time"),
        (lambda: p_median(IDS, W, 0), r"p: expected"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(DataError, match=message):
        call()


# --- brute force on small random instances --------------------------------------------


def brute(times, w, p, threshold):
    """All p-subsets: best p-median, MCLP and p-center values."""
    med, cov, cen = np.inf, -np.inf, np.inf
    for s in itertools.combinations(range(times.shape[1]), p):
        t = times[:, list(s)].min(axis=1)
        med, cov, cen = min(med, w @ t), max(cov, w @ (t <= threshold)), min(cen, t.max())
    return med, cov, cen


def brute_lscp(times, threshold):
    n = times.shape[1]
    for k in range(1, n + 1):
        for s in itertools.combinations(range(n), k):
            if (times[:, list(s)].min(axis=1) <= threshold).all():
                return k
    raise AssertionError("no cover")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("force_mip", [False, True])
def test_brute_force(seed, force_mip, monkeypatch):
    rng = np.random.default_rng(seed)
    times = rng.uniform(1, 60, (30, 8)).round(1)  # rounding makes ties happen
    w = rng.integers(1, 100, 30).astype(float)
    if force_mip:  # exercise the Lagrangian reduction, the MIP and the bisection
        monkeypatch.setattr(_search, "ENUMERATION_BUDGET", 0)
    for p in (1, 2, 3):
        med, cov, cen = brute(times, w, p, 20.0)
        assert p_median(times, w, p).objective == pytest.approx(med, rel=1e-9)
        assert mclp(times, w, p, 20.0).objective == pytest.approx(cov, rel=1e-9)
        assert p_center(times, w, p).objective == pytest.approx(cen, rel=1e-9)
    assert lscp(times, 30.0).objective == brute_lscp(times, 30.0)


def test_dominated_columns_hand_worked():
    # rows covered by each column: A {0, 1}, B {0}, C {0, 1} (same as A), D {2}, E {}
    # B is inside A; C equals A and comes later; E is empty -> B, C, E dominated
    cover = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 1, 0]], dtype=bool)
    assert _search.dominated_columns(cover).tolist() == [False, True, True, False, True]


@pytest.mark.parametrize("seed", range(8))
def test_coverage_reduction_is_sound(seed):
    # for any multipliers the bound is >= the optimum; a closed candidate is in no
    # optimal set and a fixed one in all of them (checked over all p-subsets)
    rng = np.random.default_rng(seed)
    cover = rng.random((12, 7)) < 0.35
    w = rng.integers(1, 20, 12).astype(float)
    p = int(rng.integers(1, 4))
    values = {
        s: float(w @ cover[:, list(s)].any(axis=1)) for s in itertools.combinations(range(7), p)
    }
    opt = max(values.values())
    optimal = [set(s) for s, v in values.items() if v == opt]
    for pi in (rng.uniform(0, 1, 12) * w, np.zeros(12), w.copy()):
        ub, closed, fixed = _search.coverage_reduction(cover, w, p, pi, opt)
        assert ub >= opt - 1e-9
        for j in np.flatnonzero(closed):
            assert all(j not in s for s in optimal)
        for j in np.flatnonzero(fixed):
            assert all(j in s for s in optimal)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("no_enumeration", [False, True])
def test_mclp_reductions_against_brute_force(seed, no_enumeration, monkeypatch):
    # integer minutes: many ties, identical and nested coverage sets (dominance)
    monkeypatch.setattr(_search, "COVERAGE_ENUMERATION_BUDGET", 0)
    if no_enumeration:  # what the bound leaves goes to the HiGHS MIP
        monkeypatch.setattr(_search, "ENUMERATION_BUDGET", 0)
    rng = np.random.default_rng(100 + seed)
    times = rng.integers(1, 40, (40, 9)).astype(float)
    times[:, 8] = times[:, 7] + 1  # column 8 covers a subset of column 7's points
    w = rng.integers(0, 50, 40).astype(float)
    for p in (1, 2, 3, 4):
        for threshold in (8.0, 15.0):
            cov = brute(times, w, p, threshold)[1]
            res = mclp(times, w, p, threshold)
            assert res.objective == pytest.approx(cov, rel=1e-12), res.method
            assert len(res.sites) == p


def test_mclp_dominance_leaves_fewer_than_p():
    # threshold 10: columns 0 and 1 cover {a, b}, column 2 covers {a}: after dominance
    # only column 0 is left, p = 2 -> column 0 plus one more, all 3 + 4 = 7 covered
    times = np.array([[5.0, 5.0, 5.0], [5.0, 5.0, 50.0], [50.0, 50.0, 50.0]])
    w = np.array([3.0, 4.0, 1.0])
    chosen, method = coverage._mclp_exact(times[:2] <= 10, w[:2], 2, None)
    assert 0 in chosen and len(chosen) == 2
    assert "dominance" in method
    assert mclp(times, w, 2, 10.0).objective == 7.0


def test_mip_fallback_of_p_median(monkeypatch):
    # no enumeration at all, even after the reduction: the HiGHS MIP decides
    monkeypatch.setattr(_search, "ENUMERATION_BUDGET", 0)
    monkeypatch.setattr(_search, "lagrangian_reduction", _no_reduction)
    rng = np.random.default_rng(11)
    times = rng.uniform(1, 60, (30, 8))
    w = rng.integers(1, 100, 30).astype(float)
    res = p_median(times, w, 3)
    assert "HiGHS MIP" in res.method
    assert res.objective == pytest.approx(brute(times, w, 3, 0)[0], rel=1e-9)


def _no_reduction(c, p, ub_sites, **kwargs):
    n = c.shape[1]
    return np.inf, ub_sites, np.zeros(n, bool), np.zeros(n, bool)


# --- spopt ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_same_objective_as_spopt(seed):
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(seed)
    xy_d, xy_s = rng.uniform(0, 40, (200, 2)), rng.uniform(0, 40, (30, 2))
    times = np.linalg.norm(xy_d[:, None] - xy_s[None], axis=2) * 1.2
    w = rng.lognormal(2, 1, 200).round()
    p = 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spopt and pulp emit their own warnings
        solver = pulp.PULP_CBC_CMD(msg=False)
        pm = locate.PMedian.from_cost_matrix(times, w, p_facilities=p).solve(solver)
        mc = locate.MCLP.from_cost_matrix(times, w, service_radius=10.0, p_facilities=p)
        mc = mc.solve(solver)
        ls = locate.LSCP.from_cost_matrix(times, service_radius=15.0).solve(solver)
    assert p_median(times, w, p).objective == pytest.approx(
        pulp.value(pm.problem.objective), rel=1e-6
    )
    assert mclp(times, w, p, 10.0).objective == pytest.approx(
        pulp.value(mc.problem.objective), rel=1e-6
    )
    assert lscp(times, 15.0).objective == pytest.approx(pulp.value(ls.problem.objective))
