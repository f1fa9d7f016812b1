"""The communes layer: merging 2018 polygons into COG 2026, EPCI, town halls."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from accessibility.core import columns as C
from accessibility.core.errors import CRSError, DataError, MissingColumnError
from accessibility.inputs.communes import build_communes, current_code_map, read_polygons
from accessibility.inputs.sources import fetch

pytestmark = pytest.mark.integration


def _independent_epci_members(paths) -> dict[str, int]:
    """EPCI membership read straight from the archive (not through the package)."""
    import tarfile

    with tarfile.open(fetch("communes/etalab-decoupage-administratif-6.0.0.tgz", paths)) as t:
        epcis = json.load(t.extractfile("package/data/epci.json"))
    return {e["code"]: len(e["membres"]) for e in epcis}


def test_maurienne_communes(maurienne, paths):
    c = maurienne.communes
    assert len(c) == 53
    assert c[C.COMMUNE_CODE].is_unique
    counts = c[C.EPCI_CODE].value_counts().to_dict()
    # MANIFEST: the five EPCI, with 11/12/14/6/10 members
    assert counts == {
        "247300676": 11,
        "247300361": 12,
        "200070464": 14,
        "247300452": 6,
        "200070340": 10,
    }
    members = _independent_epci_members(paths)
    assert all(members[k] == v for k, v in counts.items())
    assert c.geometry.is_valid.all()
    assert c.crs.to_epsg() == 2154
    assert c[C.POPULATION].notna().all() and (c[C.POPULATION] > 0).all()
    # MANIFEST: "Maurienne: ... 42,890 residents" is the 2018 census; the COG 2026 legal
    # populations are a few years later: same order, within 3 %.
    assert abs(c[C.POPULATION].sum() / 42_890 - 1) < 0.03


def test_merged_communes_are_dissolved(maurienne, paths):
    """Val-d'Arc (73212) = 2018 polygons 73212 + 73002 (Aiguebelle); La Tour-en-Maurienne
    (73135) = 73135 + 73080 + 73203 (MANIFEST)."""
    raw = read_polygons(fetch("communes/communes-73-savoie.geojson", paths)).to_crs(2154)
    area = raw.set_index("polygon_code").geometry.area
    c = maurienne.communes.set_index(C.COMMUNE_CODE)
    assert c.geometry.area["73212"] == pytest.approx(area["73212"] + area["73002"], rel=1e-3)
    assert c.geometry.area["73135"] == pytest.approx(
        area[["73135", "73080", "73203"]].sum(), rel=1e-3
    )
    assert "73002" not in c.index


def test_town_halls_are_inside_or_warned(maurienne):
    c = maurienne.communes
    halls = gpd.GeoSeries(
        gpd.points_from_xy(c[C.TOWN_HALL_LON], c[C.TOWN_HALL_LAT]), crs=4326
    ).to_crs(2154)
    # with a 2 km tolerance (the polygons are simplified) every town hall is in its commune
    assert c.geometry.buffer(2000).contains(halls).all()
    sj = c.set_index(C.COMMUNE_CODE).loc["73248"]
    assert sj[C.COMMUNE_NAME] == "Saint-Jean-de-Maurienne"
    assert "lundi" in sj[C.TOWN_HALL_HOURS]


def test_code_map_covers_all_mergers(paths):
    m = current_code_map(paths)
    assert m["73002"] == "73212" and m["73080"] == "73135" and m["73203"] == "73135"
    assert m["73248"] == "73248"


def test_missing_polygon_is_an_error_naming_the_commune(paths):
    polys = read_polygons(fetch("communes/communes-73-savoie.geojson", paths))
    polys = polys[polys["polygon_code"] != "73248"]
    with pytest.raises(DataError, match="73248"):
        build_communes(["73248", "73011"], polys, paths=paths)


def test_polygon_file_bad_inputs(tmp_path):
    g = gpd.GeoDataFrame({"insee": ["73248"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    f = tmp_path / "p.geojson"
    g.to_file(f)
    with pytest.raises(MissingColumnError, match=r"p.geojson.*missing column\(s\) code"):
        read_polygons(f)
    g2 = pd.DataFrame({"code": ["73248"], "wkt": ["POLYGON((0 0,1 0,1 1,0 0))"]})
    f2 = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):  # pyogrio warns when writing no CRS
        gpd.GeoDataFrame(g2, geometry=gpd.GeoSeries.from_wkt(g2.wkt)).to_file(f2)
    with pytest.raises(CRSError, match="nocrs.gpkg"):
        read_polygons(f2)
