"""Tests of the OpenStreetMap reader and of the speed table."""

from __future__ import annotations

import collections
import math
from pathlib import Path

import numpy as np
import osmium
import pytest
from pyproj import Geod

from accessibility.core.errors import CorruptFileError, NetworkError
from accessibility.inputs.sources import fetch
from accessibility.network.osm import DRIVABLE_HIGHWAYS, read_osm
from accessibility.network.speeds import load_speed_table

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "net_tiny.osm"
GEOD = Geod(ellps="WGS84")


# --- speed table ------------------------------------------------------------------------
def test_speed_table_figures_and_maxspeed_rules():
    t = load_speed_table()
    # French legal limits written in the TOML (R413-2, R413-3, décret 2018-487)
    assert t.parse_maxspeed("FR:urban") == 50
    assert t.parse_maxspeed("fr:rural") == 80
    assert t.parse_maxspeed("FR:motorway") == 130
    assert t.parse_maxspeed("70") == 70
    assert t.parse_maxspeed("50 km/h") == 50
    assert t.parse_maxspeed("50;70") == 50  # first value
    assert t.parse_maxspeed("30 mph") == pytest.approx(30 * 1.609344)
    assert t.parse_maxspeed("walk") == 7
    assert t.parse_maxspeed("IT:urban") == 50  # zone default
    for none in ("none", "signals", "variable", "0", "-5", "", None):
        assert t.parse_maxspeed(none) is None
    assert t.maxspeed_factor == 0.8
    # every class the readers and the Travel Mapping reader use has a positive speed
    for c in [*DRIVABLE_HIGHWAYS, "track", "autoroute", "nationale", "departementale",
              "mountain_pass"]:  # fmt: skip
        assert t.speed_for(c) > 0
    assert t.speed_for("mountain_pass") < t.speed_for("departementale")
    assert t.speed_for("autoroute") > t.speed_for("nationale")
    assert set(t.class_map("osm_derived")) == {"highway", "major", "minor"}


def test_speed_table_unknown_class_is_a_clear_error():
    with pytest.raises(NetworkError, match=r"no speed for road class 'footway'.*known classes"):
        load_speed_table().speed_for("footway")


@pytest.mark.parametrize("bad", ["0", "-20"])
def test_speed_table_rejects_non_positive_speed(tmp_path, bad):
    f = tmp_path / "speeds.toml"
    f.write_text(f'[classes]\nprimary = {{ kph = {bad}, source = "x" }}\n', encoding="utf-8")
    expected = r"speeds\.toml: \[classes\.primary\]\.kph: expected greater than or equal to 1"
    with pytest.raises(NetworkError, match=expected):
        load_speed_table(f)


def test_speed_table_requires_a_source(tmp_path):
    f = tmp_path / "speeds.toml"
    f.write_text("[classes]\nprimary = { kph = 50 }\n", encoding="utf-8")
    expected = r"\[classes\.primary\]\.source: required key is missing"
    with pytest.raises(NetworkError, match=expected):
        load_speed_table(f)


# --- tiny hand-made file ------------------------------------------------------------------
# net_tiny.osm, counted by hand:
#   kept ways: 101 (1-2-3, two-way), 102 (3->4 oneway, FR:rural), 103 (2-5, maxspeed 50),
#   106 (5-7, motor_vehicle=destination), 107 (roundabout 4-8-9-4), 108 (8-10),
#   109 (10-11, oneway=-1), 111 (11-15, 30 mph), 112 (15->16 motorway, implied oneway),
#   113 (16-1, access=no but motorcar=yes: the most specific tag wins) = 10 ways;
#   dropped: 104 footway, 105 access=private, 110 area=yes, 114 construction.
#   Graph nodes (shared or way ends): 1 2 3 4 5 7 8 10 11 15 16 = 11 (9 is inside the
#   roundabout only, 6 only on dropped ways).
#   Directed edges: 101 -> 2 segments x 2 = 4; 102 -> 1; 103 -> 2; 106 -> 2;
#   107 -> 2 (4->8, 8->9->4), one way; 108 -> 2; 109 -> 1 (11->10); 111 -> 2; 112 -> 1;
#   113 -> 2. Total 19.
def _edges_by_way(net):
    e = net.edges
    osm = net.nodes["osm_id"].to_numpy()
    return {
        w: sorted(zip(osm[g["u"]], osm[g["v"]], strict=True))
        for w, g in e.groupby("osm_way_id")
    }


def test_tiny_counts_by_hand():
    net = read_osm(TINY)
    assert net.n_nodes == 11
    assert sorted(net.nodes["osm_id"]) == [1, 2, 3, 4, 5, 7, 8, 10, 11, 15, 16]
    assert net.n_edges == 19
    assert sorted(net.edges["osm_way_id"].unique()) == [101, 102, 103, 106, 107, 108, 109,
                                                         111, 112, 113]  # fmt: skip
    ways = net.meta["ways"]
    assert ways["dropped_access"] == 1 and ways["dropped_area"] == 1


def test_tiny_directions():
    by_way = _edges_by_way(read_osm(TINY))
    assert by_way[101] == [(1, 2), (2, 1), (2, 3), (3, 2)]
    assert by_way[102] == [(3, 4)]  # oneway=yes
    assert by_way[107] == [(4, 8), (8, 4)]  # roundabout: 4->8 and 8->9->4, not back
    assert by_way[109] == [(11, 10)]  # oneway=-1
    assert by_way[112] == [(15, 16)]  # motorway: oneway implied


def test_tiny_speeds_and_maxspeed():
    e = read_osm(TINY).edges.set_index("osm_way_id")
    assert e.loc[102, "speed_kph"] == pytest.approx(80 * 0.8)  # FR:rural x factor
    assert e.loc[102, "maxspeed_kph"] == 80
    assert (e.loc[103, "speed_kph"] == 40).all()  # 50 x 0.8
    np.testing.assert_allclose(e.loc[111, "speed_kph"], 30 * 1.609344 * 0.8)
    assert e.loc[112, "speed_kph"] == 90  # maxspeed=none -> motorway class speed
    assert math.isnan(e.loc[112, "maxspeed_kph"])
    assert (e.loc[101, "speed_kph"] == 25).all() and (e.loc[101, "name"] == "Rue A").all()
    assert e.loc[102, "ref"] == "D 1006"
    # travel time = length / speed
    np.testing.assert_allclose(e["travel_time_s"], e["length_m"] / (e["speed_kph"] / 3.6))


def test_tiny_lengths_match_geodesic():
    # way 101 runs 0.002 deg of longitude at 45 N; Lambert-93 distorts lengths by < 0.3 %
    e = read_osm(TINY).edges
    _, _, d = GEOD.inv(6.000, 45.0, 6.002, 45.0)
    assert e.loc[e["osm_way_id"] == 101, "length_m"].sum() / 2 == pytest.approx(d, rel=3e-3)
    # the roundabout's two pieces together make its whole ring
    ring = sum(GEOD.inv(a, b, c, d)[2] for a, b, c, d in [(6.003, 45.0, 6.004, 45.001),
               (6.004, 45.001, 6.004, 44.999), (6.004, 44.999, 6.003, 45.0)])  # fmt: skip
    assert e.loc[e["osm_way_id"] == 107, "length_m"].sum() == pytest.approx(ring, rel=3e-3)


def test_tiny_edge_geometry_runs_from_u_to_v():
    net = read_osm(TINY)
    e = net.edges
    first = np.array([g.coords[0] for g in e.geometry])
    last = np.array([g.coords[-1] for g in e.geometry])
    np.testing.assert_allclose(first, net.nodes.loc[e["u"], ["x", "y"]].to_numpy())
    np.testing.assert_allclose(last, net.nodes.loc[e["v"], ["x", "y"]].to_numpy())
    # the roundabout piece 8 -> 9 -> 4 keeps its middle vertex
    assert max(len(g.coords) for g in e.geometry) == 3


def test_tiny_bbox_cuts_ways():
    # keep lon <= 6.0025: drops nodes 4, 8, 9, 10, 11, 15 -> ways 102, 107-109, 111, 112
    net = read_osm(TINY, bbox=(5.9, 44.9, 6.0025, 45.1))
    assert sorted(net.edges["osm_way_id"].unique()) == [101, 103, 106, 113]


def test_include_tracks(tmp_path):
    f = tmp_path / "t.osm"
    f.write_text(
        '<osm version="0.6"><node id="1" lat="45" lon="6"/><node id="2" lat="45" lon="6.01"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="track"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(NetworkError, match="no drivable road"):
        read_osm(f)
    net = read_osm(f, classes={*DRIVABLE_HIGHWAYS, "track"})
    assert net.n_edges == 2 and (net.edges["speed_kph"] == 10).all()


def test_garbage_pbf_is_corrupt_file_error(tmp_path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a protobuf file" * 10)
    with pytest.raises(CorruptFileError, match=r"broken\.osm\.pbf"):
        read_osm(bad)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match=r"nowhere\.osm\.pbf"):
        read_osm("nowhere.osm.pbf")


# --- real extracts --------------------------------------------------------------------------
def _count_ways(path: Path) -> collections.Counter:
    """Independent count: highway values of all ways, straight from pyosmium."""
    c: collections.Counter = collections.Counter()
    for w in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if "highway" in w.tags:
            c[w.tags["highway"]] += 1
    return c


# MANIFEST figures of "car roads". They are exactly the number of ways whose highway is
# a car class (motorway .. tertiary with links, unclassified, residential,
# living_street, service, road; no track), before any access filter: checked below.
MANIFEST = {
    "roads/osm/andorra.osm.pbf": 1179,
    "roads/osm/liechtenstein-latest.osm.pbf": 2388,
    "roads/osm/nominatim_apidb-test-data.pbf": 7019,
}


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_real_extract_way_counts(name):
    path = fetch(name)
    counts = _count_ways(path)
    assert sum(counts[c] for c in DRIVABLE_HIGHWAYS) == MANIFEST[name]
    net = read_osm(path)
    ways = net.meta["ways"]
    assert ways["ways_of_drivable_class"] == MANIFEST[name]
    kept = net.edges["osm_way_id"].nunique()
    # the difference is the ways closed to cars (access=no/private...) and areas
    assert kept == MANIFEST[name] - ways["dropped_access"] - ways["dropped_area"]
    assert kept > 0.95 * MANIFEST[name]


@pytest.mark.integration
def test_andorra_network():
    net = read_osm(fetch("roads/osm/andorra.osm.pbf"))
    e = net.edges
    # CG-2, the main road from Andorra la Vella to the French border at Pas de la Casa,
    # is about 30 km long (both carriageways / directions count, so > 30 km here)
    cg2 = e.loc[e["ref"] == "CG-2", "length_m"].sum()
    assert 30_000 < cg2 < 150_000
    # Andorra is ~470 km2 with a few hundred km of public roads: the directed total lies
    # between 400 and 1500 km
    assert 400_000 < e["length_m"].sum() < 1_500_000
    # a oneway way yields one direction only
    oneway_ways = e.loc[e["oneway"], "osm_way_id"].unique()
    assert len(oneway_ways) > 10
    # (compare geometries, not u/v: a oneway ring such as a roundabout legitimately
    # has pieces a -> b and b -> a)
    for _, g in e.loc[e["osm_way_id"].isin(oneway_ways)].groupby("osm_way_id"):
        fwd = {tuple(geom.coords) for geom in g.geometry}
        assert not fwd & {tuple(reversed(geom.coords)) for geom in g.geometry}
    # and a two-way way yields both
    two = e.loc[~e["oneway"]]
    assert (two.groupby("osm_way_id").size() % 2 == 0).all()
    # every node inside Andorra's bounding box (1.40-1.79 E, 42.42-42.66 N)
    lonlat = net.nodes.to_crs("EPSG:4326")
    assert lonlat.geometry.x.between(1.40, 1.79).all()
    assert lonlat.geometry.y.between(42.42, 42.66).all()
    assert e["speed_kph"].between(5, 130).all()


@pytest.mark.integration
def test_nominatim_stray_ways_removed_by_bbox():
    path = fetch("roads/osm/nominatim_apidb-test-data.pbf")
    full = read_osm(path)
    lon = full.nodes.to_crs("EPSG:4326").geometry.x
    assert (lon < 0).any()  # the file holds stray ways far away (in North America)
    net = read_osm(path, bbox=(9.0, 46.8, 10.0, 47.6))
    assert net.nodes.to_crs("EPSG:4326").geometry.x.between(9.0, 10.0).all()
    assert net.meta["ways"]["nodes_outside_bbox"] > 0


@pytest.mark.integration
def test_monaco_osm_gz():
    net = read_osm(fetch("roads/osm/monaco.osm.gz"))
    # Monaco is ~2 km2 with ~77 km of streets (directed total: 50..200 km)
    assert 50_000 < net.edges["length_m"].sum() < 200_000
    lonlat = net.nodes.to_crs("EPSG:4326").geometry
    assert lonlat.x.between(7.38, 7.45).all() and lonlat.y.between(43.71, 43.76).all()
