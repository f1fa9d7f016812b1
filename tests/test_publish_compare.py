"""Comparing two published runs whose differences are known by hand (real PostGIS)."""

from __future__ import annotations

import psycopg
import pytest
from publish_fixtures import small_publication

from accessibility.core.errors import OutputError
from accessibility.outputs.publish.compare import compare_runs, store_comparison
from accessibility.outputs.publish.postgis import publish


@pytest.fixture
def conn(postgis):
    with psycopg.connect(postgis, autocommit=True) as c:  # as publish's connect()
        yield c

def test_compare_finds_services_times_and_priority_changes(conn):
    # run A: services s1, s2; Aiton 5 min, Bessans 12 min; Aiton scores 6 (Priorité 1)
    # run B: s1 closed, s3 opened; Aiton 9 min, Bessans unchanged; Aiton 3, Bessans 6
    a = publish(conn, small_publication(), schema="acc_cmp").run_id
    b = publish(conn, small_publication(services=("s2", "s3"), times=(9.0, 12.0),
                                        scores=(3.0, 6.0)), schema="acc_cmp").run_id
    t = compare_runs(conn, "acc_cmp", a, b)
    by = {k: g for k, g in t.groupby("kind")}
    assert by["service_opened"]["key"].tolist() == ["france_services/test:s3"]
    assert by["service_closed"]["key"].tolist() == ["france_services/test:s1"]
    assert by["service_closed"]["name"].tolist() == ["France Services s1"]
    times = by["time_commune"]
    assert times[["key", "indicator", "value_a", "value_b", "change"]].values.tolist() == [
        ["73001", "time_france_services_min", 5.0, 9.0, 4.0]]
    # the territory's population-weighted mean: (100·5 + 200·12)/300 -> (100·9 + 200·12)/300
    terr = by["time_territory"].iloc[0]
    assert terr["value_a"] == pytest.approx(2900 / 300)
    assert terr["change"] == pytest.approx(400 / 300)
    # priority: Aiton drops from Priorité 1 (6) to 3 points, Bessans enters with 6
    prio = by["priority"].set_index("key")
    assert prio.loc["73001", "indicator"] == "priority_tier: Priorité 1 -> -"
    assert (prio.loc["73001", "value_a"], prio.loc["73001", "value_b"]) == (6.0, 3.0)
    assert (prio.loc["73002", "value_a"], prio.loc["73002", "value_b"]) == (0.0, 6.0)
    assert prio.loc["73002", "indicator"] == "priority_tier: - -> Priorité 1"
    assert set(by) == {"service_opened", "service_closed", "time_commune", "time_territory",
                       "priority"}
    assert (t["run_a"] == a).all() and (t["run_b"] == b).all()

def test_the_same_run_compared_with_itself_has_no_difference(conn):
    a = publish(conn, small_publication(), schema="acc_cmp_same").run_id
    assert compare_runs(conn, "acc_cmp_same", a, a).empty

def test_the_comparison_table_is_replaced_for_the_same_pair(conn):
    a = publish(conn, small_publication(), schema="acc_cmp_store").run_id
    b = publish(conn, small_publication(services=("s1", "s2", "s3")),
                schema="acc_cmp_store").run_id
    t = compare_runs(conn, "acc_cmp_store", a, b)
    assert store_comparison(conn, "acc_cmp_store", t, a, b) == 1
    store_comparison(conn, "acc_cmp_store", t, a, b)
    rows = conn.execute("SELECT kind, key, value_a FROM acc_cmp_store.comparisons").fetchall()
    assert rows == [("service_opened", "france_services/test:s3", None)]

def test_an_unknown_run_is_a_clear_error(conn):
    a = publish(conn, small_publication(), schema="acc_cmp_unknown").run_id
    with pytest.raises(OutputError, match=r"run 'nope' is not in acc_cmp_unknown.runs "
                                          rf"\(published runs: {a}\)"):
        compare_runs(conn, "acc_cmp_unknown", a, "nope")
    with pytest.raises(OutputError, match="schema acc_nothing has no published run"):
        compare_runs(conn, "acc_nothing", a, a)
