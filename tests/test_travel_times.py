"""Tests of accessibility.engine.travel_times: hand-checked grids, then networkx on real graphs.

On the grid (tests/tt_grid.py) each edge takes 1 minute, so with no oneway the time
between two nodes is their Manhattan distance in minutes.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from tt_grid import CRS, X0, Y0, grid_network, manhattan_min, node_points, node_xy, points
from tt_split import split_graph_times

from accessibility.core import columns as C
from accessibility.core.errors import NetworkError, SnapWarning
from accessibility.engine.travel_times import (
    k_nearest,
    nearest,
    nearest_node_times,
    node_times,
    od_matrix,
    route,
)
from accessibility.network.graph import RoadNetwork

N = 5
SPUR, ISLAND = 25, 26


@pytest.fixture(scope="module")
def grid():
    return grid_network(N)


@pytest.fixture(scope="module")
def grid_spur_island():
    # node 25: a oneway dead end entered from node 4 only (4 -> 25, nothing out);
    # nodes 26-27: a two-node island far from the grid
    return grid_network(
        N,
        extra=[
            ((X0 + 5000, Y0), [(4, SPUR)]),
            ((X0 + 20000, Y0 + 20000), []),
            ((X0 + 21000, Y0 + 20000), [(26, 27), (27, 26)]),
        ],
    )


def _services():
    # A: 250 m west of node 0 -> 250 m at 15 km/h = 60 s = 1 min of access leg.
    # B: on node 24.
    return points([(X0 - 250, Y0), node_xy(24, N)], ["A", "B"], name="sid")


def test_nearest_of_two_services(grid):
    # origin on node 2 (row 0, col 2): A = 2 min + 1 min leg = 3; B = 4 + 2 = 6 -> A, 3
    # origin on node 18 (row 3, col 3): B = 2; A = 6 + 1 = 7 -> B, 2
    # origin 300 m up the edge 1-6: 18 s to node 1 (0.3 min), then 1 min to node 0 and
    # the 1 min leg to A: 2.3; B = 7.3 -> A, 2.3
    origins = points([node_xy(2, N), node_xy(18, N), (X0 + 1000, Y0 + 300)], ["o2", "o18", "e"])
    out = nearest(grid, origins, _services(), origin_id="pid", destination_id="sid")
    assert list(out.columns) == [C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN]
    assert out[C.ORIGIN_ID].tolist() == ["o2", "o18", "e"]
    assert out[C.DESTINATION_ID].tolist() == ["A", "B", "A"]
    np.testing.assert_allclose(out[C.TRAVEL_TIME_MIN], [3.0, 2.0, 2.3], atol=1e-12)


def test_nearest_same_node_keeps_the_smaller_leg(grid):
    # two services snap to node 0: "far" 600 m west (2.4 min leg), "near" on the node
    origins = node_points([12], N)
    services = points([(X0 - 600, Y0), node_xy(0, N)], ["far", "near"], name="sid")
    out = nearest(grid, origins, services, origin_id="pid", destination_id="sid")
    assert out[C.DESTINATION_ID].tolist() == ["near"]
    assert out[C.TRAVEL_TIME_MIN].iloc[0] == pytest.approx(4.0)


def test_k_nearest(grid):
    origins = points([node_xy(2, N), node_xy(18, N)], ["o2", "o18"])
    out = k_nearest(grid, origins, _services(), 2, origin_id="pid", destination_id="sid")
    assert out["rank"].tolist() == [1, 2, 1, 2]
    assert out[C.ORIGIN_ID].tolist() == ["o2", "o2", "o18", "o18"]
    assert out[C.DESTINATION_ID].tolist() == ["A", "B", "B", "A"]
    np.testing.assert_allclose(out[C.TRAVEL_TIME_MIN], [3.0, 6.0, 2.0, 7.0], atol=1e-12)
    # k larger than the number of destinations: all of them
    assert len(k_nearest(grid, origins, _services(), 5, origin_id="pid", destination_id="sid")) == 4


def test_od_matrix_is_manhattan(grid):
    origins = node_points(list(range(N * N)), N)
    dests = node_points([0, 12, 23], N, name="did")
    out = od_matrix(grid, origins, dests, origin_id="pid", destination_id="did")
    assert len(out) == 75
    expected = [manhattan_min(o, d, N) for o in range(N * N) for d in (0, 12, 23)]
    assert out[C.ORIGIN_ID].tolist() == [o for o in range(N * N) for _ in range(3)]
    assert out[C.DESTINATION_ID].tolist() == [0, 12, 23] * N * N
    np.testing.assert_allclose(out[C.TRAVEL_TIME_MIN], expected, atol=1e-9)


def test_limit(grid):
    origins = node_points(list(range(N * N)), N)
    dests = node_points([0], N, name="did")
    out = od_matrix(grid, origins, dests, origin_id="pid", destination_id="did", limit_min=3)
    manh = np.array([manhattan_min(o, 0, N) for o in range(N * N)])
    t = out[C.TRAVEL_TIME_MIN].to_numpy()
    assert np.isnan(t[manh > 3]).all()
    np.testing.assert_allclose(t[manh <= 3], manh[manh <= 3])  # 3.0 itself is kept
    # nearest with a limit: o2 needs 3 min (> 2.5) -> NaN and no destination
    origins = points([node_xy(2, N), node_xy(18, N)], ["o2", "o18"])
    near = nearest(grid, origins, _services(), origin_id="pid", destination_id="sid", limit_min=2.5)
    assert near[C.DESTINATION_ID].isna().tolist() == [True, False]
    assert np.isnan(near[C.TRAVEL_TIME_MIN].iloc[0])
    assert near[C.TRAVEL_TIME_MIN].iloc[1] == pytest.approx(2.0)


def test_unreachable_is_nan(grid_spur_island):
    net = grid_spur_island
    origins = points([(X0 + 5000, Y0), (X0 + 20000, Y0 + 20000), node_xy(0, N)], [101, 102, 103])
    services = points([node_xy(12, N)], ["S"], name="sid")
    out = nearest(net, origins, services, origin_id="pid", destination_id="sid")
    # from the dead end (no arc out) and from the island nothing is reachable
    assert out[C.TRAVEL_TIME_MIN].isna().tolist() == [True, True, False]
    assert out[C.DESTINATION_ID].isna().tolist() == [True, True, False]
    assert out[C.TRAVEL_TIME_MIN].iloc[2] == pytest.approx(4.0)
    # the other way round: a service on the dead end is reached from the grid through 4
    # (node 0 -> node 4 = 4 min, 4 -> 25 = 1 min), not from the island
    spur_service = points([(X0 + 5000, Y0)], [7], name="sid")
    out = od_matrix(net, origins, spur_service, origin_id="pid", destination_id="sid")
    assert out[C.TRAVEL_TIME_MIN].iloc[0] == pytest.approx(0.0)
    assert np.isnan(out[C.TRAVEL_TIME_MIN].iloc[1])
    assert out[C.TRAVEL_TIME_MIN].iloc[2] == pytest.approx(5.0)
    # integer destination ids stay integers, with <NA> for "none reached"
    out = nearest(net, origins, spur_service, origin_id="pid", destination_id="sid")
    assert str(out[C.DESTINATION_ID].dtype) == "Int64"
    assert out[C.DESTINATION_ID].isna().tolist() == [False, True, False]


def test_oneway_direction_matters():
    # edge 0-1 is oneway 1 -> 0. To a service on 0 from node 1: 1 min. To a service on 1
    # from node 0: around by 0 -> 5 -> 6 -> 1 = 3 min.
    net = grid_network(N, oneway=[(1, 0)])
    on0 = node_points([0], N, name="sid")
    on1 = node_points([1], N, name="sid")
    t = nearest(net, node_points([1], N), on0, origin_id="pid", destination_id="sid")
    assert t[C.TRAVEL_TIME_MIN].iloc[0] == pytest.approx(1.0)
    t = nearest(net, node_points([0], N), on1, origin_id="pid", destination_id="sid")
    assert t[C.TRAVEL_TIME_MIN].iloc[0] == pytest.approx(3.0)
    r = route(net, node_xy_point(0), node_xy_point(1))
    assert r.nodes == (0, 5, 6, 1)
    assert r.time_min == pytest.approx(3.0)
    assert r.distance_km == pytest.approx(3.0)


def node_xy_point(node):
    from shapely.geometry import Point

    return Point(node_xy(node, N))


def test_route(grid):
    from shapely.geometry import Point

    # from 300 m up the edge 1-6 to node 24: node 1 (18 s) then 3 + 4 = 7 min, or node 6
    # (700 m, 42 s) then 3 + 3 = 6 min: the faster end, 6.7 min, not the nearer one
    a = Point(X0 + 1000, Y0 + 300)
    r = route(grid, a, node_xy_point(24))
    assert r.time_min == pytest.approx(6.7)
    assert r.distance_km == pytest.approx(6.7)
    assert r.nodes[0] == 6 and r.nodes[-1] == 24 and len(r.nodes) == 7
    assert r.geometry.length == pytest.approx(6700.0)
    assert r.geometry.coords[0] == (X0 + 1000, Y0 + 300)
    assert r.geometry.coords[-1] == node_xy(24, N)
    # the same pair through od_matrix
    od = od_matrix(
        grid,
        points([(X0 + 1000, Y0 + 300)], ["a"]),
        node_points([24], N, name="sid"),
        origin_id="pid",
        destination_id="sid",
    )
    assert od[C.TRAVEL_TIME_MIN].iloc[0] == pytest.approx(r.time_min, abs=1e-12)
    # lon/lat input
    lonlat = node_points([0, 24], N).to_crs("EPSG:4326").geometry
    r = route(grid, lonlat.iloc[0], lonlat.iloc[1], crs="EPSG:4326")
    assert r.time_min == pytest.approx(8.0)


def test_route_unreachable(grid_spur_island):
    with pytest.raises(NetworkError, match="no path"):
        route(grid_spur_island, node_xy_point(0), Point_(X0 + 20000, Y0 + 20000))


def Point_(x, y):
    from shapely.geometry import Point

    return Point(x, y)


# ----------------------------------------------------------------------------------------
# Against networkx


def _nx_to_target(g: nx.MultiDiGraph, target: int) -> dict[int, float]:
    """Seconds from every node to ``target`` (networkx: min over parallel edges)."""
    rev = g.reverse(copy=False)
    return nx.single_source_dijkstra_path_length(rev, target, weight="travel_time_s")


def test_node_times_match_networkx_on_a_grid_with_oneways():
    rng = np.random.default_rng(1)
    n = 8
    pairs = [(a, a + 1) for a in range(n * n) if (a % n) < n - 1]
    oneway = [pairs[i] for i in rng.choice(len(pairs), 15, replace=False)]
    net = grid_network(n, oneway=oneway)
    g = net.to_networkx()
    sources = np.arange(n * n)
    ours = node_times(net, sources, reverse=True)
    for s in sources:
        ref = _nx_to_target(g, int(s))
        exp = np.array([ref.get(i, np.inf) for i in range(n * n)])
        np.testing.assert_array_equal(np.isinf(ours[s]), np.isinf(exp))
        fin = np.isfinite(exp)
        assert np.max(np.abs(ours[s][fin] - exp[fin])) < 1e-9
    fwd = node_times(net, [0], reverse=False)[0]
    ref = nx.single_source_dijkstra_path_length(g, 0, weight="travel_time_s")
    np.testing.assert_allclose(fwd, [ref[i] for i in range(n * n)], rtol=0, atol=1e-9)


def test_nearest_node_times_with_offsets_is_the_min_over_sources():
    # brute force: min over sources of (offset + time), on a grid with oneways
    rng = np.random.default_rng(2)
    n = 7
    net = grid_network(n, oneway=[(1, 0), (9, 8), (20, 13), (30, 31)])
    src = rng.choice(n * n, 6, replace=False)
    src = np.append(src, src[0])  # a repeated node with another offset
    off = rng.uniform(0, 300, len(src))
    times, which = nearest_node_times(net, src, offsets_s=off)
    full = node_times(net, src) + off[:, None]
    np.testing.assert_allclose(times, full.min(axis=0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(full[which, np.arange(n * n)], times, rtol=0, atol=1e-9)
    # without offsets (the min_only fast path)
    times0, which0 = nearest_node_times(net, src)
    full0 = node_times(net, src)
    np.testing.assert_allclose(times0, full0.min(axis=0), rtol=0, atol=1e-9)
    np.testing.assert_allclose(full0[which0, np.arange(n * n)], times0, rtol=0, atol=1e-9)
    # limit: beyond it, inf and no source
    lim, wl = nearest_node_times(net, src, offsets_s=off, limit_s=200.0)
    assert np.array_equal(np.isinf(lim), times > 200.0)
    assert (wl[np.isinf(lim)] == -1).all()


@pytest.mark.integration
def test_matches_networkx_on_liechtenstein(paths):
    from accessibility.inputs.sources import fetch
    from accessibility.network.osm import read_osm

    net = read_osm(fetch("roads/osm/liechtenstein-latest.osm.pbf", paths))
    rng = np.random.default_rng(42)
    xy = net.nodes[["x", "y"]].to_numpy()
    # 300 origins: random nodes moved up to 200 m off the road; 15 services
    o_xy = xy[rng.choice(net.n_nodes, 300, replace=False)] + rng.uniform(-200, 200, (300, 2))
    d_xy = xy[rng.choice(net.n_nodes, 15, replace=False)] + rng.uniform(-50, 50, (15, 2))
    origins = points([tuple(p) for p in o_xy], list(range(300)))
    dests = points([tuple(p) for p in d_xy], [f"s{i}" for i in range(15)], name="sid")
    # expected, from networkx on the graph with every projection inserted as a node
    exp = split_graph_times(net, o_xy, d_xy) / 60.0
    exp[np.isinf(exp)] = np.nan
    od = od_matrix(net, origins, dests, origin_id="pid", destination_id="sid")
    got = od[C.TRAVEL_TIME_MIN].to_numpy().reshape(300, 15)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    assert np.nanmax(np.abs(got - exp)) < 1e-9
    # the nearest: min over the row (the network is not cut to its largest component,
    # so a few origins reach no service: NaN and no destination)
    best = np.where(np.isnan(exp), np.inf, exp).min(axis=1)
    best[np.isinf(best)] = np.nan
    near = nearest(net, origins, dests, origin_id="pid", destination_id="sid")
    np.testing.assert_allclose(near[C.TRAVEL_TIME_MIN], best, rtol=0, atol=1e-9)
    reached = near[C.DESTINATION_ID].notna().to_numpy()
    np.testing.assert_array_equal(reached, np.isfinite(best))
    chosen = pd.Series(range(15), index=[f"s{i}" for i in range(15)])[
        near.loc[reached, C.DESTINATION_ID]
    ].to_numpy()
    got_best = exp[reached][np.arange(reached.sum()), chosen]
    np.testing.assert_allclose(got_best, best[reached], atol=1e-9)
    # limited matrix: same values up to 10 minutes, NaN beyond
    lim = od_matrix(net, origins, dests, origin_id="pid", destination_id="sid", limit_min=10)
    lt = lim[C.TRAVEL_TIME_MIN].to_numpy().reshape(300, 15)
    within = exp <= 10
    np.testing.assert_allclose(lt[within], exp[within], rtol=0, atol=1e-9)
    assert np.isnan(lt[~within]).all()


# ----------------------------------------------------------------------------------------
# Exact snapping against networkx on the graph with the projections inserted as nodes


def random_network(seed: int, n: int = 30) -> RoadNetwork:
    """A random road network: each node joined to its 3 nearest neighbours; each road
    two-way (different speeds each way), one-way (random direction) or two-way and
    closed by a scenario; a third of the roads bent (a middle vertex)."""
    rng = np.random.default_rng(seed)
    xy = np.column_stack([X0 + rng.uniform(0, 5000, n), Y0 + rng.uniform(0, 5000, n)])
    pairs = set()
    for i in range(n):
        near = np.argsort(np.hypot(*(xy - xy[i]).T))[1:4]
        pairs |= {(min(i, int(j)), max(i, int(j))) for j in near}
    rows = []
    for a, b in sorted(pairs):
        kind = rng.choice(["two", "one", "closed"], p=[0.55, 0.35, 0.1])
        mid = (xy[a] + xy[b]) / 2 + (rng.normal(0, 150, 2) if rng.random() < 0.33 else 0)
        line = LineString([xy[a], mid, xy[b]])
        dirs = [(a, b, line), (b, a, line.reverse())]
        if kind == "one":
            dirs = [dirs[int(rng.integers(2))]]
        for u, v, g in dirs:
            kph = float(rng.uniform(20, 90))
            rows.append((u, v, g.length, kph, g.length / (kph / 3.6), kind == "closed", g))
    edges = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["u", "v", "length_m", "speed_kph", "travel_time_s",
                                    "closed", "geometry"]).assign(road_class="test"),
        geometry="geometry",
        crs=CRS,
    )  # fmt: skip
    nodes = gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1]}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS
    )
    return RoadNetwork(nodes, edges, meta={"source": f"random {seed}"})


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_exact_snapping_matches_networkx_on_random_networks(seed):
    net = random_network(seed)
    rng = np.random.default_rng(100 + seed)
    o_xy = np.column_stack([X0 + rng.uniform(-200, 5200, 40), Y0 + rng.uniform(-200, 5200, 40)])
    d_xy = np.column_stack([X0 + rng.uniform(-200, 5200, 8), Y0 + rng.uniform(-200, 5200, 8)])
    exp = split_graph_times(net, o_xy, d_xy) / 60.0
    assert np.isfinite(exp).sum() > 40  # the test compares real routes
    origins = points([tuple(p) for p in o_xy], list(range(40)))
    dests = points([tuple(p) for p in d_xy], [f"s{i}" for i in range(8)], name="sid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        od = od_matrix(net, origins, dests, origin_id="pid", destination_id="sid")
        near = nearest(net, origins, dests, origin_id="pid", destination_id="sid")
        r = [route(net, Point(*o_xy[i]), Point(*d_xy[i % 8])) for i in range(0, 40, 5)
             if np.isfinite(exp[i, i % 8])]  # fmt: skip
    got = od[C.TRAVEL_TIME_MIN].to_numpy().reshape(40, 8)
    np.testing.assert_array_equal(np.isnan(got), np.isinf(exp))
    fin = np.isfinite(exp)
    assert np.max(np.abs(got[fin] - exp[fin])) < 1e-9
    best = exp.min(axis=1)
    np.testing.assert_array_equal(near[C.TRAVEL_TIME_MIN].isna(), np.isinf(best))
    ok = np.isfinite(best)
    assert np.max(np.abs(near[C.TRAVEL_TIME_MIN].to_numpy()[ok] - best[ok])) < 1e-9
    want = [exp[i, i % 8] for i in range(0, 40, 5) if np.isfinite(exp[i, i % 8])]
    np.testing.assert_allclose([x.time_min for x in r], want, rtol=0, atol=1e-9)


def test_reach_equals_nearest_with_exact_snapping():
    # the diagnostic's Reach (snap once, many sets) gives the exact times of nearest()
    from accessibility.indicators.nearest import Reach

    net = random_network(2)
    rng = np.random.default_rng(7)
    o_xy = np.column_stack([X0 + rng.uniform(0, 5000, 30), Y0 + rng.uniform(0, 5000, 30)])
    d_xy = np.column_stack([X0 + rng.uniform(0, 5000, 6), Y0 + rng.uniform(0, 5000, 6)])
    origins = points([tuple(p) for p in o_xy], list(range(30)))
    dests = points([tuple(p) for p in d_xy], [f"s{i}" for i in range(6)], name="sid")
    mask = np.array([True, False, True, True, False, True])
    exp = split_graph_times(net, o_xy, d_xy[mask]).min(axis=1) / 60.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        got = Reach(net, origins, dests, origin_id="pid", destination_id="sid").nearest_min(mask)
    np.testing.assert_array_equal(np.isnan(got), np.isinf(exp))
    fin = np.isfinite(exp)
    assert fin.sum() > 10
    assert np.max(np.abs(got[fin] - exp[fin])) < 1e-9


def test_same_piece_pairs_is_the_equi_join_of_the_piece_keys():
    # the numpy join against a pandas merge, on random keys (pieces, or nodes when -1)
    from types import SimpleNamespace

    from accessibility.engine.travel_times import _same_piece_pairs

    class Pts(SimpleNamespace):
        def __len__(self) -> int:
            return len(self.piece)

    def key(s):  # type: ignore[no-untyped-def]
        return np.where(s.piece >= 0, s.piece, -1 - s.node)

    rng = np.random.default_rng(7)
    for _ in range(100):
        n, m = rng.integers(0, 25, 2)
        o = Pts(piece=rng.integers(-1, 5, n), node=rng.integers(0, 4, n))
        d = Pts(piece=rng.integers(-1, 5, m), node=rng.integers(0, 4, m))
        io, jd = _same_piece_pairs(o, d)  # type: ignore[arg-type]
        ref = pd.DataFrame({"k": key(o), "o": np.arange(n)}).merge(
            pd.DataFrame({"k": key(d), "d": np.arange(m)}), on="k"
        )
        assert sorted(zip(io.tolist(), jd.tolist(), strict=True)) == sorted(
            zip(ref["o"].tolist(), ref["d"].tolist(), strict=True)
        )
