"""Tests of accessibility.engine.snapping on hand-made networks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point
from tt_grid import X0, Y0, grid_network, make_network, node_points, points

from accessibility.core import columns as C
from accessibility.core.errors import (
    CRSError,
    DataError,
    DuplicateIdError,
    MissingColumnError,
    SnapWarning,
)
from accessibility.engine.snapping import OFFROAD_SPEED_KPH, snap_points


@pytest.fixture(scope="module")
def grid():
    return grid_network(5)


def test_offroad_speed_is_slow():
    # the documented assumption: 15 km/h over the straight line
    assert OFFROAD_SPEED_KPH == 15.0


def test_point_on_node(grid):
    out = snap_points(grid, node_points([0, 7, 24], 5), id_column="pid")
    assert list(out.columns) == [
        C.POINT_ID,
        C.NODE_ID,
        C.SNAP_DISTANCE_M,
        C.ALONG_EDGE_M,
        C.OFFROAD_TIME_S,
    ]
    assert out[C.POINT_ID].tolist() == [0, 7, 24]
    assert out[C.NODE_ID].tolist() == [0, 7, 24]
    np.testing.assert_allclose(out[C.OFFROAD_TIME_S], 0.0, atol=1e-9)


def test_point_on_edge_drives_to_closer_end(grid):
    # (X0 + 1000, Y0 + 300): on the vertical edge 1-6, 300 m from node 1 (col 1, row 0)
    # -> node 1, 0 m off-road, 300 m along the edge at 60 km/h = 300 / (60/3.6) = 18 s
    out = snap_points(grid, points([(X0 + 1000, Y0 + 300)], ["a"]), id_column="pid")
    row = out.iloc[0]
    assert row[C.NODE_ID] == 1
    assert row[C.SNAP_DISTANCE_M] == pytest.approx(0.0, abs=1e-9)
    assert row[C.ALONG_EDGE_M] == pytest.approx(300.0)
    assert row[C.OFFROAD_TIME_S] == pytest.approx(18.0)


def test_offroad_leg_at_offroad_speed(grid):
    # 150 m south of node 2: 150 m at 15 km/h = 150 / (15/3.6) = 36 s
    out = snap_points(grid, points([(X0 + 2000, Y0 - 150)], ["a"]), id_column="pid")
    row = out.iloc[0]
    assert row[C.NODE_ID] == 2
    assert row[C.SNAP_DISTANCE_M] == pytest.approx(150.0)
    assert row[C.OFFROAD_TIME_S] == pytest.approx(36.0)
    slow = snap_points(
        grid, points([(X0 + 2000, Y0 - 150)], ["a"]), id_column="pid", offroad_speed_kph=5.4
    )
    assert slow[C.OFFROAD_TIME_S].iloc[0] == pytest.approx(100.0)  # 150 / 1.5 m/s


def test_edge_method_versus_node_method_on_a_long_edge():
    # a 4 km edge 0-1 along y = 0 and a node 2 up at (2000, 1200) joined to both ends.
    # The point (2000, 100) is 100 m from the long edge, 1100 m from node 2, 2000 m from
    # nodes 0 and 1. Edge method: node 0 (the projection is mid-edge; ties go to u),
    # 100 m at 15 km/h (24 s) + 2000 m along at 60 km/h (120 s) = 144 s.
    # Node method: node 2, 1100 m at 15 km/h = 264 s.
    xy = [(X0, Y0), (X0 + 4000, Y0), (X0 + 2000, Y0 + 1200)]
    net = make_network(xy, [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)])
    pts = points([(X0 + 2000, Y0 + 100)], ["house"])
    edge = snap_points(net, pts, id_column="pid").iloc[0]
    assert edge[C.NODE_ID] in (0, 1)
    assert edge[C.SNAP_DISTANCE_M] == pytest.approx(100.0)
    assert edge[C.ALONG_EDGE_M] == pytest.approx(2000.0)
    assert edge[C.OFFROAD_TIME_S] == pytest.approx(144.0)
    node = snap_points(net, pts, id_column="pid", method="node", max_snap_m=1500).iloc[0]
    assert node[C.NODE_ID] == 2
    assert node[C.SNAP_DISTANCE_M] == pytest.approx(1100.0)
    assert node[C.OFFROAD_TIME_S] == pytest.approx(264.0)


def test_edge_length_is_the_network_length_not_the_drawing():
    # an edge drawn 1000 m long but declared 1500 m (a winding road drawn straight):
    # a point at 20 % of the drawing drives 20 % of the declared length (300 m) and
    # 20 % of its travel time
    net = make_network([(X0, Y0), (X0 + 1000, Y0)], [(0, 1), (1, 0)])
    net.edges["length_m"] = 1500.0
    net.edges["travel_time_s"] = 90.0
    out = snap_points(net, points([(X0 + 200, Y0)], ["a"]), id_column="pid").iloc[0]
    assert out[C.NODE_ID] == 0
    assert out[C.ALONG_EDGE_M] == pytest.approx(300.0)
    assert out[C.OFFROAD_TIME_S] == pytest.approx(18.0)


def test_far_point_warns_and_is_kept(grid):
    pts = points([(X0, Y0), (X0 - 2000, Y0)], ["near", "far-away"])
    with pytest.warns(SnapWarning, match=r"far-away \(2,000 m\)"):
        out = snap_points(grid, pts, id_column="pid")
    assert out[C.POINT_ID].tolist() == ["near", "far-away"]
    assert out[C.SNAP_DISTANCE_M].iloc[1] == pytest.approx(2000.0)
    # 2000 m at 15 km/h = 480 s
    assert out[C.OFFROAD_TIME_S].iloc[1] == pytest.approx(480.0)


def test_reprojects_points(grid):
    pts = node_points([6, 18], 5).to_crs("EPSG:4326")
    out = snap_points(grid, pts, id_column="pid")
    assert out[C.NODE_ID].tolist() == [6, 18]
    assert (out[C.SNAP_DISTANCE_M] < 1e-3).all()


def test_no_crs_is_an_error(grid):
    pts = gpd.GeoDataFrame({"pid": [1]}, geometry=[Point(X0, Y0)])
    with pytest.raises(CRSError, match="no coordinate reference system"):
        snap_points(grid, pts, id_column="pid")


def test_empty_geometries_are_named(grid):
    pts = gpd.GeoDataFrame(
        {"pid": ["ok", "lost", "void"]},
        geometry=[Point(X0, Y0), None, Point()],
        crs="EPSG:2154",
    )
    with pytest.raises(DataError, match=r"2 point\(s\).*lost, void"):
        snap_points(grid, pts, id_column="pid")


def test_non_points_are_an_error(grid):
    pts = gpd.GeoDataFrame(
        {"pid": ["line"]}, geometry=[LineString([(X0, Y0), (X0 + 1, Y0)])], crs="EPSG:2154"
    )
    with pytest.raises(DataError, match=r"expected Point geometries.*line"):
        snap_points(grid, pts, id_column="pid")


def test_bad_ids(grid):
    pts = node_points([0, 1], 5)
    with pytest.raises(MissingColumnError, match="code"):
        snap_points(grid, pts, id_column="code")
    pts["pid"] = ["x", "x"]
    with pytest.raises(DuplicateIdError, match="x"):
        snap_points(grid, pts, id_column="pid")
