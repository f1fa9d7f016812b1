"""The QGIS projects, opened by QGIS's own reader (Debian's python3-qgis, in a subprocess).

Every layer must load (valid), with the atlas's classes and colours and the dictionary's
aliases; on a hand-made GeoPackage and on the PostGIS views of a hand-made publication.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pyogrio
import pytest
from publish_fixtures import small_publication

from accessibility.outputs.maps.kinds import TIME_COLORS, priority_classes
from accessibility.outputs.publish.postgis import dsn_parts, publish
from accessibility.outputs.publish.qgis import (
    postgis_source,
    project_layers,
    time_style,
    write_project,
    write_run_projects,
)
from accessibility.outputs.publish.source import SPATIAL_LAYERS

LABELS = {"france_services": "France Services"}


def _gpkg(folder: Path, pub) -> Path:
    gpkg = folder / "accessibilite_test.gpkg"
    for name, gdf in pub.spatial.items():
        gdf.to_file(gpkg, layer=name, driver="GPKG")
    for name, df in {**pub.tables, "data_dictionary": pub.dictionary}.items():
        pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG")
    return gpkg


def test_time_classes_are_the_atlas_classes_with_left_closed_limits():
    st = time_style("time_x_min")
    assert st.attr == 'coalesce("time_x_min", -1)'
    assert [c[2] for c in st.classes[1:]] == list(TIME_COLORS)
    assert st.classes[0][:3] == (-1.0, -1.0, "#636363")  # unreachable (NULL)
    # QGIS ranges are lower < v <= upper: 7.0 exactly must fall in "7 à 15 min" as on
    # the atlas (classify: bins[i] <= v < bins[i+1])
    ranges = st.classes[1:]
    cls = next(i for i, (lo, hi, *_) in enumerate(ranges) if lo < 7.0 <= hi)
    assert ranges[cls][3] == "7 à 15\u00a0min"
    assert next(i for i, (lo, hi, *_) in enumerate(ranges) if lo < 6.99 <= hi) == 0


def test_gpkg_project_opens_in_qgis_with_styles_and_aliases(tmp_path, read_qgis):
    pub = small_publication()
    gpkg = _gpkg(tmp_path, pub)
    frames = {**pub.spatial, **pub.tables, "data_dictionary": pub.dictionary}
    qgs = write_run_projects(gpkg, frames, pub.dictionary, LABELS, title="Test")
    assert qgs == tmp_path / "accessibilite_test.qgs"
    loaded = read_qgis(qgs)
    assert loaded["read"] is True
    layers = {x["name"]: x for x in loaded["layers"]}
    assert len(layers) == len(project_layers(frames, pub.dictionary, LABELS))
    assert [n for n, x in layers.items() if not x["valid"]] == []
    cells = layers["Temps d'accès : France Services (carreaux)"]
    assert cells["renderer"] == "graduatedSymbol" and cells["features"] == 2
    assert len(cells["classes"]) == len(TIME_COLORS) + 1  # the atlas's 7 + unreachable
    assert [c[2] for c in cells["classes"][1:]] == list(TIME_COLORS)
    assert cells["crs"] == "EPSG:2154"  # as stored in the GeoPackage
    prio = layers["Communes prioritaires (score de priorité)"]
    expected = priority_classes([6.0, 0.0])
    assert [c[2] for c in prio["classes"]] == list(expected.colors)
    assert [c[3] for c in prio["classes"]] == list(expected.labels)
    communes = layers["Temps d'accès moyen : France Services (communes)"]
    assert communes["aliases"]["population"] == "Population municipale légale"
    assert communes["abstract"].startswith("Communes : population et temps d'accès")
    services = layers["Services et équipements"]
    assert services["renderer"] == "categorizedSymbol"
    assert services["classes"] == [["france_services", "#0072b2", "France Services"]]
    assert layers["Synthèse du territoire"]["features"] == 1


def test_postgis_project_opens_the_latest_views(tmp_path, postgis, read_qgis):
    pub = small_publication()
    with psycopg.connect(postgis, autocommit=True) as conn:
        publish(conn, pub, schema="acc_qgis")
        parts = dsn_parts(conn, postgis)
    assert "password" not in parts
    frames = {**pub.spatial, **pub.tables, "data_dictionary": pub.dictionary}
    layers = project_layers(frames, pub.dictionary, LABELS, srids=SPATIAL_LAYERS)
    qgs = write_project(tmp_path / "obs.qgs", layers, postgis_source(parts, "acc_qgis"),
                        title="Observatoire")
    loaded = read_qgis(qgs)
    got = {x["name"]: x for x in loaded["layers"]}
    assert len(got) == len(layers)
    assert [n for n, x in got.items() if not x["valid"]] == []
    assert {x["provider"] for x in got.values()} == {"postgres"}
    cells = got["Temps d'accès : France Services (carreaux)"]
    assert (cells["crs"], cells["features"]) == ("EPSG:3035", 2)
    assert cells["aliases"]["cell_id"] == "Identifiant du carreau (grille Eurostat, coin sud-ouest)"
    assert got["Services et équipements"]["features"] == 2


@pytest.mark.parametrize("service", [{"service": "observatoire"}])
def test_a_service_connection_is_kept_as_a_service_name(service, postgis):
    with psycopg.connect(postgis) as conn:
        assert dsn_parts(conn, "service=observatoire") == service
        parts = dsn_parts(conn, postgis)
    assert set(parts) == {"host", "port", "dbname", "user"}
    source = postgis_source(service, "acc_x")("cells", "Polygon", 3035)
    assert source == ("postgres", "service='observatoire' key='fid' checkPrimaryKeyUnicity='0' "
                      "srid=3035 type=MultiPolygon table=\"acc_x\".\"cells_latest\" (geom)")


def test_hostile_names_stay_data_in_the_project_xml(tmp_path, read_qgis):
    # a category value, a label and a title that look like XML / a datasource
    hostile = "x\"/><maplayer><datasource>/etc/passwd</datasource>&amp;'"
    pub = small_publication()
    pub.spatial["services"]["category"] = [hostile, "france_services"]
    gpkg = _gpkg(tmp_path, pub)
    frames = {**pub.spatial, **pub.tables, "data_dictionary": pub.dictionary}
    qgs = write_run_projects(gpkg, frames, pub.dictionary, {hostile: hostile, **LABELS},
                             title=hostile)
    loaded = read_qgis(qgs)
    services = next(x for x in loaded["layers"] if x["name"] == "Services et équipements")
    assert [c[0] for c in services["classes"]] == [hostile, "france_services"]
    assert services["classes"][0][2] == hostile
    assert len(loaded["layers"]) == len(project_layers(frames, pub.dictionary, LABELS))
    assert all(x["valid"] for x in loaded["layers"])
    assert "/etc/passwd</datasource>" not in qgs.read_text(encoding="utf-8")
