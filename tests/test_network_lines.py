"""Tests of the road LineString reader (topology rebuilt from shared vertices)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from accessibility.core.errors import CRSError, MissingColumnError, NetworkWarning
from accessibility.inputs.sources import fetch
from accessibility.network.lines import read_road_lines

CROSS = Path(__file__).parent / "fixtures" / "net_cross.geojson"


def _write(tmp_path, features, name="roads.geojson"):
    f = tmp_path / name
    f.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return f


def _line(coords, cls="minor", **props):
    return {"type": "Feature", "properties": {"roadClass": cls, **props},
            "geometry": {"type": "LineString", "coordinates": coords}}  # fmt: skip


def test_cross_gives_five_nodes_eight_edges():
    # "+": two lines meeting at their shared middle vertex -> 4 arms, each two-way:
    # nodes = 4 ends + the centre = 5; edges = 4 arms x 2 directions = 8
    net = read_road_lines(CROSS)
    assert net.n_nodes == 5
    assert net.n_edges == 8
    centre = np.argmax(np.bincount(net.edges["u"], minlength=5))
    assert np.bincount(net.edges["u"])[centre] == 4
    # osm_derived class map: major -> secondary (55 km/h), minor -> residential (25)
    by = net.edges.groupby("source_class")["speed_kph"].unique()
    assert list(by["major"]) == [55] and list(by["minor"]) == [25]
    # each arm is 0.001 deg long: ~78.8 m along the parallel, ~111.1 m along the meridian
    assert sorted(set(np.round(net.edges["length_m"], -1))) == [80, 110]


def test_crossing_without_shared_vertex_is_a_bridge(tmp_path):
    # the two lines cross but share no vertex: grade-separated, not a junction
    f = _write(tmp_path, [_line([[6.0, 45.0], [6.002, 45.0]]),
                          _line([[6.001, 44.999], [6.001, 45.001]])])  # fmt: skip
    net = read_road_lines(f)
    assert net.n_nodes == 4 and net.n_edges == 4


def test_snapping_a_near_end(tmp_path):
    # a T whose stem stops 0.5 m short of the bar (~0.0000045 deg of latitude)
    bar = _line([[6.0, 45.0], [6.002, 45.0]])
    stem = _line([[6.001, 45.0000045], [6.001, 45.001]])
    f = _write(tmp_path, [bar, stem])
    net = read_road_lines(f, snap_tolerance_m=1.0)
    # the stem's end is snapped onto the bar, which is split there: 4 nodes, 3 x 2 edges
    assert net.n_nodes == 4 and net.n_edges == 6
    assert net.meta["lines"]["ends_snapped"] == 1
    unsnapped = read_road_lines(f, snap_tolerance_m=0)
    assert unsnapped.n_nodes == 4 and unsnapped.n_edges == 4  # two separate lines


def test_oneway_column(tmp_path):
    f = _write(tmp_path, [_line([[6.0, 45.0], [6.001, 45.0]], oneway="yes"),
                          _line([[6.001, 45.0], [6.002, 45.0]], oneway="-1"),
                          _line([[6.002, 45.0], [6.003, 45.0]], oneway="no")])  # fmt: skip
    net = read_road_lines(f)
    x = net.nodes["x"].to_numpy()
    e = net.edges
    dx = x[e["v"]] - x[e["u"]]
    assert net.n_edges == 4
    assert (dx[e["oneway"] == "yes"] > 0).all() and (dx[e["oneway"] == "-1"] < 0).all()


def test_missing_class_column(tmp_path):
    f = _write(tmp_path, [_line([[6.0, 45.0], [6.001, 45.0]])])
    with pytest.raises(MissingColumnError, match=r"roads\.geojson.*'highway_type'"):
        read_road_lines(f, class_column="highway_type")


def test_no_crs(tmp_path):
    g = gpd.read_file(CROSS).set_crs(None, allow_override=True)
    f = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio's own
        g.to_file(f)
    with pytest.raises(CRSError, match=r"nocrs\.gpkg"):
        read_road_lines(f)


def test_non_lines_are_counted_and_ignored(tmp_path):
    point = {"type": "Feature", "properties": {"roadClass": "minor"},
             "geometry": {"type": "Point", "coordinates": [6.0, 45.0]}}  # fmt: skip
    f = _write(tmp_path, [*json.loads(CROSS.read_text())["features"], point])
    with pytest.warns(NetworkWarning, match="1 feature"):
        net = read_road_lines(f)
    assert net.n_edges == 8 and net.meta["lines"]["non_line_ignored"] == 1


@pytest.mark.integration
def test_grenoble():
    path = fetch("roads/osm_derived/GRE_roads.geojson.gz")
    net = read_road_lines(path)
    e = net.edges
    raw = gpd.read_file(f"/vsigzip/{path}")
    # every input line is in the graph, both ways (no oneway column)
    assert e["line_id"].nunique() == len(raw) == 46_666
    assert net.n_edges % 2 == 0
    # splitting keeps length: half the directed total = the lines' own length (snapping
    # moves a handful of ends by < 1 m)
    own = raw.to_crs("EPSG:2154").length.sum()
    assert e["length_m"].sum() / 2 == pytest.approx(own, rel=1e-4)
    # junctions are shared vertices: far more nodes than the 611 'highway' lines alone
    # would give, and at most one node per line end + interior shared vertex
    assert 40_000 < net.n_nodes < 2 * len(raw)
    # most of the network is one connected whole (a city and its valleys)
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(net.csr("length_m"), directed=True, connection="weak")
    assert np.bincount(labels).max() > 0.95 * net.n_nodes
