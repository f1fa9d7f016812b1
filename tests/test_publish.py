"""Publishing into a real PostgreSQL/PostGIS (a throw-away cluster, tests/conftest_pg.py).

Hand-made publications (tests/publish_fixtures.py) whose content is known by hand; the
Maurienne end to end is in tests/test_publish_maurienne.py.
"""

from __future__ import annotations

import psycopg
import pytest
from publish_fixtures import small_publication

from accessibility.core.errors import OutputError
from accessibility.outputs.publish.postgis import geometry_type, publish, schema_name
from accessibility.outputs.publish.source import run_id


def _relations(conn, schema):
    """Every table and view of ``schema`` with its row count (the database's state)."""
    rels = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'v') ORDER BY 1",
        [schema]).fetchall()
    return {name: conn.execute(
        psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(schema, name))
    ).fetchone()[0] for name, _ in rels}


@pytest.fixture
def conn(postgis):
    with psycopg.connect(postgis, autocommit=True) as c:  # as publish's connect()
        yield c


def test_schema_name_is_the_slug_with_underscores():
    assert schema_name("maurienne") == "acc_maurienne"
    assert schema_name("pays-basque") == "acc_pays_basque"
    with pytest.raises(OutputError, match="territory slug"):
        schema_name('x"; DROP SCHEMA public; --')


def test_geometry_types_are_promoted_to_multi_for_polygons():
    assert geometry_type(["Polygon", "MultiPolygon"]) == "MultiPolygon"
    assert geometry_type(["Point"]) == "Point"
    with pytest.raises(OutputError, match="mixes geometry types"):
        geometry_type(["Point", "Polygon"])


def test_layers_have_typed_geometry_srid_and_a_spatial_index(conn):
    publish(conn, small_publication(), schema="acc_geom")
    found = {r[0]: r[1:] for r in conn.execute(
        "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = "
        "'acc_geom'").fetchall()}
    assert found["communes"] == ("MULTIPOLYGON", 2154)
    assert found["priority"] == ("MULTIPOLYGON", 2154)
    assert found["services"] == ("POINT", 2154)
    assert found["cells"] == ("MULTIPOLYGON", 3035)  # the Eurostat grid in its own CRS
    assert found["cells_latest"] == ("MULTIPOLYGON", 3035)
    assert conn.execute("SELECT Find_SRID('acc_geom', 'cells', 'geom')").fetchone()[0] == 3035
    # the 1 km cells are squares again in EPSG:3035: corner and area as made by hand
    corner, area = conn.execute(
        "SELECT ST_XMin(geom)::numeric(12,3)::text || ' ' || ST_YMin(geom)::numeric(12,3)::text,"
        " ST_Area(geom) FROM acc_geom.cells WHERE fid = 1").fetchone()
    assert corner == "4000000.000 2500000.000"
    assert area == pytest.approx(1e6, abs=1e-3)
    gist = {r[0] for r in conn.execute(
        "SELECT tablename FROM pg_indexes WHERE schemaname = 'acc_geom' AND indexdef "
        "LIKE '%USING gist (geom)%'").fetchall()}
    assert gist == {"communes", "cells", "services", "priority"}


def test_every_table_view_and_column_has_a_comment_from_the_dictionary(conn):
    pub = small_publication()
    publish(conn, pub, schema="acc_comments")
    missing = conn.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = "
        "a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
        "'acc_comments' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped "
        "AND col_description(c.oid, a.attnum) IS NULL").fetchall()
    assert missing == []
    untitled = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'acc_comments' AND c.relkind IN ('r', 'v') AND c.relname NOT IN "
        "('runs', 'layers') AND obj_description(c.oid, 'pg_class') IS NULL").fetchall()
    assert untitled == []
    comment = conn.execute(
        "SELECT col_description('acc_comments.communes'::regclass, a.attnum) FROM "
        "pg_attribute a WHERE a.attrelid = 'acc_comments.communes'::regclass AND "
        "a.attname = 'population'").fetchone()[0]
    # the data dictionary's entry (outputs/dictionary.py), French then English
    assert comment.startswith("Population municipale légale [habitants] — Legal municipal")
    table = conn.execute("SELECT obj_description('acc_comments.cells_latest'::regclass, "
                         "'pg_class')").fetchone()[0]
    assert table.startswith("Carreaux de population") and "dernière publication" in table


def test_the_runs_table_records_the_run(conn):
    pub = small_publication()
    done = publish(conn, pub, schema="acc_runs")
    row = conn.execute("SELECT run_id, territory, scenario, run_at, source_vintages, "
                       "parameters FROM acc_runs.runs").fetchone()
    assert row[0] == done.run_id == run_id(pub)
    assert row[1:3] == ("test", "")
    assert row[3].isoformat() == "2026-12-06T10:00:00+00:00"
    assert row[4] == [{"path": "communes/x.geojson", "vintage": "2026", "sha256": "ab" * 32}]
    assert row[5] == {"territory": "test", "scenario": ""}
    assert done.rows == {"communes": 2, "cells": 2, "services": 2, "priority": 1,
                         "territory_summary": 1, "indicators": 1, "sources": 1,
                         "data_dictionary": len(pub.dictionary)}


def test_latest_view_returns_the_newest_run_and_keeps_the_older(conn):
    old = publish(conn, small_publication(times=(5.0, 12.0)), schema="acc_latest")
    new = publish(conn, small_publication(times=(9.0, 12.0)), schema="acc_latest")
    assert old.run_id != new.run_id and new.new
    latest = conn.execute("SELECT DISTINCT run_id FROM acc_latest.communes_latest").fetchall()
    assert latest == [(new.run_id,)]
    assert conn.execute("SELECT time_france_services_min FROM acc_latest.communes_latest "
                        "WHERE commune_code = '73001'").fetchone()[0] == 9.0
    # both versions stay, dated
    versions = conn.execute("SELECT run_id, time_france_services_min FROM acc_latest.communes "
                            "WHERE commune_code = '73001' ORDER BY 2").fetchall()
    assert versions == [(old.run_id, 5.0), (new.run_id, 9.0)]
    # a scenario run is published beside them but is not "the latest"
    publish(conn, small_publication(times=(30.0, 12.0), scenario="hiver"), schema="acc_latest")
    assert conn.execute("SELECT DISTINCT run_id FROM acc_latest.cells_latest").fetchall() == [
        (new.run_id,)]


def test_publishing_the_same_run_twice_does_not_duplicate_it(conn):
    first = publish(conn, small_publication(), schema="acc_twice")
    before = _relations(conn, "acc_twice")
    again = publish(conn, small_publication(), schema="acc_twice")
    assert (again.run_id, again.new, again.rows) == (first.run_id, False, {})
    assert _relations(conn, "acc_twice") == before
    assert before["runs"] == 1 and before["communes"] == 2


def test_a_failure_midway_leaves_the_database_as_it_was(conn):
    publish(conn, small_publication(), schema="acc_fail")
    before = _relations(conn, "acc_fail")
    import pandas as pd

    # a new table (written after the layers) with a NUL character: PostgreSQL rejects it
    # during COPY, after four layers and a new table were already written
    bad = small_publication(times=(7.0, 8.0), extra={
        "seasonal_population": pd.DataFrame({"commune_code": ["73001"], "note": ["a\x00b"]})})
    with pytest.raises(OutputError, match="nothing was published"):
        publish(conn, bad, schema="acc_fail")
    assert _relations(conn, "acc_fail") == before
    assert "seasonal_population" not in before
    # a first publication that fails leaves no schema behind
    with pytest.raises(OutputError):
        publish(conn, bad, schema="acc_fail_first")
    assert conn.execute("SELECT to_regnamespace('acc_fail_first')").fetchone()[0] is None


def test_user_objects_survive_and_are_never_taken_over(conn):
    conn.execute("CREATE SCHEMA acc_users")
    conn.execute("CREATE TABLE acc_users.notes (id int, texte text)")
    conn.execute("INSERT INTO acc_users.notes VALUES (1, 'à garder')")
    conn.execute("CREATE VIEW acc_users.mes_communes AS SELECT 1 AS x")
    conn.commit()
    publish(conn, small_publication(), schema="acc_users")
    publish(conn, small_publication(times=(6.0, 12.0)), schema="acc_users")
    assert conn.execute("SELECT * FROM acc_users.notes").fetchall() == [(1, "à garder")]
    assert conn.execute("SELECT x FROM acc_users.mes_communes").fetchone() == (1,)
    # a table of the user's with a layer's name: refused, untouched
    conn.execute("CREATE SCHEMA acc_clash")
    conn.execute("CREATE TABLE acc_clash.cells (id int)")
    conn.execute("INSERT INTO acc_clash.cells VALUES (42)")
    conn.commit()
    with pytest.raises(OutputError, match="acc_clash.cells exists and was not created"):
        publish(conn, small_publication(), schema="acc_clash")
    assert conn.execute("SELECT * FROM acc_clash.cells").fetchall() == [(42,)]
    assert _relations(conn, "acc_clash") == {"cells": 1}
    # a "runs" table the project did not create: refused
    conn.execute("CREATE SCHEMA acc_runs_user")
    conn.execute("CREATE TABLE acc_runs_user.runs (run_id int)")
    conn.commit()
    with pytest.raises(OutputError, match="runs exists but was not created"):
        publish(conn, small_publication(), schema="acc_runs_user")


def test_a_database_without_postgis_is_a_clear_error(postgis):
    with psycopg.connect(postgis, autocommit=True) as admin:
        admin.execute("CREATE DATABASE sans_postgis")
    with psycopg.connect(postgis.replace("dbname=observatoire", "dbname=sans_postgis"),
                         autocommit=True) as c:
        with pytest.raises(OutputError, match="PostGIS is not installed in database "
                                              "'sans_postgis'"):
            publish(c, small_publication(), schema="acc_x")
        assert c.execute("SELECT to_regnamespace('acc_x')").fetchone()[0] is None


def test_a_column_whose_type_changed_is_refused_and_nothing_is_written(conn):
    publish(conn, small_publication(), schema="acc_types")
    before = _relations(conn, "acc_types")
    bad = small_publication(times=(8.0, 12.0))
    bad.spatial["communes"]["population"] = ["cent", "deux cents"]
    with pytest.raises(OutputError, match=r"acc_types.communes.population is bigint in the "
                                          "database but text in this run"):
        publish(conn, bad, schema="acc_types")
    assert _relations(conn, "acc_types") == before


def test_a_newer_run_may_bring_new_columns(conn):
    publish(conn, small_publication(), schema="acc_newcol")
    newer = small_publication(times=(6.0, 12.0))
    newer.spatial["communes"]["time_emergency_min"] = [20.0, 31.5]
    publish(conn, newer, schema="acc_newcol")
    rows = conn.execute("SELECT time_emergency_min FROM acc_newcol.communes ORDER BY run_id = "
                        "(SELECT run_id FROM acc_newcol.communes_latest LIMIT 1), fid").fetchall()
    assert rows == [(None,), (None,), (20.0,), (31.5,)]  # older run: NULL
    comment = conn.execute(
        "SELECT col_description('acc_newcol.communes_latest'::regclass, a.attnum) FROM "
        "pg_attribute a WHERE a.attrelid = 'acc_newcol.communes_latest'::regclass AND "
        "a.attname = 'time_emergency_min'").fetchone()[0]
    assert comment.startswith("Temps d'accès")


def test_cli_an_unreachable_database_is_one_line_without_the_password(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from accessibility.cli import main

    monkeypatch.chdir(tmp_path)
    url = f"postgresql://someone:s3cret@/observatoire?host={tmp_path}"
    result = CliRunner().invoke(main, ["publish", "--territory", "maurienne", "--database",
                                       url])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: publish: cannot connect to the "
                                                   "database given by --database")
    assert "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing run, nothing written


def test_cli_compare_needs_two_run_ids(postgis):
    from click.testing import CliRunner

    from accessibility.cli import main

    result = CliRunner().invoke(main, ["publish", "--database", postgis, "--compare", "a"])
    assert result.exit_code == 2
    assert "requires 2 arguments" in result.output
