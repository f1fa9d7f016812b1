"""The travel-time engine: nearest service, k nearest, origin-destination matrix, route.

Every function routes on the network's CSR matrix of ``travel_time_s`` with scipy's
Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`): results equal a plain Dijkstra over
the same graph (parallel edges: the fastest). Trips are *to* the destinations (to the
service), so the searches start from the destinations on the reversed graph: one search
per destination node, or a single multi-source search for "the nearest".

Snapping is exact and direction-aware (see :mod:`accessibility.engine.snapping`): a point
links to both ends of its edge in the directions the road allows, so
``time = min over the links of [access(origin) + drive to an end node of its edge +
network(node → node) + drive from an end node of the destination's edge +
access(destination)]``, or the direct drive when both lie on the same edge; this equals
a plain Dijkstra on the graph with every projection inserted as a node. Searches start
from the links with their times as offsets (a virtual source node, scipy having no
per-source start time).

The tables are tidy and long, with columns ``origin_id``, ``destination_id``,
``travel_time_min``; an unreachable pair, or one beyond ``limit_min``, has NaN.
:func:`od_pairs` returns the reachable pairs only
(:class:`~accessibility.engine.matrix.SparseTimes`, float32 by default).

Memory (see :mod:`accessibility.engine.blocks` for the model): the many-to-many calls
(:func:`od_matrix`, :func:`od_pairs`, :func:`k_nearest`) search a block of destinations
at a time within ``block_mb`` megabytes (default 256), the time limit applied inside the
searches. Beyond one block, :func:`od_matrix` holds its result (24 bytes a pair, with
the id columns), :func:`od_pairs` the reachable pairs (12 bytes each in float32),
:func:`k_nearest` its ``k`` best per origin. The nearest-service calls run one
multi-source search: a few arrays of the network's nodes and of the points.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point
from shapely.ops import substring

from accessibility.core import columns as C
from accessibility.core.errors import NetworkError
from accessibility.engine.blocks import (
    DEFAULT_BLOCK_MB,
    SHIFT,
    best_per_node,
    ceil_float32,
    destination_blocks,
    flat_links,
    graph_matrix,
    same_piece_pairs,
    with_virtual_sources,
)
from accessibility.engine.matrix import SparseTimes
from accessibility.engine.snapping import (
    DEFAULT_SNAP,
    SnapOptions,
    _closed,
    _pieces,
    _Snap,
    edge_geometries,
    same_piece_s,
    snap_layer,
    straight_trip_s,
)
from accessibility.network.graph import RoadNetwork

# The search helpers live in :mod:`accessibility.engine.blocks`; their former private
# names here are kept for callers of 0.2.
_SHIFT = SHIFT
_best_per_node = best_per_node
_flat_links = flat_links
_with_virtual_sources = with_virtual_sources
_same_piece_pairs = same_piece_pairs


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


def _virtual_source_search(
    A: sp.csr_matrix, nodes: np.ndarray, offsets: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """One Dijkstra from a virtual node linked to each of ``nodes`` (distinct) by an edge
    of its offset: scipy's csgraph has no per-source start time, so the virtual node
    (index n, appended to the CSR matrix) carries them. Returns the times and the
    predecessors of the n real nodes (``n`` = reached straight from the virtual node).
    """
    n = A.shape[0]
    aug = _with_virtual_sources(A, nodes, offsets, np.zeros(len(nodes), dtype=np.int64), 1)
    dist, pred = dijkstra(
        aug, directed=True, indices=n, limit=limit + _SHIFT, return_predecessors=True
    )
    return dist[:n] - _SHIFT, pred[:n].astype(np.int64)


def _roots(pred: np.ndarray, n: int) -> np.ndarray:
    """The first node of each node's path after the virtual node ``n`` (pointer jumping
    up the predecessor tree: log(depth) vectorised steps)."""
    parent = np.where((pred < 0) | (pred == n), np.arange(n), pred)
    while True:
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            return parent
        parent = nxt


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
    best = _best_per_node(src, off)  # positions in src, one per distinct node
    node_to_source = np.full(n, -1, dtype=np.int64)
    node_to_source[src[best]] = best
    A = graph_matrix(net, reverse=reverse)
    if not off[best].any():
        dist, _, roots = dijkstra(
            A, directed=True, indices=src[best], limit=limit, min_only=True,
            return_predecessors=True,
        )  # fmt: skip
        roots = np.asarray(roots, dtype=np.int64)
        return dist, np.where(roots >= 0, node_to_source[np.maximum(roots, 0)], -1)
    dist, pred = _virtual_source_search(A, src[best], off[best], limit)
    source = np.where(np.isfinite(dist), node_to_source[_roots(pred, n)], -1)
    return dist, source


def snapped_node_times(
    net: RoadNetwork, points: _Snap, *, to_points: bool = True, limit_s: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Time between every node and the nearest of the snapped ``points`` (exact links).

    ``to_points`` True: from each node *to* the points (they are destinations, reached
    through their ``in`` links); False: from the points (origins, ``out`` links) to each
    node. Returns the seconds per node and the position of the nearest point (-1: none).
    """
    if to_points:
        nodes, times, owner = _flat_links(points.in_node, points.in_s)
    else:
        nodes, times, owner = _flat_links(points.out_node, points.out_s)
    dist, src = nearest_node_times(net, nodes, offsets_s=times, reverse=to_points, limit_s=limit_s)
    return dist, np.where(src >= 0, owner[np.maximum(src, 0)], -1)


def nearest_snapped(
    net: RoadNetwork, origins: _Snap, destinations: _Snap, *, limit_s: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from each snapped origin to its nearest snapped destination, and which.

    One multi-source search from the destinations' links on the reversed graph; each
    origin takes the better of its two links, or the direct drive to a destination on
    its own piece. Returns ``inf`` / -1 where none is reached (or beyond ``limit_s``).
    """
    dist, which = snapped_node_times(net, destinations, to_points=True, limit_s=limit_s)
    cand = origins.out_s + dist[origins.out_node]  # (m, 2)
    side = np.argmin(cand, axis=1)
    rows = np.arange(len(origins))
    total = cand[rows, side]
    dest = np.where(np.isfinite(total), which[origins.out_node[rows, side]], -1)
    io, jd = _same_piece_pairs(origins, destinations)
    if len(io):
        direct = same_piece_s(origins, destinations, io, jd)
        order = np.lexsort((jd, direct, io))  # by origin, fastest, then input order
        first = order[np.r_[True, io[order][1:] != io[order][:-1]]]
        io, jd, direct = io[first], jd[first], direct[first]
        better = direct < total[io]
        total[io[better]] = direct[better]
        dest[io[better]] = jd[better]
    _straight_to_nearest(origins, destinations, total, dest)
    if limit_s is not None:
        beyond = total > limit_s
        total[beyond] = np.inf
        dest[beyond] = -1
    return total, dest


def _straight_to_nearest(
    origins: _Snap, destinations: _Snap, total: np.ndarray, dest: np.ndarray
) -> None:
    """Let each origin go straight to its nearest destination off the network, in place,
    when its access model allows straight trips and that is faster (two neighbours in a
    town do not drive out to the numbered road and back; see
    :mod:`accessibility.engine.access_model`). scipy's k-d tree finds the nearest."""
    can = np.isfinite(origins.direct_mps)
    if not can.any() or not len(destinations):
        return
    rows = np.flatnonzero(can)
    dist, j = cKDTree(destinations.xy).query(origins.xy[rows])
    straight = straight_trip_s(origins.take(rows), dist)
    better = straight < total[rows]
    total[rows[better]] = straight[better]
    dest[rows[better]] = j[better]


# ----------------------------------------------------------------------------------------
# Tables from point layers


def _snap_layer(
    net: RoadNetwork, gdf: gpd.GeoDataFrame, id_column: str, where: str, snap: SnapOptions
) -> tuple[np.ndarray, _Snap]:
    """Kept for callers of 0.2: :func:`~accessibility.engine.snapping.snap_layer`."""
    return snap_layer(net, gdf, id_column=id_column, where=where, options=snap)


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

    One multi-source Dijkstra from all destinations' links on the reversed graph, each
    starting with its own access leg and drive along its edge (exact, see
    :func:`nearest_snapped`).

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
    total, dest = nearest_snapped(net, osnap, dsnap, limit_s=_limit_s(limit_min))
    return pd.DataFrame(
        {
            C.ORIGIN_ID: oids,
            C.DESTINATION_ID: _take_ids(dids, dest),
            C.TRAVEL_TIME_MIN: np.where(np.isfinite(total), total / 60.0, np.nan),
        }
    )


def _block_mb(block_mb: float | None) -> float:
    return DEFAULT_BLOCK_MB if block_mb is None else float(block_mb)


def _origin_by_destination_s(
    net: RoadNetwork,
    osnap: _Snap,
    dsnap: _Snap,
    limit_s: float | None,
    block_mb: float | None = None,
) -> np.ndarray:
    """Total times in seconds, shape (n_destinations, n_origins), inf beyond / unreached:
    the blocks of :func:`accessibility.engine.blocks.destination_blocks` put together
    (the whole dense table: for callers that need it; the public functions do not)."""
    total = np.empty((len(dsnap), len(osnap)))
    for start, block in destination_blocks(net, osnap, dsnap, limit_s, _block_mb(block_mb)):
        total[start : start + len(block)] = block
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
    block_mb: float | None = None,
) -> pd.DataFrame:
    """Travel times of every origin-destination pair, as a long table.

    One Dijkstra per destination (from its two links, see
    :mod:`accessibility.engine.snapping`) on the reversed graph (destinations are
    usually the fewer), stopped at ``limit_min`` when given, a block of destinations at
    a time (``block_mb`` megabytes, default
    :data:`~accessibility.engine.blocks.DEFAULT_BLOCK_MB`; see
    :mod:`accessibility.engine.blocks`). Each block is written straight into the one
    minutes column of the result: besides the table itself (24 bytes a pair with its
    two id columns) only one block is held. When most pairs are beyond the limit,
    :func:`od_pairs` keeps only the others.

    Returns
    -------
    pandas.DataFrame
        ``len(origins) × len(destinations)`` rows, origin-major (all destinations of the
        first origin, then the second...): ``origin_id``, ``destination_id``,
        ``travel_time_min`` (NaN when unreachable or beyond ``limit_min``).
    """
    oids, osnap = _snap_layer(net, origins, origin_id, "origins", snap)
    dids, dsnap = _snap_layer(net, destinations, destination_id, "destinations", snap)
    minutes = np.empty((len(oids), len(dids)))  # (o, d), the result's column
    for start, block in destination_blocks(
        net, osnap, dsnap, _limit_s(limit_min), _block_mb(block_mb)
    ):
        block /= 60.0
        block[~np.isfinite(block)] = np.nan
        minutes[:, start : start + len(block)] = block.T
    return pd.DataFrame(
        {
            C.ORIGIN_ID: np.repeat(oids, len(dids)),
            C.DESTINATION_ID: np.tile(dids, len(oids)),
            C.TRAVEL_TIME_MIN: minutes.reshape(-1),
        },
        copy=False,
    )


def od_pairs(
    net: RoadNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    origin_id: str,
    destination_id: str,
    limit_min: float | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
    dtype: type[np.floating] = np.float32,
    block_mb: float | None = None,
) -> SparseTimes:
    """The reachable origin-destination pairs (within ``limit_min``), by position.

    The same searches and times as :func:`od_matrix`, a block of destinations at a time,
    each block keeping only its reachable pairs: memory grows with the pairs within the
    limit (12 bytes each in float32), not with origins × destinations.

    Parameters
    ----------
    dtype
        ``numpy.float32`` (default): minutes rounded *up* to the next float32
        (:func:`~accessibility.engine.blocks.ceil_float32`: at most 0.007 s above the
        float64 time under 2,048 min, and every comparison with a whole or half minute,
        such as a decay's band edges, as in float64). ``numpy.float64``: the times of
        :func:`od_matrix` exactly.
    block_mb
        Memory budget of one block of searches (see :mod:`accessibility.engine.blocks`).

    Returns
    -------
    SparseTimes
        Origin-major (then destination order); ``to_long()`` equals ``od_matrix(...)``
        without its NaN rows.
    """
    single = np.dtype(dtype) == np.float32
    if not single and np.dtype(dtype) != np.float64:
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    oids, osnap = _snap_layer(net, origins, origin_id, "origins", snap)
    dids, dsnap = _snap_layer(net, destinations, destination_id, "destinations", snap)
    o_parts, d_parts, t_parts = [], [], []
    for start, block in destination_blocks(
        net, osnap, dsnap, _limit_s(limit_min), _block_mb(block_mb)
    ):
        jd, io = np.nonzero(np.isfinite(block))  # destination-major
        minutes = block[jd, io] / 60.0
        del block
        o_parts.append(io.astype(np.int32))
        d_parts.append((jd + start).astype(np.int32))
        t_parts.append(ceil_float32(minutes) if single else minutes)
    io, jd = np.concatenate(o_parts or [[]]), np.concatenate(d_parts or [[]])
    t = np.concatenate(t_parts or [np.empty(0, np.float32 if single else np.float64)])
    order = np.argsort(io, kind="stable")  # origin-major, destinations still in order
    return SparseTimes(
        pd.Index(oids),
        pd.Index(dids),
        io[order].astype(np.int32),
        jd[order].astype(np.int32),
        t[order],
    )


def _top_k(
    best: tuple[np.ndarray, np.ndarray], block: np.ndarray, start: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest times per origin (column) of the running best and a new block
    of destinations ``start ..``, and their destinations. The blocks come in destination
    order and the sort is stable, so ties keep the destinations' input order, as a
    stable sort of the whole table would."""
    times = np.concatenate([best[0], block])
    dest = np.concatenate(
        [best[1], np.broadcast_to(np.arange(start, start + len(block))[:, None], block.shape)]
    )
    order = np.argsort(times, axis=0, kind="stable")[:k]
    return np.take_along_axis(times, order, axis=0), np.take_along_axis(dest, order, axis=0)


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
    block_mb: float | None = None,
) -> pd.DataFrame:
    """The ``k`` nearest destinations of each origin, nearest first.

    Searched a block of destinations at a time (``block_mb``, see :func:`od_matrix`),
    keeping a running ``k × len(origins)`` best (half the budget goes to the searches,
    the rest to merging a block into the best).

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
    k = min(k, len(dids))
    best = (np.empty((0, len(oids))), np.empty((0, len(oids)), dtype=np.int64))
    for start, block in destination_blocks(
        net, osnap, dsnap, _limit_s(limit_min), _block_mb(block_mb) / 2
    ):
        best = _top_k(best, block, start, k)
    times, order = best
    reached = np.isfinite(times)
    dest = np.where(reached, order, -1).T.ravel()
    minutes = np.where(reached, times / 60.0, np.nan).T.ravel()
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


def _leg_line(
    net: RoadNetwork, s: _Snap, i: int, side: int, *, to_node: bool
) -> tuple[list, float]:
    """Coordinates from point ``i`` along its piece to end ``side`` (0: the piece's u, 1:
    its v), reversed when ``to_node`` is False, and the length driven along the piece."""
    coords = [tuple(s.xy[i])]
    f = float(s.fraction[i])
    driven = 0.0
    if s.piece[i] >= 0:
        pc = _pieces(net)
        g = pc.geoms[s.piece[i]]
        glen = g.length
        part = substring(g, f * glen, float(side) * glen)
        coords.extend(shapely.get_coordinates(part).tolist())
        driven = (f if side == 0 else 1.0 - f) * float(pc.length_m[s.piece[i]])
    node = int(s.out_node[i, side])
    coords.append((float(net.nodes["x"].iat[node]), float(net.nodes["y"].iat[node])))
    return (coords if to_node else coords[::-1]), driven


def _network_path(net: RoadNetwork, pred: np.ndarray, end: int) -> tuple[list[int], list[int]]:
    """Nodes of the predecessor path from the virtual source to ``end`` and the open
    edge rows used (the fastest of parallel edges, as in :meth:`RoadNetwork.csr`)."""
    path = [end]
    while pred[path[-1]] != net.n_nodes:
        path.append(int(pred[path[-1]]))
    path.reverse()
    e = net.edges
    rows = np.flatnonzero(~_closed(net))
    u, v = e[C.U].to_numpy()[rows], e[C.V].to_numpy()[rows]
    tt = e[C.TRAVEL_TIME_S].to_numpy(dtype=float)[rows]
    pairs = pd.MultiIndex.from_arrays([path[:-1], path[1:]])
    cand = np.flatnonzero(pd.MultiIndex.from_arrays([u, v]).isin(pairs))
    cand = cand[np.lexsort((tt[cand], v[cand], u[cand]))]
    pick: dict[tuple[int, int], int] = {}
    for i in cand:
        pick.setdefault((int(u[i]), int(v[i])), int(rows[i]))
    return path, [pick[(p, q)] for p, q in itertools.pairwise(path)]


def _route_line(coords: list) -> LineString:
    arr = np.asarray(coords, dtype=float)
    keep = np.ones(len(arr), dtype=bool)
    keep[1:] = np.any(arr[1:] != arr[:-1], axis=1)
    arr = arr[keep]
    if len(arr) == 1:
        arr = np.vstack([arr, arr])
    return LineString(arr)


def _direct_route(net: RoadNetwork, s: _Snap, time_s: float) -> RouteResult:
    """The route of two points joined along their own piece (or identical)."""
    coords = [tuple(s.xy[0])]
    driven = 0.0
    if s.piece[0] >= 0 and not np.array_equal(s.xy[0], s.xy[1]):
        pc = _pieces(net)
        g = pc.geoms[s.piece[0]]
        f0, f1 = float(s.fraction[0]), float(s.fraction[1])
        part = substring(g, f0 * g.length, f1 * g.length)
        coords.extend(shapely.get_coordinates(part).tolist())
        driven = abs(f1 - f0) * float(pc.length_m[s.piece[0]]) + float(s.distance_m.sum())
    coords.append(tuple(s.xy[1]))
    return RouteResult(driven / 1000.0, time_s / 60.0, _route_line(coords), ())


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
        No route joins the two points (they lie in unconnected parts, or beside a road
        closed both ways).
    """
    pts = gpd.GeoDataFrame(
        {"id": ["origin", "destination"]},
        geometry=[origin, destination],
        crs=net.crs if crs is None else crs,
    )
    _, s = _snap_layer(net, pts, "id", "route", snap)
    o, d = s.take(np.array([0])), s.take(np.array([1]))
    nodes, offs, _ = _flat_links(o.out_node, o.out_s)
    best = _best_per_node(nodes, offs)
    dist, pred = _virtual_source_search(graph_matrix(net), nodes[best], offs[best], np.inf)
    via = dist[d.in_node[0]] + d.in_s[0]
    side_d = int(np.lexsort((d.in_s[0], via))[0])  # on ties, the shorter drive on the edge
    direct = float(same_piece_s(o, d, np.array([0]), np.array([0]))[0])
    if np.isfinite(direct) and direct <= via[side_d]:
        return _direct_route(net, s, direct)
    if not np.isfinite(via[side_d]):
        raise NetworkError(
            "route: no path from the origin to the destination (they lie in unconnected "
            f"parts of the network, near nodes {int(s.node[0])} and {int(s.in_node[1, 0])}, "
            "or beside a road closed in both directions)"
        )
    path, chosen = _network_path(net, pred, int(d.in_node[0, side_d]))
    # the origin's link that starts the path (the faster one if both ends are that node)
    side_o = int(np.argmin(np.where(o.out_node[0] == path[0], o.out_s[0], np.inf)))
    geoms = edge_geometries(net)
    e = net.edges
    head, m0 = _leg_line(net, s, 0, side_o, to_node=True)
    tail, m1 = _leg_line(net, s, 1, side_d, to_node=False)
    coords = head + [c for i in chosen for c in shapely.get_coordinates(geoms[i]).tolist()] + tail
    network_m = float(e[C.LENGTH_M].to_numpy(dtype=float)[chosen].sum())
    return RouteResult(
        distance_km=(network_m + m0 + m1 + float(s.distance_m.sum())) / 1000.0,
        time_min=float(via[side_d]) / 60.0,
        geometry=_route_line(coords),
        nodes=tuple(path),
    )
