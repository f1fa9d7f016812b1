"""The Maurienne end to end: run, publish (base and a scenario), compare, QGIS projects.

The scenario removes one France Services (Modane, ``france_services/fs:1570``): the
comparison must show exactly that service closed, none opened, and France Services
times that only grow.
"""

from __future__ import annotations

import warnings

import pandas as pd
import psycopg
import pytest
from click.testing import CliRunner

from accessibility.cli import main
from accessibility.pipeline import run_job

pytestmark = pytest.mark.integration
MODANE_FS = "france_services/fs:1570"
SCENARIO = f"""name = "sans-fs-modane"
season = "summer"
description = "The France Services of Modane closes."

[[service]]
action = "remove"
service_id = "{MODANE_FS}"
"""


@pytest.fixture(scope="module")
def runs(paths, tmp_path_factory):
    """The base run and the scenario run of the Maurienne, written as ``run`` does."""
    tmp = tmp_path_factory.mktemp("maurienne_runs")
    scenario = tmp / "sans-fs-modane.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # known data warnings, reported by run itself
        run_job("maurienne", paths=paths, out_dir=tmp / "base", atlas=False, report=False)
        run_job("maurienne", paths=paths, scenario=str(scenario), out_dir=tmp / "scenario",
                atlas=False, report=False)
    return tmp


def _cli(args, monkeypatch, where):
    monkeypatch.chdir(where)
    result = CliRunner().invoke(main, ["-q", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_publish_compare_and_qgis_on_the_maurienne(runs, fresh_postgis, read_qgis,
                                                   monkeypatch, tmp_path):
    # a database of its own: the documented-commands test publishes the same base run
    # (same outputs, same run id) into the session's database
    postgis = fresh_postgis
    base, scen = runs / "base", runs / "scenario"
    out = _cli(["publish", "--territory", "maurienne", "--database", postgis, "--from",
                str(base)], monkeypatch, tmp_path)
    assert "Published run" in out
    again = _cli(["publish", "--territory", "maurienne", "--database", postgis, "--from",
                  str(base)], monkeypatch, tmp_path)
    assert "already in acc_maurienne.runs: nothing written" in again
    _cli(["publish", "--territory", "maurienne", "--database", postgis, "--from", str(scen),
          "--scenario", str(runs / "sans-fs-modane.toml")], monkeypatch, tmp_path)
    gpkg = base / "accessibilite_maurienne.gpkg"
    with psycopg.connect(postgis) as conn:
        runs_rows = conn.execute("SELECT run_id, scenario FROM acc_maurienne.runs ORDER BY "
                                 "published_at").fetchall()
        assert [s for _, s in runs_rows] == ["", "sans-fs-modane"]
        (a, _), (b, _) = runs_rows
        for layer, n in (("communes", 53), ("cells", 399)):
            assert conn.execute(f"SELECT count(*) FROM acc_maurienne.{layer}_latest"
                                ).fetchone()[0] == n
        n_services = len(pd.read_csv(base / "services.csv"))
        assert conn.execute("SELECT count(*) FROM acc_maurienne.services_latest WHERE "
                            "run_id = %s", [a]).fetchone()[0] == n_services
    out = _cli(["publish", "--territory", "maurienne", "--database", postgis, "--compare",
                a, b], monkeypatch, tmp_path)
    csv = tmp_path / "output" / "maurienne_publication" / f"comparaison_{a}_{b}.csv"
    table = pd.read_csv(csv, dtype={"key": str})
    assert table.loc[table["kind"] == "service_closed", "key"].tolist() == [MODANE_FS]
    assert (table["kind"] == "service_opened").sum() == 0
    fs = table[(table["kind"] == "time_commune")
               & (table["indicator"] == "time_france_services_min")]
    assert "73157" in set(fs["key"])  # Modane itself
    assert (fs["change"] > 0).all()
    with psycopg.connect(postgis) as conn:
        stored = conn.execute("SELECT count(*) FROM acc_maurienne.comparisons WHERE run_a = %s "
                              "AND run_b = %s", [a, b]).fetchone()[0]
    assert stored == len(table)
    # the QGIS projects: beside the GeoPackage (written by run) and on the PostGIS views
    for qgs in (gpkg.with_suffix(".qgs"), tmp_path / "output" / "maurienne_publication" /
                "accessibilite_maurienne_postgis.qgs"):
        loaded = read_qgis(qgs)
        assert len(loaded["layers"]) == 11
        assert [x["name"] for x in loaded["layers"] if not x["valid"]] == []
        cells = next(x for x in loaded["layers"]
                     if x["name"] == "Temps d'accès : France Services (carreaux)")
        assert cells["features"] == 399 and len(cells["classes"]) == 8
