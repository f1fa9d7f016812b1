"""The travel-time engine: nearest service, k nearest, origin-destination matrix, route.

Every function routes on the network's CSR matrix of ``travel_time_s`` with scipy's
Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`): results equal a plain Dijkstra over
the same graph (parallel edges: the fastest). Trips are *to* the destinations (to the
service), so the searches start from the destinations on the reversed graph: one search
per destination node, or a single multi-source search for "the nearest".

Times include the access legs at both ends (see :mod:`accessibility.engine.snapping`):
``time = offroad(origin) + network(origin node → destination node) + offroad(destination)``.

The tables are tidy and long, with columns ``origin_id``, ``destination_id``,
``travel_time_min``; an unreachable pair, or one beyond ``limit_min``, has NaN.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point
from shapely.ops import substring

from accessibility.core import columns as C
from accessibility.core.errors import NetworkError
from accessibility.engine.snapping import (
    DEFAULT_SNAP,
    SnapOptions,
    _Snap,
    edge_geometries,
    point_coordinates,
    snap_xy,
    warn_far,
)
from accessibility.network.graph import RoadNetwork

#: Largest Dijkstra output kept in memory at once (float64 cells), ~256 MB.
_MAX_CELLS = 32_000_000

_REVERSED: weakref.WeakKeyDictionary[RoadNetwork, sp.csr_matrix] = weakref.WeakKeyDictionary()


def graph_matrix(net: RoadNetwork, *, reverse: bool = False) -> sp.csr_matrix:
    """The CSR matrix of travel times in seconds, reversed (transposed) if asked."""
    if not reverse:
        return net.csr(C.TRAVEL_TIME_S)
    if net not in _REVERSED:
        _REVERSED[net] = net.csr(C.TRAVEL_TIME_S).T.tocsr()
    return _REVERSED[net]


def node_times(
    net: RoadNetwork,
    source_nodes: Sequence[int] | np.ndarray,
    *,
    reverse: bool = True,
    limit_s: float | None = None,
) -> np.ndarray:
    """Network travel times (seconds) between each source node and every node.

    Parameters
    ----------
    net
        The road network.
    source_nodes
        Node ids to search from.
    reverse
        True (default): time *from* every node *to* the source (search on the reversed
        graph, as for trips to a service). False: time from the source to every node.
    limit_s
        Stop the searches at this time; nodes beyond it are unreached.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(source_nodes), n_nodes)``, seconds; ``inf`` where unreached (the
        IEEE value for "no path", so that ``min`` works; tables turn it into NaN).
    """
    src = np.asarray(source_nodes, dtype=np.int64).reshape(-1)
    if len(src) == 0:
        return np.empty((0, net.n_nodes))
    return dijkstra(
        graph_matrix(net, reverse=reverse),
        directed=True,
        indices=src,
        limit=np.inf if limit_s is None else float(limit_s),
    )


def nearest_node_times(
    net: RoadNetwork,
    source_nodes: Sequence[int] | np.ndarray,
    *,
    offsets_s: Sequence[float] | np.ndarray | None = None,
    reverse: bool = True,
    limit_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Time between every node and its nearest source, in one multi-source search.

    Parameters
    ----------
    net
        The road network.
    source_nodes
        Node id of each source (repeats allowed).
    offsets_s
        Time already spent at each source (its access leg), added exactly: the search
        starts from a virtual node linked to each source node by an edge of that weight.
    reverse
        True (default): time from every node *to* its nearest source.
    limit_s
        Stop the search at this time (offsets included).

    Returns
    -------
    times : numpy.ndarray
        ``(n_nodes,)`` seconds, ``inf`` where no source is reached.
    source : numpy.ndarray
        ``(n_nodes,)`` position in ``source_nodes`` of the nearest source, -1 where none.
    """
    src = np.asarray(source_nodes, dtype=np.int64).reshape(-1)
    n = net.n_nodes
    if len(src) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    off = np.zeros(len(src)) if offsets_s is None else np.asarray(offsets_s, dtype=float)
    limit = np.inf if limit_s is None else float(limit_s)
    # best source at each source node: the smallest offset (first one on ties)
    order = np.lexsort((np.arange(len(src)), off, src))
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = src[order][1:] != src[order][:-1]
    best = order[keep]  # positions in src, one per distinct node
    node_to_source = np.full(n, -1, dtype=np.int64)
    node_to_source[src[best]] = best
    A = graph_matrix(net, reverse=reverse)

    if not off[best].any():
        dist, _, roots = dijkstra(
            A,
            directed=True,
            indices=src[best],
            limit=limit,
            min_only=True,
            return_predecessors=True,
        )
        roots = np.asarray(roots, dtype=np.int64)
        source = np.where(roots >= 0, node_to_source[np.maximum(roots, 0)], -1)
        return dist, source

    # A virtual node n with an edge of weight offset + shift to each source node. The
    # shift keeps the weights > 0 (csgraph reads 0 as "no edge") and is subtracted after.
    shift = 1.0
    aug = sp.csr_matrix(
        (
            np.concatenate([A.data, off[best] + shift]),
            np.concatenate([A.indices, src[best]]),
            np.concatenate([A.indptr, [A.nnz + len(best)]]),
        ),
        shape=(n + 1, n + 1),
    )
    dist, pred = dijkstra(
        aug, directed=True, indices=n, limit=limit + shift, return_predecessors=True
    )
    dist = dist[:n] - shift
    # The source of a node is the first node of its path after the virtual node: follow
    # the predecessor tree up by pointer jumping (log(depth) vectorised steps).
    pred = pred[:n].astype(np.int64)
    parent = np.where((pred < 0) | (pred == n), np.arange(n), pred)
    while True:
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    source = np.where(np.isfinite(dist), node_to_source[parent], -1)
    return dist, source


# ----------------------------------------------------------------------------------------
# Tables from point layers


def _snap_layer(
    net: RoadNetwork, gdf: gpd.GeoDataFrame, id_column: str, where: str, snap: SnapOptions
) -> tuple[np.ndarray, _Snap]:
    xy = point_coordinates(net, gdf, id_column=id_column, where=where)
    s = snap_xy(net, xy, snap)
    ids = gdf[id_column].to_numpy()
    warn_far(ids, s.distance_m, snap.max_snap_m, where=where)
    return ids, s


def _take_ids(ids: np.ndarray, idx: np.ndarray) -> pd.Series:
    """``ids[idx]`` with a missing value where ``idx`` is -1 (nullable ints stay ints)."""
    idx = np.asarray(idx)
    missing = idx < 0
    values = pd.Series(ids).iloc[np.maximum(idx, 0)].reset_index(drop=True)
    if missing.any():
        if pd.api.types.is_integer_dtype(values.dtype):
            values = values.astype("Int64")
        else:
            values = values.astype(object)
        values[missing] = None
    return values


def _limit_s(limit_min: float | None) -> float | None:
    if limit_min is None:
        return None
    if not limit_min >= 0:
        raise ValueError(f"limit_min must be >= 0 minutes, got {limit_min}")
    return float(limit_min) * 60.0


def nearest(
    net: RoadNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    origin_id: str,
    destination_id: str,
    limit_min: float | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
) -> pd.DataFrame:
    """The nearest destination (in time) of each origin, and the time to reach it.

    One multi-source Dijkstra from all destinations on the reversed graph, each starting
    with its own access leg (exact, see :func:`nearest_node_times`).

    Parameters
    ----------
    net
        The road network.
    origins, destinations
        Point layers with a CRS and a unique id column each.
    origin_id, destination_id
        Names of the id columns.
    limit_min
        Times above this are NaN (and the destination missing).
    snap
        Snapping options (see :mod:`accessibility.engine.snapping`).

    Returns
    -------
    pandas.DataFrame
        One row per origin, in input order: ``origin_id``, ``destination_id`` (missing
        when none is reached), ``travel_time_min`` (NaN when none is reached).
    """
    oids, osnap = _snap_layer(net, origins, origin_id, "origins", snap)
    dids, dsnap = _snap_layer(net, destinations, destination_id, "destinations", snap)
    limit_s = _limit_s(limit_min)
    dist, source = nearest_node_times(
        net, dsnap.node, offsets_s=dsnap.time_s, reverse=True, limit_s=limit_s
    )
    total = osnap.time_s + dist[osnap.node]
    dest = source[osnap.node]
    if limit_s is not None:
        beyond = total > limit_s
        total[beyond] = np.inf
        dest[beyond] = -1
    return pd.DataFrame(
        {
            C.ORIGIN_ID: oids,
            C.DESTINATION_ID: _take_ids(dids, dest),
            C.TRAVEL_TIME_MIN: np.where(np.isfinite(total), total / 60.0, np.nan),
        }
    )


def _origin_by_destination_s(
    net: RoadNetwork, osnap: _Snap, dsnap: _Snap, limit_s: float | None
) -> np.ndarray:
    """Total times in seconds, shape (n_destinations, n_origins), inf beyond / unreached."""
    dnodes, dinv = np.unique(dsnap.node, return_inverse=True)
    chunk = max(1, _MAX_CELLS // max(net.n_nodes, 1))
    net_s = np.empty((len(dnodes), len(osnap.node)))
    for start in range(0, len(dnodes), chunk):
        block = node_times(net, dnodes[start : start + chunk], reverse=True, limit_s=limit_s)
        net_s[start : start + chunk] = block[:, osnap.node]
    total = net_s[dinv] + dsnap.time_s[:, None] + osnap.time_s[None, :]
    if limit_s is not None:
        total[total > limit_s] = np.inf
    return total


def od_matrix(
    net: RoadNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    origin_id: str,
    destination_id: str,
    limit_min: float | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
) -> pd.DataFrame:
    """Travel times of every origin-destination pair, as a long table.

    One Dijkstra per distinct destination node on the reversed graph (destinations are
    usually the fewer), stopped at ``limit_min`` when given.

    Returns
    -------
    pandas.DataFrame
        ``len(origins) × len(destinations)`` rows, origin-major (all destinations of the
        first origin, then the second...): ``origin_id``, ``destination_id``,
        ``travel_time_min`` (NaN when unreachable or beyond ``limit_min``).
    """
    oids, osnap = _snap_layer(net, origins, origin_id, "origins", snap)
    dids, dsnap = _snap_layer(net, destinations, destination_id, "destinations", snap)
    total = _origin_by_destination_s(net, osnap, dsnap, _limit_s(limit_min)).T  # (o, d)
    minutes = total.ravel() / 60.0
    minutes[~np.isfinite(minutes)] = np.nan
    return pd.DataFrame(
        {
            C.ORIGIN_ID: np.repeat(oids, len(dids)),
            C.DESTINATION_ID: np.tile(dids, len(oids)),
            C.TRAVEL_TIME_MIN: minutes,
        }
    )


def k_nearest(
    net: RoadNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    k: int,
    *,
    origin_id: str,
    destination_id: str,
    limit_min: float | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
) -> pd.DataFrame:
    """The ``k`` nearest destinations of each origin, nearest first.

    Returns
    -------
    pandas.DataFrame
        ``k`` rows per origin (``min(k, len(destinations))`` if there are fewer
        destinations), in origin order: ``origin_id``, ``rank`` (1 = nearest),
        ``destination_id`` (missing when fewer than ``rank`` are reached),
        ``travel_time_min`` (NaN then). Ties keep the destinations' input order.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    oids, osnap = _snap_layer(net, origins, origin_id, "origins", snap)
    dids, dsnap = _snap_layer(net, destinations, destination_id, "destinations", snap)
    total = _origin_by_destination_s(net, osnap, dsnap, _limit_s(limit_min))  # (d, o)
    k = min(k, len(dids))
    order = np.argsort(total, axis=0, kind="stable")[:k]  # (k, o)
    best = np.take_along_axis(total, order, axis=0)
    reached = np.isfinite(best)
    dest = np.where(reached, order, -1).T.ravel()
    minutes = np.where(reached, best / 60.0, np.nan).T.ravel()
    return pd.DataFrame(
        {
            C.ORIGIN_ID: np.repeat(oids, k),
            "rank": np.tile(np.arange(1, k + 1), len(oids)),
            C.DESTINATION_ID: _take_ids(dids, dest),
            C.TRAVEL_TIME_MIN: minutes,
        }
    )


# ----------------------------------------------------------------------------------------
# One route


@dataclass(frozen=True)
class RouteResult:
    """The fastest route between two points."""

    distance_km: float
    """Length driven, access legs included (straight line off the network)."""
    time_min: float
    """Travel time, access legs included (equals :func:`od_matrix` for the same pair)."""
    geometry: LineString
    """The path in the network CRS, from the origin point to the destination point."""
    nodes: tuple[int, ...]
    """Network nodes passed, from the origin's node to the destination's node."""


def _leg_line(net: RoadNetwork, point: np.ndarray, s: _Snap, i: int, geoms: np.ndarray) -> list:
    """Coordinates from a point to its node: straight to the road, then along the edge."""
    coords = [tuple(point)]
    e = int(s.edge[i])
    if e >= 0:
        g = geoms[e]
        glen = g.length
        f = float(s.fraction[i])
        end = 0.0 if f <= 0.5 else 1.0
        part = substring(g, f * glen, end * glen)
        coords.extend(shapely.get_coordinates(part).tolist())
    node = net.nodes.iloc[int(s.node[i])]
    coords.append((float(node["x"]), float(node["y"])))
    return coords


def route(
    net: RoadNetwork,
    origin: Point,
    destination: Point,
    *,
    crs: object | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
) -> RouteResult:
    """The fastest route from ``origin`` to ``destination``.

    Parameters
    ----------
    net
        The road network.
    origin, destination
        Shapely points, in ``crs`` (default: the network CRS; e.g. ``"EPSG:4326"`` for
        longitude/latitude).
    crs
        CRS of the two points.
    snap
        Snapping options.

    Raises
    ------
    NetworkError
        No route joins the two points (their nodes lie in unconnected parts).
    """
    pts = gpd.GeoDataFrame(
        {"id": ["origin", "destination"]},
        geometry=[origin, destination],
        crs=net.crs if crs is None else crs,
    )
    xy = point_coordinates(net, pts, id_column="id", where="route")
    s = snap_xy(net, xy, snap)
    warn_far(np.array(["origin", "destination"]), s.distance_m, snap.max_snap_m, where="route")
    a, b = int(s.node[0]), int(s.node[1])
    dist, pred = dijkstra(graph_matrix(net), directed=True, indices=a, return_predecessors=True)
    if not np.isfinite(dist[b]):
        raise NetworkError(
            f"route: no path from the origin's node {a} to the destination's node {b} "
            "(they lie in unconnected parts of the network)"
        )
    path = [b]
    while path[-1] != a:
        path.append(int(pred[path[-1]]))
    path.reverse()
    geoms = edge_geometries(net)
    # the edge used between consecutive nodes: the fastest of parallel edges, as in csr()
    e = net.edges
    u, v = e[C.U].to_numpy(), e[C.V].to_numpy()
    tt = e[C.TRAVEL_TIME_S].to_numpy(dtype=float)
    pairs = pd.MultiIndex.from_arrays([path[:-1], path[1:]])
    cand = np.flatnonzero(pd.MultiIndex.from_arrays([u, v]).isin(pairs))
    cand = cand[np.lexsort((tt[cand], v[cand], u[cand]))]
    pick = {}
    for i in cand:
        pick.setdefault((int(u[i]), int(v[i])), int(i))
    chosen = [pick[(p, q)] for p, q in itertools.pairwise(path)]
    network_s = float(tt[chosen].sum())
    network_m = float(e[C.LENGTH_M].to_numpy(dtype=float)[chosen].sum())
    coords = _leg_line(net, xy[0], s, 0, geoms)
    for i in chosen:
        coords.extend(shapely.get_coordinates(geoms[i]).tolist())
    coords.extend(reversed(_leg_line(net, xy[1], s, 1, geoms)))
    arr = np.asarray(coords, dtype=float)
    keep = np.ones(len(arr), dtype=bool)
    keep[1:] = np.any(arr[1:] != arr[:-1], axis=1)
    arr = arr[keep]
    if len(arr) == 1:
        arr = np.vstack([arr, arr])
    legs_m = float(s.distance_m.sum() + s.along_m.sum())
    return RouteResult(
        distance_km=(network_m + legs_m) / 1000.0,
        time_min=(network_s + float(s.time_s.sum())) / 60.0,
        geometry=LineString(arr),
        nodes=tuple(path),
    )
