"""Tests of accessibility.indicators.catchment: decays, 2SFCA, E2SFCA, APL and aggregation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from access import Access
from access import weights as access_weights

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning, DuplicateIdError, MissingColumnError
from accessibility.indicators import catchment as K

NAN = float("nan")


def _times(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN])


# --- decay functions ------------------------------------------------------------------
# Convention under test: every threshold and band is closed on the right, so a time
# equal to a band's upper bound takes that band's weight (t <= upper).


def test_step_is_inclusive_and_zero_for_unreachable():
    w = K.step(30)([0, 29.9, 30, 30.0001, NAN, math.inf])
    np.testing.assert_array_equal(w, [1, 1, 1, 0, 0, 0])


def test_luo_qi_bands_boundaries():
    # 0-10 -> 1.00, (10, 20] -> 0.68, (20, 30] -> 0.22, beyond -> 0
    w = K.luo_qi_2009()([0, 10, 10.5, 20, 20.01, 30, 31, NAN])
    np.testing.assert_array_equal(w, [1, 1, 0.68, 0.68, 0.22, 0.22, 0, 0])


def test_drees_apl_bands_boundaries():
    # up to 10 -> 1, (10, 15] -> 2/3, (15, 20] -> 1/3, beyond 20 -> 0
    w = K.drees_apl()([0, 10, 12, 15, 15.5, 20, 20.5, NAN])
    np.testing.assert_allclose(w, [1, 1, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 0, 0], rtol=0, atol=1e-15)


def test_drees_apl_2012_bands():
    # up to 5 -> 1, (5, 10] -> 0.3, (10, 15] -> 0.1, beyond -> 0
    w = K.drees_apl_2012()([5, 6, 10, 14, 15, 16])
    np.testing.assert_array_equal(w, [1, 0.3, 0.3, 0.1, 0.1, 0])


def test_stepwise_agrees_with_access_step_fn():
    bands = {10: 1.0, 20: 0.68, 30: 0.22}
    theirs = access_weights.step_fn(bands)
    t = [0, 5, 10, 10.000001, 15, 20, 25, 30, 30.5, 60]
    np.testing.assert_array_equal(K.stepwise(bands)(t), [theirs(x) for x in t])


def test_gaussian_hand_values():
    # Dai (2010): w(t) = (exp(-t²/2d0²) - exp(-1/2)) / (1 - exp(-1/2)), 0 beyond d0.
    # At t = d0/2: (exp(-1/8) - exp(-1/2)) / (1 - exp(-1/2))
    #            = (0.8824969 - 0.6065307) / 0.3934693 = 0.70137
    w = K.gaussian(20)([0, 10, 20, 21, NAN])
    np.testing.assert_allclose(w, [1, 0.70137, 0, 0, 0], atol=1e-5)


def test_power_hand_values_and_access_gravity():
    # beta = 2, t_min = 1: 1 up to 1 min, then 1/t²: 2 -> 0.25, 10 -> 0.01
    fn = K.power(2.0)
    np.testing.assert_allclose(fn([0, 0.5, 1, 2, 10, NAN]), [1, 1, 1, 0.25, 0.01, 0])
    theirs = access_weights.gravity(scale=1, alpha=-2, min_dist=1)
    t = [0, 0.5, 1, 2, 7, 10]
    np.testing.assert_allclose(fn(t), [theirs(x) for x in t], rtol=1e-15)
    cut = K.power(1.0, min_minutes=5, threshold_min=20)
    np.testing.assert_allclose(cut([0, 5, 10, 20, 20.5]), [1, 1, 0.5, 0.25, 0])


@pytest.mark.parametrize(
    "bands",
    [{10: 0.5, 20: 0.8}, {10: 1.2}, {0: 1.0}, {-5: 1.0}, {}],
    ids=["increasing", "above-one", "zero-bound", "negative-bound", "empty"],
)
def test_stepwise_rejects_bad_bands(bands):
    with pytest.raises(ValueError):
        K.stepwise(bands)


def test_step_rejects_non_positive_threshold():
    with pytest.raises(ValueError, match="threshold"):
        K.step(0)


# --- parameters -----------------------------------------------------------------------


def test_default_parameters_are_the_documented_figures():
    p = K.load_catchment_parameters()
    assert p.two_step_threshold_min == 30
    assert dict(p.e2sfca_bands) == {10: 1.0, 20: 0.68, 30: 0.22}
    assert dict(p.apl_bands) == {10: 1.0, 15: 2 / 3, 20: 1 / 3}
    assert dict(p.apl_2012_bands) == {5: 1.0, 10: 0.3, 15: 0.1}
    assert p.underserved_below == 2.5
    assert all(p.sources.values()), "every parameter group must cite a source"


def test_bad_parameter_file_names_file_and_field(tmp_path):
    f = tmp_path / "catchment.toml"
    f.write_text(
        "[two_step_fca]\nthreshold_min = 30\n"
        "[enhanced_two_step_fca]\nbands = [{ upper_min = 10, weight = 1.0 }]\n"
        "[apl]\nbands = [{ upper_min = 10 }]\nunderserved_below = 2.5\n"
        "[apl_2012]\nbands = [{ upper_min = 5, weight = 1.0 }]\n",
        encoding="utf-8",
    )
    expected = r"catchment\.toml: \[apl\]\.bands\[0\]\.weight: required key is missing"
    with pytest.raises(DataError, match=expected):
        K.load_catchment_parameters(f)
    with pytest.raises(DataError, match="not found"):
        K.load_catchment_parameters(tmp_path / "missing.toml")


# --- hand-computed instance -----------------------------------------------------------
# Three origins, two sites:
#
#   origin  pop   time to X  time to Y
#   A       100   5          25
#   B       200   15         12
#   C       300   40         8
#
# Supply: X = 10, Y = 6 (e.g. practitioners).

HAND_TIMES = _times(
    [("A", "X", 5), ("A", "Y", 25), ("B", "X", 15), ("B", "Y", 12), ("C", "X", 40), ("C", "Y", 8)]
)
HAND_POP = pd.Series({"A": 100.0, "B": 200.0, "C": 300.0})
HAND_SUPPLY = pd.Series({"X": 10.0, "Y": 6.0})


def test_two_step_fca_hand_computed():
    # step(30): X is reached by A and B -> demand 300 -> R_X = 10/300 = 1/30
    #           Y is reached by A, B, C -> demand 600 -> R_Y = 6/600 = 0.01
    # A_A = A_B = 1/30 + 0.01 ; A_C = 0.01 (C is 40 min from X)
    r = K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY, decay=K.step(30))
    np.testing.assert_allclose(r.by_site[C.WEIGHTED_DEMAND], [300, 600])
    np.testing.assert_allclose(r.by_site[C.SUPPLY_RATIO], [1 / 30, 0.01])
    np.testing.assert_allclose(
        r.by_origin.loc[["A", "B", "C"], C.ACCESSIBILITY], [1 / 30 + 0.01, 1 / 30 + 0.01, 0.01]
    )
    # all supply is shared out: 100·(13/300) + 200·(13/300) + 300·0.01 = 13 + 3 = 16
    assert (r.by_origin[C.POPULATION] * r.by_origin[C.ACCESSIBILITY]).sum() == pytest.approx(16)
    assert r.unreached_sites.empty
    assert r.by_origin.index.name == C.ORIGIN_ID and r.by_site.index.name == C.DESTINATION_ID


def test_two_step_fca_default_decay_is_30_minute_step():
    default = K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY)
    explicit = K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY, decay=K.step(30))
    pd.testing.assert_frame_equal(default.by_origin, explicit.by_origin)


def test_enhanced_two_step_fca_hand_computed():
    # Luo & Qi weights: A-X 5 -> 1, A-Y 25 -> 0.22, B-X 15 -> 0.68, B-Y 12 -> 0.68,
    #                   C-X 40 -> 0, C-Y 8 -> 1
    # X: 100·1 + 200·0.68 = 236            -> R_X = 10/236
    # Y: 100·0.22 + 200·0.68 + 300·1 = 458 -> R_Y = 6/458
    # A_A = 1·R_X + 0.22·R_Y ; A_B = 0.68·R_X + 0.68·R_Y ; A_C = 1·R_Y
    rx, ry = 10 / 236, 6 / 458
    r = K.enhanced_two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY)
    np.testing.assert_allclose(r.by_site[C.WEIGHTED_DEMAND], [236, 458])
    np.testing.assert_allclose(
        r.by_origin.loc[["A", "B", "C"], C.ACCESSIBILITY],
        [rx + 0.22 * ry, 0.68 * rx + 0.68 * ry, ry],
    )


APL_SUPPLY = pd.Series({"X": 2000.0, "Y": 1000.0})  # consultations a year


def test_apl_hand_computed_and_underserved():
    # DREES weights: A-X 5 -> 1, A-Y 25 -> 0, B-X 15 -> 2/3 (15 is in (10, 15]),
    #                B-Y 12 -> 2/3, C-X 40 -> 0, C-Y 8 -> 1
    # X: 100 + 200·2/3 = 700/3 -> R_X = 2000·3/700 = 60/7
    # Y: 200·2/3 + 300 = 1300/3 -> R_Y = 1000·3/1300 = 30/13
    # APL_A = 60/7 ≈ 8.57 ; APL_B = 2/3·60/7 + 2/3·30/13 = 40/7 + 20/13 ≈ 7.25 ;
    # APL_C = 30/13 ≈ 2.31 < 2.5: C is "sous-dense"
    r = K.apl(HAND_TIMES, HAND_POP, APL_SUPPLY)
    expected = [60 / 7, 40 / 7 + 20 / 13, 30 / 13]
    np.testing.assert_allclose(r.by_origin.loc[["A", "B", "C"], C.APL], expected)
    assert list(r.by_origin.columns) == [C.POPULATION, C.APL]
    flags = K.underserved(r.by_origin[C.APL])
    assert flags.to_dict() == {"A": False, "B": False, "C": True}
    assert K.underserved(pd.Series([2.5, 2.4999])).tolist() == [False, True]  # strictly below


def test_apl_with_standardised_population():
    # standardised demand A = 150, B = 200, C = 250 (same weights as above)
    # X: 150 + 200·2/3 = 850/3  -> R_X = 6000/850 = 120/17
    # Y: 200·2/3 + 250 = 1150/3 -> R_Y = 3000/1150 = 60/23
    std = pd.Series({"C": 250.0, "A": 150.0, "B": 200.0})  # order does not matter
    r = K.apl(HAND_TIMES, HAND_POP, APL_SUPPLY, standardised_population=std)
    rx, ry = 120 / 17, 60 / 23
    np.testing.assert_allclose(
        r.by_origin.loc[["A", "B", "C"], C.APL], [rx, 2 / 3 * rx + 2 / 3 * ry, ry]
    )
    np.testing.assert_array_equal(r.by_origin[C.STANDARDISED_POPULATION], [150, 200, 250])
    np.testing.assert_array_equal(r.by_origin[C.POPULATION], [100, 200, 300])
    with pytest.raises(DataError, match="standardised population"):
        K.apl(HAND_TIMES, HAND_POP, APL_SUPPLY, standardised_population=std.drop("C"))


def test_standardise_population():
    # 10 children weighted 0.8, 50 adults 0.9, 20 elderly 1.6: 8 + 45 + 32 = 85
    counts = pd.DataFrame(
        {C.POP_UNDER15: [10.0, 0.0], C.POP_15_64: [50.0, 0.0], C.POP_65PLUS: [20.0, 5.0]},
        index=["a", "b"],
    )
    out = K.standardise_population(
        counts, {C.POP_UNDER15: 0.8, C.POP_15_64: 0.9, C.POP_65PLUS: 1.6}
    )
    assert out.to_dict() == pytest.approx({"a": 85.0, "b": 8.0})
    with pytest.raises(MissingColumnError, match="pop_total"):
        K.standardise_population(counts, {C.POP_TOTAL: 1.0})


# --- invariants -----------------------------------------------------------------------


def _random_instance(seed: int, n_origins: int = 40, n_sites: int = 8, nan_share: float = 0.1):
    rng = np.random.default_rng(seed)
    origins = [f"o{i}" for i in range(n_origins)]
    sites = [f"s{j}" for j in range(n_sites)]
    t = rng.uniform(0, 45, size=(n_origins, n_sites))
    t[rng.random(t.shape) < nan_share] = np.nan
    times = pd.DataFrame(
        {
            C.ORIGIN_ID: np.repeat(origins, n_sites),
            C.DESTINATION_ID: np.tile(sites, n_origins),
            C.TRAVEL_TIME_MIN: t.ravel(),
        }
    )
    pop = pd.Series(rng.integers(1, 2000, n_origins).astype(float), index=origins)
    supply = pd.Series(rng.integers(1, 12, n_sites).astype(float), index=sites)
    return times, pop, supply


def test_full_reach_allocates_all_supply():
    # everyone within 30 minutes of every site: sum_i P_i A_i = sum_j S_j exactly
    times, pop, supply = _random_instance(1, nan_share=0.0)
    times[C.TRAVEL_TIME_MIN] = times[C.TRAVEL_TIME_MIN] * 30 / 45
    r = K.two_step_fca(times, pop, supply, decay=K.step(30))
    allocated = (r.by_origin[C.POPULATION] * r.by_origin[C.ACCESSIBILITY]).sum()
    assert allocated == pytest.approx(supply.sum(), rel=1e-12)
    # and then everyone has the same access: total supply / total population
    np.testing.assert_allclose(r.by_origin[C.ACCESSIBILITY], supply.sum() / pop.sum())


@pytest.mark.parametrize(
    "decay",
    [K.step(20), K.stepwise({10: 1.0, 20: 0.68, 30: 0.22}), K.gaussian(25), K.power(1.5)],
    ids=repr,
)
def test_supply_of_reached_sites_is_conserved(decay):
    # with the same weights in both steps, sum_i P_i A_i = sum_j w_ij P_i R_j
    # = sum over reached sites of S_j, whatever the decay
    times, pop, supply = _random_instance(2)
    r = K.two_step_fca(times, pop, supply, decay=decay)
    reached = r.by_site[C.WEIGHTED_DEMAND] > 0
    allocated = (r.by_origin[C.POPULATION] * r.by_origin[C.ACCESSIBILITY]).sum()
    assert allocated == pytest.approx(r.by_site.loc[reached, C.SUPPLY].sum(), rel=1e-12)


def test_unreached_site_allocates_nothing_and_is_reported():
    # site Z is 50 minutes from everyone: with step(30) nobody reaches it
    times = pd.concat(
        [HAND_TIMES, _times([("A", "Z", 50), ("B", "Z", 55), ("C", "Z", NAN)])],
        ignore_index=True,
    )
    supply = pd.concat([HAND_SUPPLY, pd.Series({"Z": 4.0})])
    with pytest.warns(DataWarning, match=r"1 site\(s\).*\(4 in total\).*Z"):
        r = K.two_step_fca(times, HAND_POP, supply, decay=K.step(30))
    assert list(r.unreached_sites) == ["Z"]
    assert math.isnan(r.by_site.loc["Z", C.SUPPLY_RATIO])
    assert r.by_site.loc["Z", C.WEIGHTED_DEMAND] == 0
    # everybody's access is as without Z, and only 16 of the 20 units are allocated
    without = K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY, decay=K.step(30))
    pd.testing.assert_series_equal(r.by_origin[C.ACCESSIBILITY], without.by_origin[C.ACCESSIBILITY])


def test_adding_a_site_or_supply_never_lowers_access():
    # a new site leaves every other R_j unchanged (R_j depends on demand only), so
    # A_i can only grow; raising S_j raises R_j only
    times, pop, supply = _random_instance(3)
    decay = K.luo_qi_2009()
    base = K.enhanced_two_step_fca(times, pop, supply).by_origin[C.ACCESSIBILITY]
    rng = np.random.default_rng(33)
    new_rows = pd.DataFrame(
        {
            C.ORIGIN_ID: pop.index,
            C.DESTINATION_ID: "new",
            C.TRAVEL_TIME_MIN: rng.uniform(0, 40, len(pop)),
        }
    )
    more_sites = K.two_step_fca(
        pd.concat([times, new_rows], ignore_index=True),
        pop,
        pd.concat([supply, pd.Series({"new": 5.0})]),
        decay=decay,
    ).by_origin[C.ACCESSIBILITY]
    assert (more_sites >= base - 1e-15).all()
    assert (more_sites > base).any()
    more_supply = K.two_step_fca(times, pop, supply * 1.5, decay=decay).by_origin
    assert (more_supply[C.ACCESSIBILITY] >= base - 1e-15).all()


def test_zero_population_origin_and_site_only_they_reach():
    # D (population 0) is the only origin within reach of W: W has no demand, so
    # R_W is NaN and W is reported; D still gets the ratios of the sites it reaches
    times = pd.concat(
        [HAND_TIMES, _times([("D", "X", 5), ("D", "Y", 40), ("D", "W", 3), ("A", "W", 45)])],
        ignore_index=True,
    )
    pop = pd.concat([HAND_POP, pd.Series({"D": 0.0})])
    supply = pd.concat([HAND_SUPPLY, pd.Series({"W": 2.0})])
    with pytest.warns(DataWarning, match="W"):
        r = K.two_step_fca(times, pop, supply, decay=K.step(30))
    # X and Y: same demand as in the hand case (D adds 0), so R_X = 1/30, R_Y = 0.01
    assert r.by_origin.loc["D", C.ACCESSIBILITY] == pytest.approx(1 / 30)
    assert r.by_origin.loc["A", C.ACCESSIBILITY] == pytest.approx(1 / 30 + 0.01)
    assert list(r.unreached_sites) == ["W"]


def test_unreachable_origin_has_zero_access():
    # E reaches nothing (NaN times): access 0, so it weighs in population means
    times = pd.concat([HAND_TIMES, _times([("E", "X", NAN), ("E", "Y", NAN)])], ignore_index=True)
    pop = pd.concat([HAND_POP, pd.Series({"E": 50.0})])
    r = K.two_step_fca(times, pop, HAND_SUPPLY, decay=K.step(30))
    assert r.by_origin.loc["E", C.ACCESSIBILITY] == 0.0
    assert not r.by_origin[C.ACCESSIBILITY].isna().any()


def test_origin_without_rows_is_reported_and_zero():
    pop = pd.concat([HAND_POP, pd.Series({"F": 10.0})])
    with pytest.warns(DataWarning, match="no row in the travel-time table.*F"):
        r = K.two_step_fca(HAND_TIMES, pop, HAND_SUPPLY, decay=K.step(30))
    assert r.by_origin.loc["F", C.ACCESSIBILITY] == 0.0


# --- bad input ------------------------------------------------------------------------


def test_missing_column():
    with pytest.raises(MissingColumnError, match="travel-time table.*travel_time_min"):
        K.two_step_fca(HAND_TIMES.drop(columns=C.TRAVEL_TIME_MIN), HAND_POP, HAND_SUPPLY)


def test_duplicate_pair():
    times = pd.concat([HAND_TIMES, HAND_TIMES.head(1)], ignore_index=True)
    with pytest.raises(DuplicateIdError, match="A->X"):
        K.two_step_fca(times, HAND_POP, HAND_SUPPLY)


def test_negative_time():
    times = HAND_TIMES.copy()
    times.loc[0, C.TRAVEL_TIME_MIN] = -1.0
    with pytest.raises(DataError, match="negative"):
        K.two_step_fca(times, HAND_POP, HAND_SUPPLY)


def test_unknown_ids_name_the_table():
    with pytest.raises(DataError, match="origin id that is not in the demand.*C"):
        K.two_step_fca(HAND_TIMES, HAND_POP.drop("C"), HAND_SUPPLY)
    with pytest.raises(DataError, match="destination id that is not in the supply.*Y"):
        K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY.drop("Y"))


def test_bad_demand_values():
    with pytest.raises(DataError, match=r"demand.*finite and >= 0.*B=-1"):
        K.two_step_fca(HAND_TIMES, HAND_POP.replace(200.0, -1.0), HAND_SUPPLY)
    with pytest.raises(DataError, match="supply.*finite"):
        K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY.replace(6.0, NAN))
    dup = pd.Series([1.0, 2.0, 3.0], index=["A", "A", "B"])
    with pytest.raises(DuplicateIdError, match="demand.*A"):
        K.two_step_fca(HAND_TIMES, dup, HAND_SUPPLY)


# --- same numbers as pysal/access -----------------------------------------------------


def _access(times: pd.DataFrame, pop: pd.Series, supply: pd.Series) -> Access:
    # Frames already indexed (demand_index=True): access would otherwise call
    # set_index(inplace=True), which pandas 3 deprecates with a warning.
    return Access(
        demand_df=pop.rename("pop").rename_axis("geoid").to_frame(),
        demand_index=True,
        demand_value="pop",
        supply_df=supply.rename("cap").rename_axis("geoid").to_frame(),
        supply_index=True,
        supply_value="cap",
        cost_df=times,
        cost_origin=C.ORIGIN_ID,
        cost_dest=C.DESTINATION_ID,
        cost_name=C.TRAVEL_TIME_MIN,
    )


def _theirs(result: pd.DataFrame, index: pd.Index) -> np.ndarray:
    # access leaves out (NaN) the origins that reach no site; ours gives them 0
    return result.iloc[:, 0].reindex(index).fillna(0.0).to_numpy()


def _grid():
    # 5 × 5 grid of demand cells c{x}{y}, population 10·(1 + x + 2y); three sites on
    # cells (0,0), (2,2), (4,3); travel time 5 min per grid step (Manhattan)
    cells = [(x, y) for x in range(5) for y in range(5)]
    pop = pd.Series({f"c{x}{y}": 10.0 * (1 + x + 2 * y) for x, y in cells})
    sites = {"s00": (0, 0), "s22": (2, 2), "s43": (4, 3)}
    supply = pd.Series({"s00": 5.0, "s22": 3.0, "s43": 8.0})
    times = _times(
        [
            (f"c{x}{y}", s, 5.0 * (abs(x - sx) + abs(y - sy)))
            for x, y in cells
            for s, (sx, sy) in sites.items()
        ]
    )
    return times, pop, supply


def test_grid_hand_value():
    # 2SFCA with step(5): s00 is reached by c00 (10), c01 (30), c10 (20): R = 5/60.
    # s22 by c22 (70), c12 (60), c32 (80), c21 (50), c23 (90): R = 3/350.
    # c11 is 10 min from both: nothing; c01 reaches s00 only: A = 5/60.
    times, pop, supply = _grid()
    r = K.two_step_fca(times, pop, supply, decay=K.step(5))
    assert r.by_site.loc["s00", C.SUPPLY_RATIO] == pytest.approx(5 / 60)
    assert r.by_site.loc["s22", C.SUPPLY_RATIO] == pytest.approx(3 / 350)
    assert r.by_origin.loc["c01", C.ACCESSIBILITY] == pytest.approx(5 / 60)
    assert r.by_origin.loc["c11", C.ACCESSIBILITY] == 0.0


@pytest.mark.parametrize("instance", ["grid", "random"])
def test_two_step_fca_equals_access(instance):
    times, pop, supply = _grid() if instance == "grid" else _random_instance(7)
    ours = K.two_step_fca(times, pop, supply, decay=K.step(10)).by_origin[C.ACCESSIBILITY]
    theirs = _access(times, pop, supply).two_stage_fca(max_cost=10)
    np.testing.assert_allclose(ours.to_numpy(), _theirs(theirs, ours.index), rtol=1e-9, atol=0)


@pytest.mark.parametrize("instance", ["grid", "random"])
def test_enhanced_two_step_fca_equals_access(instance):
    times, pop, supply = _grid() if instance == "grid" else _random_instance(8)
    ours = K.enhanced_two_step_fca(times, pop, supply).by_origin[C.ACCESSIBILITY]
    # access's default E2SFCA weights: step_fn({10: 1, 20: 0.68, 30: 0.22})
    theirs = _access(times, pop, supply).enhanced_two_stage_fca()
    np.testing.assert_allclose(ours.to_numpy(), _theirs(theirs, ours.index), rtol=1e-9, atol=0)


@pytest.mark.parametrize("instance", ["grid", "random"])
def test_gravity_and_gaussian_fca_equal_access(instance):
    times, pop, supply = _grid() if instance == "grid" else _random_instance(9)
    acc = _access(times, pop, supply)
    ours = K.two_step_fca(times, pop, supply, decay=K.power(1.5, threshold_min=25))
    theirs = acc.two_stage_fca(
        name="grav", max_cost=25, weight_fn=access_weights.gravity(1, -1.5, min_dist=1)
    )
    np.testing.assert_allclose(
        ours.by_origin[C.ACCESSIBILITY].to_numpy(),
        _theirs(theirs, ours.by_origin.index),
        rtol=1e-9,
        atol=0,
    )
    gauss = K.gaussian(25)
    ours = K.two_step_fca(times, pop, supply, decay=gauss)
    # access applies weight_fn to one scalar at a time: hand it a float, not a 0-d array
    theirs = acc.two_stage_fca(name="gauss", max_cost=25, weight_fn=lambda t: float(gauss(t)))
    np.testing.assert_allclose(
        ours.by_origin[C.ACCESSIBILITY].to_numpy(),
        _theirs(theirs, ours.by_origin.index),
        rtol=1e-9,
        atol=0,
    )


# --- aggregation ----------------------------------------------------------------------


def test_population_weighted_mean():
    # g1: (1·1 + 3·3) / (1 + 3) = 2.5 ; g2: population 0 -> NaN
    values = pd.Series({"a": 1.0, "b": 3.0, "c": 10.0}, name=C.APL)
    pop = pd.Series({"a": 1.0, "b": 3.0, "c": 0.0})
    groups = pd.Series({"a": "g1", "b": "g1", "c": "g2"}, name=C.EPCI_CODE)
    out = K.population_weighted_mean(values, pop, groups)
    assert out["g1"] == pytest.approx(2.5)
    assert math.isnan(out["g2"])
    assert out.index.name == C.EPCI_CODE and out.name == C.APL
    with pytest.raises(DataError, match="groups.*missing.*c"):
        K.population_weighted_mean(values, pop, groups.drop("c"))


def test_weighted_mean_of_2sfca_by_commune():
    # A and B in commune 1, C in commune 2 (hand case, step(30)):
    # commune 1: (100 + 200)·(13/300) / 300 = 13/300 ; commune 2: 0.01
    r = K.two_step_fca(HAND_TIMES, HAND_POP, HAND_SUPPLY, decay=K.step(30))
    groups = pd.Series({"A": "1", "B": "1", "C": "2"})
    out = K.population_weighted_mean(
        r.by_origin[C.ACCESSIBILITY], r.by_origin[C.POPULATION], groups
    )
    np.testing.assert_allclose(out.to_numpy(), [13 / 300, 0.01])
