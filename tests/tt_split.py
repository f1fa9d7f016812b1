"""Reference travel times for exact snapping, by brute force and networkx.

``split_graph_times(net, o_xy, d_xy)`` builds a networkx DiGraph of the OPEN edges of
``net`` with each point's projection inserted as a real node (the directed edges of its
road cut there, each part at its share of the edge's time) and the point itself linked
to the projection by its access leg at ``speed_kph``; the time of each pair is then a
plain Dijkstra (networkx). The nearest road is found by brute force over every edge
(shapely distances, not the engine's spatial index); a projection within 1e-6 m of an
end node is that node. Independent of the engine's snapping code on purpose.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import shapely

from accessibility.core import columns as C
from accessibility.network.graph import RoadNetwork


def _project(net: RoadNetwork, xy: np.ndarray) -> list[tuple[int, float, float]]:
    """For each point: (edge row, fraction along that edge's geometry, distance)."""
    geoms = net.edges.geometry.to_numpy()
    out = []
    for x, y in xy:
        p = shapely.Point(x, y)
        d = shapely.distance(geoms, p)
        i = int(np.argmin(d))
        g = geoms[i]
        proj = g.project(p)
        f = 0.0 if proj <= 1e-6 else 1.0 if g.length - proj <= 1e-6 else proj / g.length
        out.append((i, f, float(d[i])))
    return out


def _reverse_of(net: RoadNetwork, i: int) -> list[int]:
    """Rows of the directed edges v -> u drawn on the same line as edge row ``i``."""
    e = net.edges
    u, v = int(e[C.U].iat[i]), int(e[C.V].iat[i])
    same = (e[C.U] == v) & (e[C.V] == u) & ((e[C.LENGTH_M] - e[C.LENGTH_M].iat[i]).abs() < 1e-3)
    return [int(r) for r in np.flatnonzero(same.to_numpy())]


def split_graph(
    net: RoadNetwork, xy: np.ndarray, speed_kph: float = 15.0
) -> tuple[nx.DiGraph, list[object]]:
    """The split graph and the networkx node of each point (``("pt", k)``)."""
    e = net.edges
    closed = e["closed"].to_numpy(dtype=bool) if "closed" in e.columns else np.zeros(len(e), bool)
    tt = e[C.TRAVEL_TIME_S].to_numpy(dtype=float)
    u, v = e[C.U].to_numpy(), e[C.V].to_numpy()
    # cuts per directed edge row: (fraction along that row's direction, graph node)
    cuts: dict[int, list[tuple[float, object]]] = {}
    labels: list[object] = []
    g = nx.DiGraph()
    for k, (i, f, dist) in enumerate(_project(net, xy)):
        where: object = ("proj", k)
        if f == 0.0:
            where = int(u[i])
        elif f == 1.0:
            where = int(v[i])
        else:
            cuts.setdefault(i, []).append((f, where))
            for r in _reverse_of(net, i):
                cuts.setdefault(r, []).append((1.0 - f, where))
        leg = dist / (speed_kph / 3.6)
        g.add_edge(("pt", k), where, weight=leg)
        g.add_edge(where, ("pt", k), weight=leg)
        labels.append(("pt", k))
    for r in range(len(e)):
        if closed[r]:
            continue
        chain = [(0.0, int(u[r])), *sorted(cuts.get(r, []), key=lambda c: c[0]), (1.0, int(v[r]))]
        for (fa, a), (fb, b) in itertools.pairwise(chain):
            w = (fb - fa) * tt[r]
            if not g.has_edge(a, b) or g[a][b]["weight"] > w:
                g.add_edge(a, b, weight=w)
    return g, labels


def split_graph_times(
    net: RoadNetwork, o_xy: np.ndarray, d_xy: np.ndarray, speed_kph: float = 15.0
) -> np.ndarray:
    """Seconds from each origin to each destination (inf: unreachable), shape (o, d)."""
    g, labels = split_graph(net, np.vstack([o_xy, d_xy]), speed_kph)
    no = len(o_xy)
    rev = g.reverse(copy=False)
    out = np.full((no, len(d_xy)), np.inf)
    for j in range(len(d_xy)):
        ref = nx.single_source_dijkstra_path_length(rev, labels[no + j], weight="weight")
        for i in range(no):
            out[i, j] = ref.get(labels[i], np.inf)
    return out
