"""Snapping: attach points (homes, population cells, services) to the road network.

Every point is tied to the network by its *access leg* (point → road, costed by an
access model, :mod:`accessibility.engine.access`) and by *virtual links* to network
nodes. Two methods:

``"edge"`` (the default): exact and direction-aware, as R5 does
    Find the nearest road piece (shapely STRtree; a two-way road is one piece carrying
    two directed edges u → v and v → u, a one-way road one) and project the point onto
    it, at fraction ``f`` of the piece from u. The point then links to *both* end nodes
    in the directions the road allows, driving along the edge at its own speed:

    * as an origin, it reaches v in ``access + (1 - f) · t(u→v)`` and u in
      ``access + f · t(v→u)``;
    * as a destination, it is reached from u in ``f · t(u→v) + access`` and from v in
      ``(1 - f) · t(v→u) + access``;

    a direction the road lacks (one-way) or a scenario closes (``closed``) gives no link
    (a point at an end node, ``f`` = 0 or 1, is at that node whatever the directions).
    Two points on the same piece are also joined directly along it when the direction
    allows (:func:`same_piece_s`). Times computed with these links equal a shortest
    path on the graph with each projection inserted as a real node (tests compare with
    networkx). Chosen because rural and mountain roads are long edges with few nodes: a
    house beside the middle of a 4 km edge is 0 m from the road but 2 km from the
    nearest node, and the nearest *node* may lie on another road across the valley.
``"node"``
    The nearest node in straight line (scipy cKDTree), the leg costed entirely by the
    access model (what a plain "nearest node" snapping does).

No point is dropped: a point farther than ``max_snap_m`` from the network is kept with
its distance, and a :class:`~accessibility.core.errors.SnapWarning` names it.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Mapping
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
from accessibility.engine.access import (
    OFFROAD_SPEED_KPH,
    AccessModel,
    StraightLeg,
    access_times,
    model_columns,
)
from accessibility.network.graph import RoadNetwork

#: Points farther than this from the network get a :class:`SnapWarning`.
MAX_SNAP_M = 1000.0

#: A projection closer than this (metres along the road) to an end node is at the node.
AT_NODE_M = 1e-6

SnapMethod = Literal["edge", "node"]


@dataclass(frozen=True)
class SnapOptions:
    """How points are snapped; passed down by the travel-time functions.

    ``access`` is the access model (:mod:`accessibility.engine.access`): any object or
    function mapping ``(distance_m, attributes)`` to seconds. ``None`` (the default)
    means :class:`~accessibility.engine.access.StraightLeg` at ``offroad_speed_kph``.
    """

    method: SnapMethod = "edge"
    max_snap_m: float = MAX_SNAP_M
    offroad_speed_kph: float = OFFROAD_SPEED_KPH
    access: AccessModel | Callable[..., np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.method not in ("edge", "node"):
            raise ValueError(f"snap method must be 'edge' or 'node', got {self.method!r}")
        if not self.offroad_speed_kph > 0:
            raise ValueError(f"offroad_speed_kph must be > 0, got {self.offroad_speed_kph}")
        if not self.max_snap_m >= 0:
            raise ValueError(f"max_snap_m must be >= 0, got {self.max_snap_m}")
        if self.access is not None and not callable(self.access):
            raise ValueError(f"access must be an access model (callable), got {self.access!r}")

    @property
    def access_model(self) -> AccessModel | Callable[..., np.ndarray]:
        """The access model in use (``access``, else the straight leg at the off-road speed)."""
        if self.access is not None:
            return self.access
        return StraightLeg(self.offroad_speed_kph)


DEFAULT_SNAP = SnapOptions()


@dataclass(frozen=True)
class _Snap:
    """Snapping of an array of m points (internal, positional).

    The exact links: ``out_node``/``out_s`` (m, 2), the nodes a point reaches as an
    origin and the time (access leg included; ``inf`` where the road forbids it);
    ``in_node``/``in_s`` (m, 2), the nodes a point is reached from as a destination.
    ``piece``, ``piece_frac``, ``t_fwd``, ``t_bwd`` describe the road piece (for the
    direct link between two points on it, :func:`same_piece_s`); ``piece`` is -1 for
    method ``"node"``.

    ``node``, ``time_s``, ``along_m`` are the single link of the fastest origin side,
    for callers that take one node per point (approximate: exact searches use the links).
    """

    node: np.ndarray  # int, the end node of the fastest origin link
    distance_m: np.ndarray  # straight-line distance from the point to the network
    along_m: np.ndarray  # distance along the edge from the projection to ``node``
    time_s: np.ndarray  # access leg + drive to ``node`` (inf when the point is cut off)
    edge: np.ndarray  # int row of the piece's first directed edge (-1 for method "node")
    fraction: np.ndarray  # position of the projection on that edge (0 = its u, 1 = its v)
    access_s: np.ndarray  # time of the off-road access leg alone
    out_node: np.ndarray  # (m, 2) int
    out_s: np.ndarray  # (m, 2) float
    in_node: np.ndarray  # (m, 2) int
    in_s: np.ndarray  # (m, 2) float
    piece: np.ndarray  # int road piece, -1 for method "node"
    t_fwd: np.ndarray  # time of the piece u -> v (inf when none is open)
    t_bwd: np.ndarray  # time of the piece v -> u (inf when none is open)
    xy: np.ndarray  # (m, 2) the points
    direct_t0_s: np.ndarray  # fixed time of a straight trip from the point (NaN: none)
    direct_mps: np.ndarray  # speed (m/s) of a straight trip from the point (NaN: none)

    def __len__(self) -> int:
        return len(self.node)

    def take(self, idx: np.ndarray) -> _Snap:
        """The snapping of a subset of the points (a boolean mask or positions)."""
        return _Snap(**{k: v[idx] for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class _Pieces:
    """Road pieces: each groups the directed edges joining the same two nodes with one
    geometry (a two-way road: 2 edges). ``first`` is the row of the piece's first edge,
    whose u → v is the piece's forward direction; ``t_fwd``/``t_bwd`` are the fastest
    *open* edge each way (``inf`` if none)."""

    tree: shapely.STRtree
    geoms: np.ndarray  # the piece geometries (from u of ``first`` to its v)
    first: np.ndarray
    a: np.ndarray
    b: np.ndarray
    length_m: np.ndarray
    t_fwd: np.ndarray
    t_bwd: np.ndarray


# Spatial indexes are built once per network; weak keys let networks be freed.
_PIECES: weakref.WeakKeyDictionary[RoadNetwork, _Pieces] = weakref.WeakKeyDictionary()
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


def _closed(net: RoadNetwork) -> np.ndarray:
    e = net.edges
    if "closed" not in e.columns:
        return np.zeros(len(e), dtype=bool)
    return e["closed"].fillna(False).astype(bool).to_numpy()


def _pieces(net: RoadNetwork) -> _Pieces:
    """The road pieces of ``net`` and a spatial index over them (built once per network).

    Indexing each piece once (not each directed edge) halves the nearest-edge queries,
    which dominate the time of snapping many points.
    """
    if net not in _PIECES:
        geoms = edge_geometries(net)
        e = net.edges
        u = e[C.U].to_numpy(dtype=np.int64)
        v = e[C.V].to_numpy(dtype=np.int64)
        key = pd.DataFrame(
            {"a": np.minimum(u, v), "b": np.maximum(u, v), "len": e[C.LENGTH_M].round(3).to_numpy()}
        )
        piece = key.groupby(["a", "b", "len"], sort=False).ngroup().to_numpy()
        n_pieces = int(piece.max()) + 1
        first = np.full(n_pieces, len(e), dtype=np.int64)
        np.minimum.at(first, piece, np.arange(len(e)))
        a, b = u[first], v[first]
        tt = np.where(_closed(net), np.inf, e[C.TRAVEL_TIME_S].to_numpy(dtype=float))
        fwd = u == a[piece]  # a loop (u == v) counts as drivable both ways
        bwd = v == a[piece]
        t_fwd = np.full(n_pieces, np.inf)
        t_bwd = np.full(n_pieces, np.inf)
        np.minimum.at(t_fwd, piece[fwd], tt[fwd])
        np.minimum.at(t_bwd, piece[bwd], tt[bwd])
        _PIECES[net] = _Pieces(
            shapely.STRtree(geoms[first]),
            geoms[first],
            first,
            a,
            b,
            e[C.LENGTH_M].to_numpy(dtype=float)[first],
            t_fwd,
            t_bwd,
        )
    return _PIECES[net]


def _node_tree(net: RoadNetwork) -> cKDTree:
    if net not in _NODE_TREES:
        _NODE_TREES[net] = cKDTree(net.nodes[["x", "y"]].to_numpy(dtype=float))
    return _NODE_TREES[net]


def _links(
    a: np.ndarray, b: np.ndarray, f: np.ndarray, t_fwd: np.ndarray, t_bwd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drive times between a projection at fraction ``f`` of a piece a → b and its ends.

    Returns the (m, 2) nodes ``[a, b]`` and the times (without the access leg) to reach
    them as an origin and from them as a destination (``inf`` where the road forbids).
    """
    at_a, at_b = f == 0.0, f == 1.0
    with np.errstate(invalid="ignore"):  # 0 * inf when at a node of a closed road
        out_a = np.where(at_a, 0.0, f * t_bwd)
        out_b = np.where(at_b, 0.0, (1.0 - f) * t_fwd)
        in_a = np.where(at_a, 0.0, f * t_fwd)
        in_b = np.where(at_b, 0.0, (1.0 - f) * t_bwd)
    nodes = np.column_stack([a, b]).astype(np.int64)
    return nodes, np.column_stack([out_a, out_b]), np.column_stack([in_a, in_b])


def _nearest_pieces(net: RoadNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point: the nearest piece, the distance to it and the projection's fraction.

    Among pieces at the same smallest distance (common: a point on a node touches every
    piece of that node) the one giving the fastest link wins (then the lowest piece).
    """
    pc = _pieces(net)
    points = shapely.points(xy)
    (ipt, ipc), dist = pc.tree.query_nearest(points, return_distance=True, all_matches=True)
    g = pc.geoms[ipc]
    glen = shapely.length(g)
    proj = shapely.line_locate_point(g, points[ipt])
    frac = np.divide(proj, glen, out=np.zeros(len(ipt)), where=glen > 0)
    frac = np.clip(frac, 0.0, 1.0)
    frac[proj <= AT_NODE_M] = 0.0
    frac[glen - proj <= AT_NODE_M] = 1.0
    if not np.array_equal(np.unique(ipt), np.arange(len(xy))):
        raise DataError("snapping: some points found no road edge (empty network?)")
    if len(ipt) > len(xy):  # ties: keep the piece with the fastest link
        _, out_t, in_t = _links(pc.a[ipc], pc.b[ipc], frac, pc.t_fwd[ipc], pc.t_bwd[ipc])
        best = np.minimum(out_t.min(axis=1), in_t.min(axis=1))
        order = np.lexsort((ipc, best, ipt))
        keep = order[np.r_[True, ipt[order][1:] != ipt[order][:-1]]]
    else:
        keep = np.argsort(ipt, kind="stable")
    return ipc[keep], dist[keep], frac[keep]


def snap_xy(
    net: RoadNetwork,
    xy: np.ndarray,
    options: SnapOptions = DEFAULT_SNAP,
    attributes: Mapping[str, np.ndarray] | None = None,
    *,
    where: str = "points",
) -> _Snap:
    """Snap an (m, 2) array of coordinates in the network CRS (no checks, no warning).

    ``attributes``: per-point arrays for the access model (see
    :mod:`accessibility.engine.access`).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    m = len(xy)
    model = options.access_model
    if options.method == "node":
        dist, node = _node_tree(net).query(xy)
        node = np.asarray(node, dtype=np.int64)
        leg = access_times(model, dist, attributes, where=where)
        zeros, minus = np.zeros(m), np.full(m, -1, dtype=np.int64)
        links = np.column_stack([leg, np.full(m, np.inf)])
        pair = np.column_stack([node, node])
        inf = np.full(m, np.inf)
        return _Snap(
            node, dist, zeros, leg, minus, zeros, leg, pair, links, pair, links, minus, inf, inf,
            xy, *_direct(model, m, attributes),
        )
    pc = _pieces(net)
    ipc, dist, frac = _nearest_pieces(net, xy)
    leg = access_times(model, dist, attributes, where=where)
    t_fwd, t_bwd = pc.t_fwd[ipc], pc.t_bwd[ipc]
    nodes, out_t, in_t = _links(pc.a[ipc], pc.b[ipc], frac, t_fwd, t_bwd)
    out_s, in_s = out_t + leg[:, None], in_t + leg[:, None]
    side = np.argmin(out_s, axis=1)  # the faster origin side (the first on ties)
    rows = np.arange(m)
    along = np.where(side == 0, frac, 1.0 - frac) * pc.length_m[ipc]
    return _Snap(
        nodes[rows, side],
        dist,
        along,
        out_s[rows, side],
        pc.first[ipc],
        frac,
        leg,
        nodes,
        out_s,
        nodes.copy(),
        in_s,
        ipc,
        t_fwd,
        t_bwd,
        xy,
        *_direct(model, m, attributes),
    )


def _direct(
    model: object, m: int, attributes: Mapping[str, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point fixed time and speed of a straight trip off the network, if the access
    model allows one (its ``direct(attributes, m)``; see
    :mod:`accessibility.engine.access`), else NaN (no straight trip)."""
    direct = getattr(model, "direct", None)
    if direct is None:
        return np.full(m, np.nan), np.full(m, np.nan)
    t0, mps = direct(attributes or {}, m)
    return np.broadcast_to(np.asarray(t0, float), (m,)).copy(), np.asarray(mps, float)


def straight_trip_s(origins: _Snap, distance_m: np.ndarray) -> np.ndarray:
    """Seconds of a straight trip of ``distance_m`` (broadcast on the origins' last axis)
    from each origin, ``inf`` where its access model allows none."""
    t = origins.direct_t0_s + np.asarray(distance_m, float) / origins.direct_mps
    return np.where(np.isfinite(t), t, np.inf)


def same_piece_s(origins: _Snap, destinations: _Snap, io: np.ndarray, jd: np.ndarray) -> np.ndarray:
    """Direct times (seconds) from origins ``io`` to destinations ``jd`` along their piece.

    Pairs on different pieces (or snapped by method ``"node"``) get ``inf``; pairs on
    the same piece drive from one projection to the other when the direction allows
    (access legs at both ends); a point to itself (same coordinates) takes 0.
    """
    po, pd_ = origins.piece[io], destinations.piece[jd]
    same = (po == pd_) & (po >= 0)
    fo, fd = origins.fraction[io], destinations.fraction[jd]
    with np.errstate(invalid="ignore"):  # 0 * inf: same position on a closed road
        drive = np.where(fd >= fo, (fd - fo) * origins.t_fwd[io], (fo - fd) * origins.t_bwd[io])
    drive = np.where(fd == fo, 0.0, drive)
    total = origins.access_s[io] + drive + destinations.access_s[jd]
    identical = np.all(origins.xy[io] == destinations.xy[jd], axis=-1)
    total = np.where(identical, 0.0, total)
    return np.where(same | identical, total, np.inf)


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


def point_attributes(points: pd.DataFrame, options: SnapOptions) -> dict[str, np.ndarray]:
    """The columns of ``points`` that the access model reads (those the layer has)."""
    return {
        c: points[c].to_numpy() for c in model_columns(options.access_model) if c in points.columns
    }


def snap_layer(
    net: RoadNetwork,
    points: gpd.GeoDataFrame,
    *,
    id_column: str,
    where: str = "points",
    options: SnapOptions = DEFAULT_SNAP,
) -> tuple[np.ndarray, _Snap]:
    """Check and snap a point layer; warn about the far points. Returns (ids, snapping)."""
    xy = point_coordinates(net, points, id_column=id_column, where=where)
    s = snap_xy(net, xy, options, point_attributes(points, options), where=where)
    ids = points[id_column].to_numpy()
    warn_far(ids, s.distance_m, options.max_snap_m, where=where)
    return ids, s


def snap_points(
    net: RoadNetwork,
    points: gpd.GeoDataFrame,
    *,
    id_column: str,
    method: SnapMethod = "edge",
    max_snap_m: float = MAX_SNAP_M,
    offroad_speed_kph: float = OFFROAD_SPEED_KPH,
    where: str = "points",
    access: AccessModel | Callable[..., np.ndarray] | None = None,
) -> pd.DataFrame:
    """Attach each point to the network: its access leg and its fastest origin link.

    Parameters
    ----------
    net
        The road network.
    points
        Point layer with a CRS (reprojected to the network CRS) and a unique id column.
    id_column
        Name of the id column of ``points``.
    method
        ``"edge"`` (project onto the nearest road piece) or ``"node"`` (nearest node);
        see the module docstring.
    max_snap_m
        Points farther than this from the network get a :class:`SnapWarning`.
    offroad_speed_kph
        Speed of the default access model (straight leg), when ``access`` is None.
    where
        Name of the layer, used in messages.
    access
        An access model (:mod:`accessibility.engine.access`); its ``columns`` are read
        from ``points`` when present.

    Returns
    -------
    pandas.DataFrame
        One row per point, in input order: ``point_id``, ``node_id`` (the end node the
        point reaches first as an origin; the engine's searches use both ends),
        ``snap_distance_m`` (straight-line distance to the network), ``along_edge_m``
        (distance driven along the snapped edge to that node; 0 for method ``"node"``),
        ``offroad_time_s`` (access leg + that drive, in seconds; ``inf`` when the point
        lies on a road closed in both directions).

    Warns
    -----
    SnapWarning
        Points farther than ``max_snap_m`` from the network (kept, not dropped).
    """
    options = SnapOptions(method, max_snap_m, offroad_speed_kph, access)
    ids, snap = snap_layer(net, points, id_column=id_column, where=where, options=options)
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
