"""Tests of accessibility.engine.snapping on hand-made networks."""

from __future__ import annotations

from dataclasses import dataclass

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
from accessibility.engine.access import StraightLeg
from accessibility.engine.snapping import OFFROAD_SPEED_KPH, SnapOptions, snap_points


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


# ----------------------------------------------------------------------------------------
# Exact, direction-aware snapping on a hand-made network
#
#   A(0) ---- B(1) ----> C(2)      A-B: two-way, 1 km; A -> B 60 s, B -> A 180 s (uphill)
#              \        /           B -> C: one-way, 1 km, 100 s
#               \      /            B-D, D-C: two-way, 1,118.03 m at 60 km/h = 67.08 s
#                 D(3)


def _net():
    xy = [(X0, Y0), (X0 + 1000, Y0), (X0 + 2000, Y0), (X0 + 1500, Y0 - 1000)]
    arcs = [(0, 1), (1, 0), (1, 2), (2, 3), (3, 2), (3, 1), (1, 3)]
    net = make_network(xy, arcs)
    times = {(0, 1): 60.0, (1, 0): 180.0, (1, 2): 100.0}
    net.edges["travel_time_s"] = [
        times.get((u, v), t) for u, v, t in net.edges[["u", "v", "travel_time_s"]].to_numpy()
    ]
    return net


DIAG_S = np.hypot(500, 1000) / (60 / 3.6)  # B-D or D-C: 67.082 s


def _od(net, o, d, **kw):
    from accessibility.engine.travel_times import od_matrix

    origins = points(o, [f"o{i}" for i in range(len(o))])
    dests = points(d, [f"d{i}" for i in range(len(d))], name="sid")
    out = od_matrix(net, origins, dests, origin_id="pid", destination_id="sid", **kw)
    return out[C.TRAVEL_TIME_MIN].to_numpy().reshape(len(o), len(d)) * 60.0


def test_one_way_street_middle_point():
    # P, 100 m off the middle of the one-way B -> C: 100 m at 15 km/h = 24 s, then it can
    # only drive on to C: 0.5 * 100 s = 50 s -> C in 74 s (B is not reachable that way)
    net = _net()
    p = (X0 + 1500, Y0 + 100)
    out = snap_points(net, points([p], ["p"]), id_column="pid").iloc[0]
    assert out[C.NODE_ID] == 2
    assert out[C.SNAP_DISTANCE_M] == pytest.approx(100.0)
    assert out[C.ALONG_EDGE_M] == pytest.approx(500.0)
    assert out[C.OFFROAD_TIME_S] == pytest.approx(74.0)
    # as a destination: from B 50 s + 24 s; from C only round by D and B: 2 * 67.08 + 74
    t = _od(net, [(X0 + 1000, Y0), (X0 + 2000, Y0)], [p])
    np.testing.assert_allclose(t[:, 0], [74.0, 2 * DIAG_S + 74.0], atol=1e-9)
    # as an origin: to C 74 s; to B: C, D, B = 74 + 2 * 67.08 s
    t = _od(net, [p], [(X0 + 2000, Y0), (X0 + 1000, Y0)])
    np.testing.assert_allclose(t[0], [74.0, 74.0 + 2 * DIAG_S], atol=1e-9)


def test_point_nearer_the_slower_end_joins_the_faster_one():
    # Q at 40 % of A-B: A is 400 m away but 0.4 * 180 s = 72 s (uphill); B is 600 m away
    # and 0.6 * 60 s = 36 s. The old "nearer end" rule took A (72 s).
    net = _net()
    out = snap_points(net, points([(X0 + 400, Y0)], ["q"]), id_column="pid").iloc[0]
    assert out[C.NODE_ID] == 1
    assert out[C.ALONG_EDGE_M] == pytest.approx(600.0)
    assert out[C.OFFROAD_TIME_S] == pytest.approx(36.0)
    # to A it still drives the 72 s back (not B then A: 36 + 180)
    t = _od(net, [(X0 + 400, Y0)], [(X0, Y0), (X0 + 1000, Y0)])
    np.testing.assert_allclose(t[0], [72.0, 36.0], atol=1e-9)


def test_same_edge_both_orders():
    net = _net()
    # two-way A-B: 250 m -> 750 m is half of A -> B (30 s); back is half of B -> A (90 s)
    s1, s2 = (X0 + 250, Y0), (X0 + 750, Y0)
    t = _od(net, [s1, s2], [s1, s2])
    np.testing.assert_allclose(t, [[0.0, 30.0], [90.0, 0.0]], atol=1e-9)
    # one-way B -> C: 1200 m -> 1700 m directly (50 s); back round by C, D, B:
    # 30 s to C, 2 * 67.08 s to B, 20 s to the point
    r1, r2 = (X0 + 1200, Y0), (X0 + 1700, Y0)
    t = _od(net, [r1, r2], [r2, r1])
    np.testing.assert_allclose(t[:, 0], [50.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(t[:, 1], [0.0, 30.0 + 2 * DIAG_S + 20.0], atol=1e-9)


def test_same_point_is_zero_and_route_along_its_edge():
    from accessibility.engine.travel_times import route

    net = _net()
    q = Point(X0 + 400, Y0 + 30)  # 30 m off A-B: 7.2 s of access leg
    r = route(net, q, q)
    assert r.time_min == 0.0 and r.distance_km == 0.0 and r.nodes == ()
    # two points beside A-B: access 7.2 s + 0.2 * 60 s + access 7.2 s, no detour by a node
    r = route(net, q, Point(X0 + 600, Y0 + 30))
    assert r.time_min * 60 == pytest.approx(7.2 + 12.0 + 7.2)
    assert r.distance_km * 1000 == pytest.approx(30 + 200 + 30)
    assert r.nodes == ()
    assert list(r.geometry.coords) == [
        (X0 + 400, Y0 + 30), (X0 + 400, Y0), (X0 + 600, Y0), (X0 + 600, Y0 + 30)
    ]  # fmt: skip


def test_closed_road_gives_no_link():
    net = _net()
    net.edges["closed"] = (net.edges["u"] == 1) & (net.edges["v"] == 2)  # B -> C closed
    out = snap_points(net, points([(X0 + 1500, Y0 + 100)], ["p"]), id_column="pid").iloc[0]
    assert np.isinf(out[C.OFFROAD_TIME_S])  # beside a closed one-way road: cut off
    # at its end node, a point is at the node: still reachable
    t = _od(net, [(X0 + 1500, Y0 + 100), (X0 + 2000, Y0 + 0)], [(X0, Y0)])
    assert np.isnan(t[0, 0])
    assert t[1, 0] == pytest.approx(DIAG_S * 2 + 180.0)


# ----------------------------------------------------------------------------------------
# The access model hook


@dataclass(frozen=True)
class DensityLeg:
    """A test model: 5 km/h where the density column is >= 1000, else 15 km/h."""

    columns: tuple[str, ...] = ("density",)

    def __call__(self, distance_m, attributes=None):
        dense = np.asarray((attributes or {}).get("density", np.zeros(len(distance_m))))
        return distance_m / np.where(dense >= 1000, 5 / 3.6, 15 / 3.6)


def test_access_model_default_and_straight_leg():
    assert SnapOptions().access_model == StraightLeg(15.0)
    assert SnapOptions(offroad_speed_kph=30).access_model == StraightLeg(30.0)
    np.testing.assert_allclose(StraightLeg(36.0, detour=1.5)(np.array([100.0, 0.0])), [15, 0])
    with pytest.raises(ValueError, match="detour"):
        StraightLeg(15.0, detour=0.5)


def test_access_model_is_pluggable():
    from accessibility.engine.travel_times import nearest

    net = _net()
    p = (X0 + 1500, Y0 + 100)  # 100 m off B -> C, then 50 s to C
    fast = snap_points(net, points([p], ["p"]), id_column="pid", access=StraightLeg(30.0))
    assert fast[C.OFFROAD_TIME_S].iloc[0] == pytest.approx(12.0 + 50.0)
    half = SnapOptions(access=lambda d, attrs: d / 10.0)  # a plain function: 10 m/s
    pts = points([p, p], ["sparse", "dense"]).assign(density=[10.0, 5000.0])
    dest = points([(X0 + 2000, Y0)], ["C"], name="sid")
    got = nearest(net, pts, dest, origin_id="pid", destination_id="sid", snap=half)
    np.testing.assert_allclose(got[C.TRAVEL_TIME_MIN] * 60, [60.0, 60.0])
    got = nearest(
        net, pts, dest, origin_id="pid", destination_id="sid", snap=SnapOptions(access=DensityLeg())
    )
    # 100 m at 15 km/h = 24 s, at 5 km/h = 72 s; + 50 s along the road; C is on a node
    np.testing.assert_allclose(got[C.TRAVEL_TIME_MIN] * 60, [74.0, 122.0])
    # a layer without the column: the model gets no attribute and uses its default
    plain = snap_points(net, points([p], ["p"]), id_column="pid", access=DensityLeg())
    assert plain[C.OFFROAD_TIME_S].iloc[0] == pytest.approx(74.0)


def test_bad_access_model_is_named():
    net = _net()
    with pytest.raises(ValueError, match=r"origins: access model .* not finite seconds >= 0"):
        snap_points(
            net, points([(X0, Y0 + 5)], ["a"]), id_column="pid",
            access=lambda d, a: -d, where="origins",
        )  # fmt: skip
    with pytest.raises(ValueError, match="shape"):
        snap_points(net, points([(X0, Y0 + 5)], ["a"]), id_column="pid", access=lambda d, a: 1.0)
    with pytest.raises(ValueError, match="callable"):
        SnapOptions(access=15.0)
