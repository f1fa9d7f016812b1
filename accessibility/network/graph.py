"""The road-network contract shared by every reader and by the travel-time engine.

A :class:`RoadNetwork` is a directed graph in a metric CRS (Lambert-93, EPSG:2154, for
France) held as two GeoDataFrames:

``nodes``
    index ``node_id`` = 0 .. n-1 (contiguous ints); columns ``x``, ``y`` (CRS units,
    metres) and ``geometry`` (Point).
``edges``
    one row per *directed* edge (a two-way road is two rows); columns ``u``, ``v``
    (node ids), ``length_m``, ``speed_kph``, ``travel_time_s``, ``road_class`` and
    ``geometry`` (LineString from u to v, kept for maps). Readers may add columns
    (``ref``, ``name``, ``mountain``, ``oneway``...). A scenario may add ``closed``
    (bool): closed edges are kept for snapping and maps but never routed on.

Keeping the tables (rather than a networkx graph) makes national networks cheap: the
engine routes on a scipy CSR matrix built from ``u, v, travel_time_s``;
:meth:`RoadNetwork.to_networkx` gives an osmnx-style MultiDiGraph for users and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import scipy.sparse as sp

from accessibility.core import columns as C
from accessibility.core.errors import NetworkError

EDGE_COLUMNS = (C.U, C.V, C.LENGTH_M, C.SPEED_KPH, C.TRAVEL_TIME_S, C.ROAD_CLASS, "geometry")


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph in a metric CRS (see the module docstring)."""

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Where it comes from and what was done: source, vintage, parameters, removed parts."""

    def __post_init__(self) -> None:
        validate(self)

    @property
    def crs(self) -> Any:
        return self.nodes.crs

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    @cached_property
    def _csr_cache(self) -> dict[str, sp.csr_matrix]:
        return {}

    def csr(self, weight: str = C.TRAVEL_TIME_S) -> sp.csr_matrix:
        """The graph as an n × n CSR matrix of ``weight`` (parallel edges: the minimum).

        Zero weights are stored as a tiny positive value, because scipy's csgraph reads
        an explicit 0 as "no edge".
        """
        cache = self._csr_cache
        if weight not in cache:
            e = self.open_edges
            w = e[weight].to_numpy(dtype=float)
            w = np.where(w <= 0, 1e-9, w)
            u = e[C.U].to_numpy()
            v = e[C.V].to_numpy()
            # keep the minimum of parallel edges: sort by weight descending so that the
            # last (smallest) one wins when coo -> csr sums are avoided via a dict-free trick
            order = np.lexsort((-w, v, u))
            u, v, w = u[order], v[order], w[order]
            last = np.ones(len(u), dtype=bool)
            last[:-1] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
            n = self.n_nodes
            cache[weight] = sp.csr_matrix((w[last], (u[last], v[last])), shape=(n, n))
        return cache[weight]

    @property
    def open_edges(self) -> gpd.GeoDataFrame:
        """The edges that can be driven: all but those a scenario marks ``closed``.

        A closed road stays in :attr:`edges` (places beside it still snap to it, as on
        the base network) but is left out of routing.
        """
        if "closed" not in self.edges.columns:
            return self.edges
        return self.edges[~self.edges["closed"].fillna(False).astype(bool).to_numpy()]

    def to_networkx(self) -> nx.MultiDiGraph:
        """An osmnx-style MultiDiGraph (node attributes x, y; edge attributes as columns)."""
        g = nx.MultiDiGraph(crs=self.crs, **{k: v for k, v in self.meta.items() if k != "crs"})
        for nid, x, y in zip(self.nodes.index, self.nodes["x"], self.nodes["y"], strict=True):
            g.add_node(int(nid), x=float(x), y=float(y))
        edges = self.open_edges
        attrs = [c for c in edges.columns if c not in (C.U, C.V)]
        for row in edges[[C.U, C.V, *attrs]].itertuples(index=False):
            g.add_edge(int(row[0]), int(row[1]), **dict(zip(attrs, row[2:], strict=True)))
        return g


def validate(net: RoadNetwork) -> None:
    """Check the contract; raise :class:`NetworkError` naming what is wrong."""
    nodes, edges = net.nodes, net.edges
    for col in ("x", "y", "geometry"):
        if col not in nodes.columns:
            raise NetworkError(f"RoadNetwork.nodes: missing column {col!r}")
    missing = [c for c in EDGE_COLUMNS if c not in edges.columns]
    if missing:
        raise NetworkError(f"RoadNetwork.edges: missing column(s) {', '.join(missing)}")
    n = len(nodes)
    if n == 0 or len(edges) == 0:
        raise NetworkError("RoadNetwork: the network has no node or no edge (no drivable road?)")
    if not np.array_equal(nodes.index.to_numpy(), np.arange(n)):
        raise NetworkError("RoadNetwork.nodes: the index must be node ids 0 .. n-1 in order")
    if nodes.crs is None or not nodes.crs.is_projected:
        raise NetworkError(
            f"RoadNetwork: nodes must be in a projected (metric) CRS, got {nodes.crs}"
        )
    u = edges[C.U].to_numpy()
    v = edges[C.V].to_numpy()
    if u.min() < 0 or v.min() < 0 or u.max() >= n or v.max() >= n:
        raise NetworkError("RoadNetwork.edges: u/v refer to node ids outside 0 .. n-1")
    speed = edges[C.SPEED_KPH].to_numpy(dtype=float)
    if not np.all(np.isfinite(speed)) or (speed <= 0).any():
        bad = edges.loc[~(np.isfinite(speed) & (speed > 0)), C.ROAD_CLASS].astype(str).unique()[:5]
        raise NetworkError(
            f"RoadNetwork.edges: speed_kph must be > 0 everywhere; zero, negative or missing "
            f"speeds on road classes {', '.join(bad)}"
        )
    tt = edges[C.TRAVEL_TIME_S].to_numpy(dtype=float)
    length = edges[C.LENGTH_M].to_numpy(dtype=float)
    if not (np.all(np.isfinite(tt)) and np.all(tt >= 0) and np.all(length >= 0)):
        raise NetworkError("RoadNetwork.edges: length_m and travel_time_s must be finite and >= 0")
