"""Snapping: attach points (homes, population cells, services) to road-network nodes.

Every point is tied to one network node and to the time of its *access leg*, the bit of
the trip between the point and that node. Two methods:

``"edge"`` (the default)
    Find the nearest road *edge* (shapely STRtree), project the point onto it and take
    the closer of the edge's two end nodes. The access leg is the straight line from the
    point to the road, at :data:`OFFROAD_SPEED_KPH`, plus the drive along the edge from
    the projection to the chosen end, at the edge's own speed (its share of the edge's
    ``travel_time_s``). Chosen as the default because rural and mountain roads are long
    edges with few nodes: a house beside the middle of a 4 km edge is 0 m from the road
    but 2 km from the nearest node, and the nearest *node* may even lie on another road
    across the valley.
``"node"``
    The nearest node in straight line (scipy cKDTree), the leg costed entirely at the
    off-road speed (what a plain "nearest node" snapping does).

No point is dropped: a point farther than ``max_snap_m`` from the network is kept with
its distance, and a :class:`~accessibility.core.errors.SnapWarning` names it.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from accessibility.core import columns as C
from accessibility.core.errors import DataError, SnapWarning
from accessibility.core.validate import require_columns, require_crs, require_unique
from accessibility.network.graph import RoadNetwork

#: Speed of the off-network leg (km/h), over the straight-line distance between a point
#: and the road. An assumption: access roads, tracks and private drives are not in the
#: network (or are in it only in part), and the straight line underestimates their
#: length; 15 km/h over the crow-fly distance stands for a slow, winding access road
#: (about 30 km/h over a path 2 × longer) or a few minutes' walk for the last metres.
OFFROAD_SPEED_KPH = 15.0

#: Points farther than this from the network get a :class:`SnapWarning`.
MAX_SNAP_M = 1000.0

SnapMethod = Literal["edge", "node"]


@dataclass(frozen=True)
class SnapOptions:
    """How points are snapped; passed down by the travel-time functions."""

    method: SnapMethod = "edge"
    max_snap_m: float = MAX_SNAP_M
    offroad_speed_kph: float = OFFROAD_SPEED_KPH

    def __post_init__(self) -> None:
        if self.method not in ("edge", "node"):
            raise ValueError(f"snap method must be 'edge' or 'node', got {self.method!r}")
        if not self.offroad_speed_kph > 0:
            raise ValueError(f"offroad_speed_kph must be > 0, got {self.offroad_speed_kph}")
        if not self.max_snap_m >= 0:
            raise ValueError(f"max_snap_m must be >= 0, got {self.max_snap_m}")


DEFAULT_SNAP = SnapOptions()


@dataclass(frozen=True)
class _Snap:
    """Snapping of an array of points (internal, positional)."""

    node: np.ndarray  # int, the network node of each point
    distance_m: np.ndarray  # straight-line distance from the point to the network
    along_m: np.ndarray  # distance along the edge from the projection to the node
    time_s: np.ndarray  # time of the access leg
    edge: np.ndarray  # int row position of the edge snapped to (-1 for method "node")
    fraction: np.ndarray  # position of the projection on that edge (0 = u, 1 = v)


# Spatial indexes are built once per network; weak keys let networks be freed.
_EDGE_TREES: weakref.WeakKeyDictionary[
    RoadNetwork, tuple[shapely.STRtree, np.ndarray, np.ndarray, np.ndarray]
] = weakref.WeakKeyDictionary()
_NODE_TREES: weakref.WeakKeyDictionary[RoadNetwork, cKDTree] = weakref.WeakKeyDictionary()


def edge_geometries(net: RoadNetwork) -> np.ndarray:
    """The edges' LineStrings as a shapely array; a missing one is the straight u → v."""
    geoms = np.asarray(net.edges.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        geoms = geoms.copy()
        u = net.edges[C.U].to_numpy()[missing]
        v = net.edges[C.V].to_numpy()[missing]
        xy = net.nodes[["x", "y"]].to_numpy(dtype=float)
        geoms[missing] = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    return geoms


def _edge_tree(
    net: RoadNetwork,
) -> tuple[shapely.STRtree, np.ndarray, np.ndarray, np.ndarray]:
    """A spatial index over road *pieces*, and the directed edges of each piece.

    A two-way road is two directed edges with the same line: indexing each piece once
    (edges grouped by their two end nodes and their length) halves the nearest-edge
    queries, which dominate the time of snapping many points. Returns the tree, the
    directed edges' geometries, and a CSR-style map piece -> edge rows
    (``edge_rows[indptr[k]:indptr[k + 1]]``).
    """
    if net not in _EDGE_TREES:
        geoms = edge_geometries(net)
        e = net.edges
        u = e[C.U].to_numpy(dtype=np.int64)
        v = e[C.V].to_numpy(dtype=np.int64)
        key = pd.DataFrame(
            {"a": np.minimum(u, v), "b": np.maximum(u, v), "len": e[C.LENGTH_M].round(3).to_numpy()}
        )
        piece = key.groupby(["a", "b", "len"], sort=False).ngroup().to_numpy()
        order = np.argsort(piece, kind="stable")
        counts = np.bincount(piece)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        first = order[indptr[:-1]]
        _EDGE_TREES[net] = (shapely.STRtree(geoms[first]), geoms, indptr, order)
    return _EDGE_TREES[net]


def _node_tree(net: RoadNetwork) -> cKDTree:
    if net not in _NODE_TREES:
        _NODE_TREES[net] = cKDTree(net.nodes[["x", "y"]].to_numpy(dtype=float))
    return _NODE_TREES[net]


def snap_xy(net: RoadNetwork, xy: np.ndarray, options: SnapOptions = DEFAULT_SNAP) -> _Snap:
    """Snap an (m, 2) array of coordinates in the network CRS (no checks, no warning)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    speed_ms = options.offroad_speed_kph / 3.6
    if options.method == "node":
        dist, node = _node_tree(net).query(xy)
        node = np.asarray(node, dtype=np.int64)
        zeros = np.zeros(len(xy))
        return _Snap(node, dist, zeros, dist / speed_ms, np.full(len(xy), -1), zeros)

    tree, geoms, indptr, edge_rows = _edge_tree(net)
    points = shapely.points(xy)
    # all pieces at the smallest distance (ties are common: a point on a node touches every
    # edge of that node, and a road may pass through another road's end without sharing
    # its node); each piece stands for its directed edges (one or two); among them keep
    # the one with the shortest access leg
    (ipt, ipiece), dist = tree.query_nearest(points, return_distance=True, all_matches=True)
    n_each = indptr[ipiece + 1] - indptr[ipiece]
    ipt = np.repeat(ipt, n_each)
    dist = np.repeat(dist, n_each)
    starts = np.repeat(indptr[ipiece], n_each)
    offset = np.arange(len(starts)) - np.repeat(np.cumsum(n_each) - n_each, n_each)
    iedge = edge_rows[starts + offset]
    g = geoms[iedge]
    glen = shapely.length(g)
    proj = shapely.line_locate_point(g, points[ipt])
    frac = np.divide(proj, glen, out=np.zeros(len(ipt)), where=glen > 0)
    frac = np.clip(frac, 0.0, 1.0)
    edges = net.edges
    u = edges[C.U].to_numpy()[iedge]
    v = edges[C.V].to_numpy()[iedge]
    length = edges[C.LENGTH_M].to_numpy(dtype=float)[iedge]
    tt = edges[C.TRAVEL_TIME_S].to_numpy(dtype=float)[iedge]
    to_u = frac <= 0.5
    share = np.where(to_u, frac, 1.0 - frac)
    time_s = dist / speed_ms + share * tt
    order = np.lexsort((iedge, time_s, ipt))  # by point, then leg time, then edge row
    first = order[np.r_[True, ipt[order][1:] != ipt[order][:-1]]]
    if len(first) != len(xy):  # cannot happen for valid points; guard the indexing
        raise DataError("snapping: some points found no road edge (empty network?)")
    node = np.where(to_u, u, v).astype(np.int64)
    return _Snap(
        node[first],
        dist[first],
        (share * length)[first],
        time_s[first],
        iedge[first],
        frac[first],
    )


def point_coordinates(
    net: RoadNetwork, points: gpd.GeoDataFrame, *, id_column: str, where: str = "points"
) -> np.ndarray:
    """Check a point layer and return its (m, 2) coordinates in the network CRS.

    Raises
    ------
    MissingColumnError, DuplicateIdError
        ``id_column`` is missing or not unique.
    CRSError
        The layer has no CRS.
    DataError
        Some geometries are missing, empty or not points (their ids are named).
    """
    require_columns(points, [id_column], where=where)
    require_unique(points, id_column, where=where)
    require_crs(points, where=where)
    geoms = points.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        ids = ", ".join(map(str, points.loc[bad, id_column].iloc[:10]))
        raise DataError(
            f"{where}: {int(bad.sum())} point(s) have a missing or empty geometry "
            f"(column {id_column!r}: {ids}); give every point a location or drop it"
        )
    kinds = shapely.get_type_id(geoms)
    if (kinds != shapely.GeometryType.POINT).any():
        wrong = kinds != shapely.GeometryType.POINT
        ids = ", ".join(map(str, points.loc[wrong, id_column].iloc[:10]))
        types = ", ".join(sorted(set(shapely.get_type_id(geoms[wrong]).astype(str))))
        raise DataError(
            f"{where}: expected Point geometries; {int(wrong.sum())} are not points "
            f"(geometry type ids {types}; {id_column!r}: {ids}). Use "
            "GeoSeries.representative_point() to turn areas into points"
        )
    projected = points.geometry.to_crs(net.crs)
    return np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])


def snap_points(
    net: RoadNetwork,
    points: gpd.GeoDataFrame,
    *,
    id_column: str,
    method: SnapMethod = "edge",
    max_snap_m: float = MAX_SNAP_M,
    offroad_speed_kph: float = OFFROAD_SPEED_KPH,
    where: str = "points",
) -> pd.DataFrame:
    """Attach each point to a network node, with the time of its access leg.

    Parameters
    ----------
    net
        The road network.
    points
        Point layer with a CRS (reprojected to the network CRS) and a unique id column.
    id_column
        Name of the id column of ``points``.
    method
        ``"edge"`` (project onto the nearest edge, take its closer end) or ``"node"``
        (nearest node); see the module docstring.
    max_snap_m
        Points farther than this from the network get a :class:`SnapWarning`.
    offroad_speed_kph
        Speed of the off-network leg over the straight-line distance.
    where
        Name of the layer, used in messages.

    Returns
    -------
    pandas.DataFrame
        One row per point, in input order: ``point_id``, ``node_id``,
        ``snap_distance_m`` (straight-line distance to the network), ``along_edge_m``
        (distance driven along the snapped edge to the node; 0 for method ``"node"``),
        ``offroad_time_s`` (time of the whole access leg, in seconds).

    Warns
    -----
    SnapWarning
        Points farther than ``max_snap_m`` from the network (kept, not dropped).
    """
    options = SnapOptions(method, max_snap_m, offroad_speed_kph)
    xy = point_coordinates(net, points, id_column=id_column, where=where)
    snap = snap_xy(net, xy, options)
    ids = points[id_column].to_numpy()
    warn_far(ids, snap.distance_m, options.max_snap_m, where=where)
    return pd.DataFrame(
        {
            C.POINT_ID: ids,
            C.NODE_ID: snap.node,
            C.SNAP_DISTANCE_M: snap.distance_m,
            C.ALONG_EDGE_M: snap.along_m,
            C.OFFROAD_TIME_S: snap.time_s,
        }
    )


def warn_far(ids: np.ndarray, distance_m: np.ndarray, max_snap_m: float, *, where: str) -> None:
    """Emit a :class:`SnapWarning` naming the points farther than ``max_snap_m``."""
    far = distance_m > max_snap_m
    if not far.any():
        return
    order = np.argsort(-distance_m[far], kind="stable")[:5]
    sample = ", ".join(f"{ids[far][i]} ({distance_m[far][i]:,.0f} m)" for i in order)
    warnings.warn(
        f"{where}: {int(far.sum())} point(s) lie farther than {max_snap_m:,.0f} m from the "
        f"road network (the farthest: {sample}); they are kept, with an off-road leg "
        "costed at the off-road speed. Check their coordinates or the network's extent",
        SnapWarning,
        stacklevel=3,
    )
