"""Tests of accessibility.engine.matrix: long table ⇄ dense matrix, one unreachable rule,
and its two callers (siting models, itinerant tours) on hand-made unreachable pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning, DuplicateIdError, MissingColumnError
from accessibility.engine.matrix import to_long, to_matrix


def _long(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN])


# a -> X 5, a -> Y NaN (unreachable), b -> X inf (unreachable), b -> Y missing (unreachable)
TABLE = _long([("a", "X", 5.0), ("a", "Y", np.nan), ("b", "X", np.inf)])


def test_unreachable_is_inf_whether_nan_inf_or_missing():
    tm = to_matrix(TABLE, column_ids=["X", "Y"])
    assert list(tm.row_ids) == ["a", "b"]
    assert list(tm.column_ids) == ["X", "Y"]
    assert tm.times[0, 0] == 5.0
    assert np.isposinf(tm.times[0, 1]) and np.isposinf(tm.times[1, 0])
    assert np.isposinf(tm.times[1, 1])  # the missing pair


def test_given_ids_order_the_matrix_and_add_empty_rows():
    tm = to_matrix(TABLE, row_ids=["c", "b", "a"], column_ids=["Y", "X"])
    assert tm.times[2, 1] == 5.0  # a -> X
    assert np.isposinf(tm.times[0]).all()  # c is in no pair


def test_square_matrix_takes_origins_then_destinations():
    tm = to_matrix(_long([("D", "A", 3.0), ("A", "B", 4.0)]), square=True)
    assert list(tm.row_ids) == list(tm.column_ids) == ["D", "A", "B"]
    assert tm.times[0, 1] == 3.0 and tm.times[1, 2] == 4.0
    assert np.isposinf(tm.times[2, 0])


def test_round_trip_writes_unreachable_back_as_nan():
    tm = to_matrix(TABLE, column_ids=["X", "Y"])
    back = to_long(tm.times, tm.row_ids, tm.column_ids)
    assert back[C.TRAVEL_TIME_MIN].isna().tolist() == [False, True, True, True]
    assert back.iloc[0].tolist() == ["a", "X", 5.0]
    assert to_matrix(back).times.tolist() == tm.times.tolist()


@pytest.mark.parametrize(
    ("table", "kwargs", "error", "match"),
    [
        (
            _long([("a", "X", 1.0), ("a", "X", 2.0)]),
            {},
            DuplicateIdError,
            r"1 duplicate .*'a', 'X'",
        ),
        (_long([("a", "X", -1.0)]), {}, DataError, r"negative travel time.*-1 min from 'a' to 'X'"),
        (_long([("a", "X", "soon")]), {}, DataError, r"'travel_time_min'.*'soon'"),
        (_long([("a", "X", 1.0)]), {"row_ids": ["b"]}, DataError, r"'a'"),
        (TABLE.drop(columns=C.ORIGIN_ID), {}, MissingColumnError, "origin_id"),
        (TABLE, {"square": True, "row_ids": ["a"]}, DataError, "square"),
    ],
)
def test_bad_tables_are_named(table, kwargs, error, match):
    with pytest.raises(error, match=match):
        to_matrix(table, where="my table", **kwargs)


def test_to_long_checks_the_shape():
    with pytest.raises(DataError, match=r"shape \(1, 2\).*1 row id\(s\) × 3"):
        to_long(np.zeros((1, 2)), ["a"], ["X", "Y", "Z"])


# --- the callers decide what unreachable means ---------------------------------------------


def test_siting_drops_demand_that_reaches_no_site_and_never_uses_an_unreachable_pair():
    from accessibility.planning.siting import CostMatrix, p_median

    # a: X 5, Y unreachable (NaN); b: X unreachable (inf), Y 10; c: unreachable (missing)
    table = _long([("a", "X", 5.0), ("a", "Y", np.nan), ("b", "X", np.inf), ("b", "Y", 10.0)])
    cm = CostMatrix.from_long(table, demand_ids=["a", "b", "c"], candidate_ids=["X", "Y"])
    assert np.isnan(cm.times[0, 1]) and np.isnan(cm.times[1, 0]) and np.isnan(cm.times[2]).all()
    weights = pd.Series({"a": 100.0, "b": 10.0, "c": 7.0})
    # one site: X reaches a only, Y reaches b only -> p-median cannot serve both
    with pytest.warns(DataWarning, match=r"1 demand point.*weight 7.*'c'"):
        res = p_median(cm, weights, 2)
    # both open: a -> X 5, b -> Y 10: 100·5 + 10·10 = 600; c left out and listed
    assert res.sites == ("X", "Y")
    assert res.objective == pytest.approx(600.0)
    assert res.dropped == ("c",)


def test_tour_sets_aside_a_stop_it_cannot_reach():
    from accessibility.planning.tours import plan_tour

    # depot D; A 10 min away both ways; B unreachable from D (inf) and back (missing)
    table = _long([("D", "A", 10.0), ("A", "D", 10.0), ("D", "B", np.inf), ("A", "B", 3.0)])
    stops = pd.DataFrame({C.STOP_ID: ["A", "B"], C.POPULATION: [10, 1000]})
    with pytest.warns(DataWarning, match=r"1 candidate stop.*cannot be reached.*'B'"):
        plan = plan_tour(
            table, stops, depot="D", days=1, day_minutes=100, stop_minutes=30, time_limit_s=0.5
        )
    # B is never visited though it holds the most people; A: 10 + 30 + 10 = 50 min
    assert plan.routes() == (("A",),)
    assert plan.excluded == ("B",)
    assert plan.drive_min_total == 20
