"""Isochrones: the area within X minutes of a site (or of the nearest of several sites).

Method ``"edges"``: one Dijkstra per site (or one multi-source search for the union)
from the site's links to both ends of its edge (exact snapping, see
:mod:`accessibility.engine.snapping`), then the parts of *open* edges reached within the
budget (a road a scenario closes is never driven), the stretch of the site's own edge
reached without passing a node, including the reached stretch of an
edge that is only partly covered (cut at the exact fraction of its travel time, along its
geometry, with :func:`shapely.ops.substring`), buffered by :data:`BUFFER_M` and merged.
The buffer stands for the last stretch off the network (driveways, paths, parking) and
for the width of the road: a place within ``buffer_m`` of a reached road counts as
reached. Bands are nested by construction (each band is merged with the smaller ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import substring

from accessibility.core import columns as C
from accessibility.engine.snapping import (
    DEFAULT_SNAP,
    SnapOptions,
    _closed,
    _pieces,
    _Snap,
    edge_geometries,
    snap_layer,
)
from accessibility.engine.travel_times import snapped_node_times
from accessibility.network.graph import RoadNetwork

#: Segments per quarter circle of the buffers (GEOS default 8; 4 is ample at map scale).
QUAD_SEGS = 4
#: Default buffer around reached roads (metres): the off-network allowance, about 4 min
#: at the off-road speed of 15 km/h used for snapping (see accessibility.engine.snapping).
BUFFER_M = 300.0

Direction = Literal["to", "from"]


def reached_parts(
    net: RoadNetwork,
    times_s: np.ndarray,
    budget_s: float,
    *,
    direction: Direction = "to",
    geoms: np.ndarray | None = None,
) -> np.ndarray:
    """The parts of open edges reached within ``budget_s``, as an array of LineStrings.

    Edges a scenario closes (``closed``) are left out: no one drives them.

    Parameters
    ----------
    net
        The road network.
    times_s
        Seconds at each node: to the site (``direction="to"``) or from it (``"from"``);
        ``inf`` where unreached.
    budget_s
        The time budget.
    direction
        ``"to"``: on edge u → v a point at fraction f reaches the site in
        ``(1 - f) · tt + T[v]``, so the reached part is ``[1 - (budget - T[v]) / tt, 1]``.
        ``"from"``: reached at ``T[u] + f · tt``, so ``[0, (budget - T[u]) / tt]``.
    geoms
        The edges' geometries (default :func:`~accessibility.engine.snapping.edge_geometries`).
    """
    geoms = edge_geometries(net) if geoms is None else geoms
    e = net.edges
    u = e[C.U].to_numpy()
    v = e[C.V].to_numpy()
    tt = e[C.TRAVEL_TIME_S].to_numpy(dtype=float)
    eps = 1e-9  # float tolerance on the budget, in seconds
    anchor = times_s[v] if direction == "to" else times_s[u]
    ok = (anchor <= budget_s + eps) & ~_closed(net)  # a closed road is never driven
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(tt > 0, (budget_s - anchor) / tt, np.inf)  # reached share of edge
    full = ok & (share >= 1.0)
    part = ok & ~full & (share > 0)
    out = list(geoms[full])
    for i in np.flatnonzero(part):
        s = float(share[i])
        start, end = (1.0 - s, 1.0) if direction == "to" else (0.0, s)
        out.append(substring(geoms[i], start, end, normalized=True))
    return np.asarray(out, dtype=object)


def own_piece_parts(
    net: RoadNetwork, sites: _Snap, budget_s: float, *, direction: Direction = "to"
) -> tuple[list, np.ndarray]:
    """The stretches of the sites' own road pieces reached directly, and their projections.

    A site in the middle of a long edge reaches (or is reached from) the road on either
    side of it without passing a node, in the directions the road allows: ``"from"``,
    forward along u → v over ``(budget - access) / t(u→v)`` of the piece, backward over
    ``(budget - access) / t(v→u)``; ``"to"``, the reverse. Returns the LineStrings and
    the (k, 2) projections reached within the budget (access leg ≤ budget).
    """
    pc = _pieces(net)
    lines: list = []
    left = budget_s - sites.access_s
    on_road = (sites.piece >= 0) & (left >= 0)
    ahead, behind = (sites.t_bwd, sites.t_fwd) if direction == "to" else (sites.t_fwd, sites.t_bwd)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(ahead > 0, left / ahead, np.inf)  # share of the piece toward its v
        down = np.where(behind > 0, left / behind, np.inf)  # share toward its u
    for i in np.flatnonzero(on_road):
        g, f = pc.geoms[sites.piece[i]], float(sites.fraction[i])
        if up[i] > 0:
            lines.append(substring(g, f, min(1.0, f + up[i]), normalized=True))
        if down[i] > 0:
            lines.append(substring(g, max(0.0, f - down[i]), f, normalized=True))
    idx = np.flatnonzero(on_road)
    at = shapely.line_interpolate_point(
        pc.geoms[sites.piece[idx]], sites.fraction[idx], normalized=True
    )
    # a zero-length stretch (a site at a dead end, looking past it) is a Point: dropped
    lines = [ln for ln in lines if ln.geom_type == "LineString" and ln.length > 0]
    return lines, shapely.get_coordinates(at).reshape(-1, 2)


def _band(
    net: RoadNetwork,
    times_s: np.ndarray,
    budget: float,
    sites: _Snap,
    direction: Direction,
    buffer_m: float,
    geoms: np.ndarray,
) -> shapely.Geometry | None:
    """The area reached within ``budget`` seconds (None when nothing is)."""
    lines = list(reached_parts(net, times_s, budget, direction=direction, geoms=geoms))
    own, at = own_piece_parts(net, sites, budget, direction=direction)
    xy = net.nodes[["x", "y"]].to_numpy(dtype=float)
    reached = np.concatenate([xy[times_s <= budget + 1e-9], at])
    # Buffer each piece on its own, then union: GEOS buffers one huge multi-line
    # much more slowly (tens of seconds on a valley network) than many small ones.
    # A two-way road is reached in both directions: its two equal pieces count once.
    pieces = np.asarray(lines + own, dtype=object)
    if len(pieces):
        pieces = pieces[np.unique(shapely.normalize(pieces).astype(str), return_index=True)[1]]
    blobs = [shapely.buffer(pieces, buffer_m, quad_segs=QUAD_SEGS)] if len(pieces) else []
    if len(reached):
        blobs.append(shapely.buffer(shapely.points(reached), buffer_m, quad_segs=QUAD_SEGS))
    return shapely.union_all(np.concatenate(blobs)) if blobs else None


def _bands(
    net: RoadNetwork,
    times_s: np.ndarray,
    minutes: Sequence[float],
    sites: _Snap,
    direction: Direction,
    buffer_m: float,
    geoms: np.ndarray,
) -> list:
    """Nested areas, one per band of ``minutes`` (increasing)."""
    result = []
    previous = None
    for m in sorted(minutes):
        geom = _band(net, times_s, float(m) * 60.0, sites, direction, buffer_m, geoms)
        if geom is not None and previous is not None:
            geom = shapely.union(geom, previous)
        previous = geom if geom is not None else previous
        result.append((float(m), geom if geom is not None else shapely.Polygon()))
    return result


def _check(method: str, direction: str, minutes: Sequence[float], buffer_m: float) -> None:
    if method != "edges":
        raise ValueError(f"isochrone method must be 'edges', got {method!r}")
    if direction not in ("to", "from"):
        raise ValueError(f"direction must be 'to' or 'from', got {direction!r}")
    if not minutes or min(minutes) < 0:
        raise ValueError(f"minutes must be a non-empty list of values >= 0, got {minutes!r}")
    if not buffer_m > 0:
        raise ValueError(f"buffer_m must be > 0 metres, got {buffer_m}")


def isochrones(
    net: RoadNetwork,
    sites: gpd.GeoDataFrame,
    *,
    site_id: str | None,
    minutes: Sequence[float] = (10, 20, 30),
    method: Literal["edges"] = "edges",
    buffer_m: float = BUFFER_M,
    direction: Direction = "to",
    snap: SnapOptions = DEFAULT_SNAP,
) -> gpd.GeoDataFrame:
    """Areas within each number of ``minutes`` of each site.

    Parameters
    ----------
    net
        The road network.
    sites
        Point layer with a CRS.
    site_id
        Id column of ``sites``; ``None`` for one set of bands for all sites together
        (the area within X minutes of the *nearest* site).
    minutes
        The bands, in minutes.
    method
        ``"edges"`` (the only one): reached parts of open edges, buffered (module
        docstring).
    buffer_m
        Buffer around the reached roads, in metres.
    direction
        ``"to"`` (default): time to reach the site, as in the travel-time tables;
        ``"from"``: time from the site (differs on oneway roads).
    snap
        Snapping options: a site's access leg and its links to both ends of its edge
        (in the directions the road allows) count in its times.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site and band (site order, then increasing minutes): ``site_id``
        (None for the union), ``minutes``, ``geometry`` (Polygon or MultiPolygon in the
        network CRS; empty when nothing is reached). Bands are nested.
    """
    _check(method, direction, minutes, buffer_m)
    id_col = site_id
    if site_id is None:
        sites = sites.assign(_site=np.arange(len(sites)))
        id_col = "_site"
    ids, s = snap_layer(net, sites, id_column=id_col, where="sites", options=snap)
    limit_s = float(max(minutes)) * 60.0
    to = direction == "to"
    geoms = edge_geometries(net)
    rows: list[tuple[object, float, object]] = []
    if site_id is None:
        times, _ = snapped_node_times(net, s, to_points=to, limit_s=limit_s)
        rows += [
            (None, m, g) for m, g in _bands(net, times, minutes, s, direction, buffer_m, geoms)
        ]
    else:
        for i in range(len(s)):
            one = s.take(np.array([i]))
            times, _ = snapped_node_times(net, one, to_points=to, limit_s=limit_s)
            bands = _bands(net, times, minutes, one, direction, buffer_m, geoms)
            rows += [(ids[i], m, g) for m, g in bands]
    return gpd.GeoDataFrame(
        {
            C.SITE_ID: [r[0] for r in rows],
            C.MINUTES: [r[1] for r in rows],
        },
        geometry=[r[2] for r in rows],
        crs=net.crs,
    )
