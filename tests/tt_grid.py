"""Hand-made road networks for the travel-time tests (answers checkable by hand).

``grid_network(n)``: an n × n grid of nodes 1 km apart, node id ``row * n + col`` at
``(X0 + col * 1000, Y0 + row * 1000)`` in Lambert-93; two-way edges of 1 km at 60 km/h,
so each edge takes exactly 1 minute and, with no oneway, the time between two nodes is
their Manhattan distance in minutes.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from accessibility.network.graph import RoadNetwork

X0, Y0 = 960_000.0, 6_470_000.0  # somewhere in Savoie, Lambert-93
CRS = "EPSG:2154"


def node_xy(node: int, n: int) -> tuple[float, float]:
    row, col = divmod(node, n)
    return X0 + col * 1000.0, Y0 + row * 1000.0


def make_network(
    xy: list[tuple[float, float]], arcs: Iterable[tuple[int, int]], speed_kph: float = 60.0
) -> RoadNetwork:
    """A network from node coordinates and *directed* arcs (straight edges)."""
    nodes = gpd.GeoDataFrame(
        {"x": [p[0] for p in xy], "y": [p[1] for p in xy]},
        geometry=[Point(p) for p in xy],
        crs=CRS,
    )
    rows = []
    for u, v in arcs:
        line = LineString([xy[u], xy[v]])
        rows.append(
            {
                "u": u,
                "v": v,
                "length_m": line.length,
                "speed_kph": speed_kph,
                "travel_time_s": line.length / (speed_kph / 3.6),
                "road_class": "test",
                "geometry": line,
            }
        )
    edges = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)
    return RoadNetwork(nodes, edges, meta={"source": "test grid"})


def grid_arcs(n: int) -> list[tuple[int, int]]:
    """Both directions of every grid edge."""
    arcs = []
    for r in range(n):
        for c in range(n):
            a = r * n + c
            if c + 1 < n:
                arcs += [(a, a + 1), (a + 1, a)]
            if r + 1 < n:
                arcs += [(a, a + n), (a + n, a)]
    return arcs


def grid_network(
    n: int = 5,
    *,
    oneway: Iterable[tuple[int, int]] = (),
    extra: Iterable[tuple[tuple[float, float], Iterable[tuple[int, int]]]] = (),
) -> RoadNetwork:
    """The n × n grid; ``oneway`` pairs (a, b) keep only a → b.

    ``extra`` adds nodes: each item is ``((x, y), arcs)`` where the new node gets the
    next id and ``arcs`` are extra directed arcs (any ids).
    """
    xy = [node_xy(i, n) for i in range(n * n)]
    drop = {(b, a) for a, b in oneway}
    arcs = [a for a in grid_arcs(n) if a not in drop]
    for p, more in extra:
        xy.append(p)
        arcs += list(more)
    return make_network(xy, arcs)


def points(coords: list[tuple[float, float]], ids: list, name: str = "pid") -> gpd.GeoDataFrame:
    """A point layer in Lambert-93 with an id column ``name``."""
    return gpd.GeoDataFrame({name: ids}, geometry=[Point(p) for p in coords], crs=CRS)


def manhattan_min(a: int, b: int, n: int) -> float:
    ra, ca = divmod(a, n)
    rb, cb = divmod(b, n)
    return float(abs(ra - rb) + abs(ca - cb))


def node_points(nodes: list[int], n: int, name: str = "pid") -> gpd.GeoDataFrame:
    """Points exactly on grid nodes, id = node id."""
    return points([node_xy(i, n) for i in nodes], list(nodes), name)


__all__ = ["CRS", "X0", "Y0", "grid_network", "make_network", "node_points", "points"]
