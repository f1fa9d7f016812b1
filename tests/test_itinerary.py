"""Tests of accessibility.planning.tours: tours of an itinerant service on hand-made matrices.

The "line" instance: a depot D and three stops on one road, A, B and C at 10, 20 and 30
minutes from D (so A-B = B-C = 10 min, A-C = 20 min), 60 minutes at each stop,
populations A = 100, B = 300, C = 200. Round trip + stop: A 10+60+10 = 80, B 100,
C 120 min. Two stops in a day: D-A-B-D 10+10+20 = 40 min of driving + 120 min of stops
= 160; D-A-C-D 10+20+30 = 60 + 120 = 180; D-B-C-D 20+10+30 = 60 + 120 = 180.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning
from accessibility.planning.tours import TourPlan, Visit, compare_with_fixed_site, plan_tour

LIMIT_S = 1.0  # solver time limit in the tests: the instances are tiny

LINE_IDS = ["D", "A", "B", "C"]
LINE_KM = np.array([0.0, 10.0, 20.0, 30.0])
LINE = np.abs(np.subtract.outer(LINE_KM, LINE_KM))  # minutes between places on the line


def line_stops(**extra) -> pd.DataFrame:
    return pd.DataFrame({C.STOP_ID: ["A", "B", "C"], C.POPULATION: [100, 300, 200], **extra})


def plan_line(stops=None, **kw) -> TourPlan:
    args = {"depot": "D", "days": 1, "day_minutes": 150, "stop_minutes": 60}
    args.update(kw)
    return plan_tour(
        LINE,
        line_stops() if stops is None else stops,
        ids=LINE_IDS,
        time_limit_s=LIMIT_S,
        **args,
    )


def check_feasible(plan: TourPlan, matrix: np.ndarray, ids: list, stop_min: dict) -> None:
    """Recompute each day's duration from the matrix: within the budget, as reported."""
    pos = {s: i for i, s in enumerate(ids)}
    for day, route in enumerate(plan.routes(), start=1):
        places = [plan.depot, *route, plan.depot]
        drive = sum(matrix[pos[a], pos[b]] for a, b in itertools.pairwise(places))
        total = drive + sum(stop_min[s] for s in route)
        assert total <= plan.day_minutes + 1e-9
        assert plan.drive_min_per_day[day - 1] == pytest.approx(drive)
        if route:
            assert plan.return_min[day - 1] == pytest.approx(total)
        assert len(set(route)) == len(route)


# --- the line instance, solved by hand ---------------------------------------------------


def test_one_day_150_takes_the_best_single_stop():
    # no two stops fit in 150 min (the cheapest pair, D-A-B-D, takes 160); of the single
    # stops (all fit: 80, 100, 120 min) B has the most people: prize 300
    plan = plan_line()
    assert plan.routes() == (("B",),)
    assert plan.prize == 300
    assert plan.population_served == 300
    assert set(plan.dropped) == {"A", "C"}
    assert plan.drive_min_total == 40  # 20 there, 20 back
    check_feasible(plan, LINE, LINE_IDS, {"A": 60, "B": 60, "C": 60})


def test_one_day_170_takes_a_pair():
    # D-A-B-D takes 160 <= 170 (prize 100 + 300 = 400); the other pairs take 180 > 170;
    # the best single stop brings 300 < 400
    plan = plan_line(day_minutes=170, day_start="08:30")
    assert plan.routes() == (("A", "B"),)
    assert plan.prize == 400
    # 08:30 + 10 = 08:40 at A, +60 = 09:40, +10 = 09:50 at B, +60 = 10:50, +20 = 11:10
    sched = plan.schedule()
    assert list(sched.columns) == ["day", "order", C.STOP_ID, "arrive", "depart", "drive_min"]
    assert sched[C.STOP_ID].tolist() == ["A", "B", "D"]
    assert sched["arrive"].tolist() == ["08:40", "09:50", "11:10"]
    assert sched["depart"].tolist()[:2] == ["09:40", "10:50"]
    assert pd.isna(sched["depart"].iloc[2])
    assert sched["drive_min"].tolist() == [10, 10, 20]


def test_two_days_use_both_days():
    # each day holds one stop (pairs need >= 160 > 150): the two largest, B and C,
    # one a day: 300 + 200 = 500; driving 2 × 20 + 2 × 30 = 100 min
    plan = plan_line(days=2)
    assert sorted(plan.routes()) == [("B",), ("C",)]
    assert plan.prize == 500
    assert plan.drive_min_total == 100
    assert plan.dropped == ("A",)
    check_feasible(plan, LINE, LINE_IDS, {"A": 60, "B": 60, "C": 60})


def test_priority_weights_the_population():
    # A weighted 5: prize 500 beats B's 300, C's 200; still one stop a day
    plan = plan_line(stops=line_stops(**{C.PRIORITY: [5.0, 1.0, 1.0]}))
    assert plan.routes() == (("A",),)
    assert plan.prize == 500
    assert plan.population_served == 100


def test_per_stop_duration():
    # C needs only 20 min: D-B-C-D = 60 min driving + 60 + 20 = 140 <= 150, prize 500;
    # D-A-C-D = 60 + 80 = 140 (prize 300); all three: 60 + 140 = 200 > 150
    plan = plan_line(stops=line_stops(**{C.STOP_MINUTES: [60, np.nan, 20]}))
    assert sorted(plan.routes()[0]) == ["B", "C"]
    assert plan.prize == 500
    check_feasible(plan, LINE, LINE_IDS, {"A": 60, "B": 60, "C": 20})


def test_mandatory_stop_is_honoured():
    # A mandatory: A alone (80 min) leaves no room for a second stop (A+B = 160 > 150)
    plan = plan_line(stops=line_stops(**{C.MANDATORY: [True, False, False]}))
    assert plan.routes() == (("A",),)
    assert plan.prize == 100


def test_mandatory_stops_that_cannot_share_a_day():
    # A and C mandatory, one day of 150: A+C takes 180 -> no tour
    stops = line_stops(**{C.MANDATORY: [True, False, True]})
    with pytest.raises(DataError, match="no tour.*2 mandatory"):
        plan_line(stops=stops)


def test_stop_beyond_a_day_is_never_chosen():
    # E at 50 min: 50 + 60 + 50 = 160 > 150, however many people live there
    ids = [*LINE_IDS, "E"]
    km = np.array([*LINE_KM, 50.0])
    matrix = np.abs(np.subtract.outer(km, km))
    stops = pd.DataFrame({C.STOP_ID: ["A", "B", "C", "E"], C.POPULATION: [100, 300, 200, 10**6]})
    with pytest.warns(DataWarning, match=r"'E' \(50 min there \+ 60 min stop \+ 50 min back\)"):
        plan = plan_tour(
            matrix,
            stops,
            ids=ids,
            depot="D",
            days=2,
            day_minutes=150,
            stop_minutes=60,
            time_limit_s=LIMIT_S,
        )
    assert "E" not in plan.stop_ids
    assert plan.excluded == ("E",)
    assert plan.prize == 500


def test_two_visits_a_week_fall_on_different_days():
    # B alone, asked twice a week. On one day D-B-B-D would take 20 + 60 + 0 + 60 + 20 =
    # 160 <= 160 with 40 min of driving (less than 2 × 40 on two days): only the
    # "different days" rule puts the visits on days 1 and 2. Each visit brings 300 / 2.
    stops = pd.DataFrame({C.STOP_ID: ["B"], C.POPULATION: [300]})
    plan = plan_line(stops=stops, days=2, day_minutes=160, visits_per_week=2)
    assert plan.routes() == (("B",), ("B",))
    assert plan.prize == 300
    assert plan.population_served == 300
    assert len(plan.visits) == 2


def test_long_table_gives_the_same_tour_as_the_array():
    long = pd.DataFrame(
        [(a, b, LINE[i, j]) for i, a in enumerate(LINE_IDS) for j, b in enumerate(LINE_IDS)],
        columns=[C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN],
    )
    plan = plan_tour(
        long,
        line_stops(),
        depot="D",
        days=1,
        day_minutes=170,
        stop_minutes=60,
        time_limit_s=LIMIT_S,
    )
    assert plan.routes() == (("A", "B"),)


# --- brute force on random instances -----------------------------------------------------


def random_instance(seed: int, n: int = 7):
    """Depot at the centre of a 40 × 40 grid, n stops; Manhattan distances in minutes
    (integers, so the solver's rounding to seconds is exact)."""
    rng = np.random.default_rng(seed)
    xy = np.vstack([[20, 20], rng.integers(0, 41, size=(n, 2))])
    matrix = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(float)
    pop = rng.integers(50, 2000, size=n)
    return matrix, pop


def best_by_enumeration(matrix, pop, stop_min, day_min, days):
    """Optimal prize (and least driving for it) by enumerating every subset and order."""
    n = len(pop)
    shortest = {}  # subset (bitmask) -> least driving of a tour through it, if it fits
    for mask in range(1, 2**n):
        members = [i + 1 for i in range(n) if mask >> i & 1]
        drive = min(
            sum(matrix[a, b] for a, b in itertools.pairwise((0, *order, 0)))
            for order in itertools.permutations(members)
        )
        if drive + stop_min * len(members) <= day_min:
            shortest[mask] = drive
    shortest[0] = 0.0
    best = (0.0, 0.0)  # (prize, -drive)
    for combo in itertools.combinations_with_replacement(shortest, days):
        union = 0
        for m in combo:
            if union & m:
                break
            union |= m
        else:
            prize = float(sum(pop[i] for i in range(n) if union >> i & 1))
            best = max(best, (prize, -sum(shortest[m] for m in combo)))
    return best[0], -best[1]


@pytest.mark.parametrize(("seed", "days"), [(1, 1), (2, 1), (3, 2)])
def test_solver_matches_enumeration(seed, days):
    matrix, pop = random_instance(seed)
    stop_min, day_min = 30.0, 200.0
    ids = list(range(len(matrix)))
    stops = pd.DataFrame({C.STOP_ID: ids[1:], C.POPULATION: pop})
    plan = plan_tour(
        matrix,
        stops,
        depot=0,
        days=days,
        day_minutes=day_min,
        stop_minutes=stop_min,
        time_limit_s=LIMIT_S,
    )
    prize, drive = best_by_enumeration(matrix, pop, stop_min, day_min, days)
    assert 0 < len(plan.stop_ids) < len(pop)  # the budget binds: a real choice was made
    assert plan.prize == prize
    assert plan.drive_min_total == pytest.approx(drive)
    check_feasible(plan, matrix, ids, dict.fromkeys(ids, stop_min))


# --- errors and warnings ------------------------------------------------------------------


def test_depot_missing_from_the_matrix():
    with pytest.raises(DataError, match=r"depot 'Z' is not an id.*4 ids"):
        plan_line(depot="Z")


def test_stop_missing_from_the_matrix():
    stops = pd.DataFrame({C.STOP_ID: ["A", "Q"], C.POPULATION: [1, 2]})
    with pytest.raises(DataError, match=r"1 stop_id\(s\) not in the travel-time matrix: 'Q'"):
        plan_line(stops=stops)


def test_unreachable_stop_is_warned_and_left_out():
    matrix = LINE.copy()
    matrix[0, 3] = np.nan  # C cannot be reached from the depot
    with pytest.warns(DataWarning, match=r"cannot be reached.*'C' \(unreachable min there"):
        plan = plan_tour(
            matrix,
            line_stops(),
            ids=LINE_IDS,
            depot="D",
            days=2,
            day_minutes=150,
            stop_minutes=60,
            time_limit_s=LIMIT_S,
        )
    assert plan.excluded == ("C",)
    assert sorted(plan.routes()) == [("A",), ("B",)]  # the two reachable stops, one a day


def test_unreachable_mandatory_stop_is_an_error():
    matrix = LINE.copy()
    matrix[3, 0] = np.nan  # no way back from C
    stops = line_stops(**{C.MANDATORY: [False, False, True]})
    with pytest.raises(DataError, match=r"mandatory stop\(s\) cannot be reached.*'C'"):
        plan_tour(
            matrix,
            stops,
            ids=LINE_IDS,
            depot="D",
            days=1,
            day_minutes=150,
            stop_minutes=60,
        )


def test_day_shorter_than_the_nearest_round_trip():
    # nearest stop A: 10 + 60 + 10 = 80 min > 70
    with (
        warnings.catch_warnings(),
        pytest.raises(DataError, match=r"day budget \(70 min\).*'A'.*= 80 min"),
    ):
        warnings.simplefilter("ignore", DataWarning)
        plan_line(day_minutes=70)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"stop_minutes": -5}, "stop_minutes must be a duration ≥ 0, got -5"),
        ({"day_minutes": 0}, "day_minutes must be a positive duration"),
        ({"days": 0}, "days must be a whole number ≥ 1"),
        ({"visits_per_week": 2}, r"visits_per_week \(2\) cannot exceed the number of days \(1\)"),
        ({"day_start": "25:00"}, "day_start must be a clock time"),
    ],
)
def test_bad_parameters(kw, match):
    with pytest.raises(DataError, match=match):
        plan_line(**kw)


def test_negative_travel_time():
    matrix = LINE.copy()
    matrix[1, 2] = -3
    with pytest.raises(DataError, match=r"1 negative duration\(s\), e.g. -3 min from 'A' to 'B'"):
        plan_tour(
            matrix, line_stops(), ids=LINE_IDS, depot="D", days=1, day_minutes=150, stop_minutes=60
        )


def test_negative_stop_duration_in_the_table():
    stops = line_stops(**{C.STOP_MINUTES: [60, -1, 60]})
    with pytest.raises(DataError, match=r"'stop_minutes'.*-1.*stop 'B'"):
        plan_line(stops=stops)


def test_duplicate_pairs_in_the_long_table():
    long = pd.DataFrame(
        {C.ORIGIN_ID: ["D", "D"], C.DESTINATION_ID: ["A", "A"], C.TRAVEL_TIME_MIN: [1.0, 2.0]}
    )
    with pytest.raises(DataError, match="duplicate"):
        plan_tour(long, line_stops(), depot="D", days=1, day_minutes=150, stop_minutes=60)


# --- summary and comparison --------------------------------------------------------------


def test_summary_fr():
    visits = tuple(Visit(1 + i // 5, 1 + i % 5, f"s{i}", 0.0, 0.0, 0.0) for i in range(9))
    plan = TourPlan(
        depot="D",
        days=2,
        day_minutes=420,
        day_start="09:00",
        visits=visits,
        return_min=(400.0, 380.0),
        drive_min_per_day=(120.0, 100.0),
        population_served=3420.0,
        prize=3420.0,
        prize_candidates=5000.0,
        status="ROUTING_SUCCESS",
        dropped=(),
        excluded=(),
    )
    # 120 + 100 = 220 min = 3 h 40; 3420 with a narrow no-break space
    assert plan.summary_fr() == (
        "Tournée de 2 jours : 9 arrêts, 3\u202f420 habitants desservis, 3 h 40 de route"
    )


def test_summary_fr_singular():
    # the line at 150 min a day: B only, 20 + 20 = 40 min
    assert plan_line().summary_fr() == (
        "Tournée de 1 jour : 1 arrêt, 300 habitants desservis, 40 min de route"
    )


def test_compare_with_fixed_site():
    # tour: B (day 1) and C (day 2); fixed site at the depot D; D has 50 inhabitants.
    # fixed: within 10 min D (50) + A (100) = 150; 20: + B = 450; 30: + C = 650;
    #        mean (50·0 + 100·10 + 300·20 + 200·30) / 650 = 13000 / 650 = 20 min
    # bus:   nearest stop D 20, A 10, B 0, C 0: within 10 = 600, 20 and 30 = 650;
    #        mean (50·20 + 100·10) / 650 = 2000 / 650; places with a stop: B + C = 500
    # every place reaches both: 0 inhabitants left out of the means
    plan = plan_line(days=2)
    pop = pd.Series([50, 100, 300, 200], index=LINE_IDS)
    table = compare_with_fixed_site(LINE, pop, plan, "D", ids=LINE_IDS).set_index("indicator")
    assert table["fixed_site"].tolist() == pytest.approx([1, 150, 450, 650, 50, 20, 0])
    assert table["itinerant"].tolist() == pytest.approx([2, 600, 650, 650, 500, 2000 / 650, 0])


def test_compare_warns_on_places_cut_off():
    plan = plan_line(days=2)
    matrix = LINE.copy()
    matrix[1, :] = np.nan  # A reaches nothing
    pop = pd.Series([50, 100, 300, 200], index=LINE_IDS)
    with pytest.warns(DataWarning, match="1 place.*'A'"):
        table = compare_with_fixed_site(matrix, pop, plan, "D", ids=LINE_IDS)
    # fixed site: mean over D, B, C = (0 + 300·20 + 200·30) / 550
    assert table["fixed_site"].iloc[-2] == pytest.approx(12000 / 550)
    assert table["fixed_site"].iloc[1] == 50  # within 10 min: D only, A is cut off
    # A's 100 inhabitants are reported beside the means, not silently dropped
    assert table["fixed_site"].iloc[-1] == table["itinerant"].iloc[-1] == 100
