"""Isochrones: the area within X minutes of a site (or of the nearest of several sites).

Method ``"edges"``: one Dijkstra per site (or one multi-source search for the union),
then the parts of edges reached within the budget, including the reached stretch of an
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
    edge_geometries,
    point_coordinates,
    snap_xy,
)
from accessibility.engine.snapping import warn_far as _warn_far
from accessibility.engine.travel_times import nearest_node_times, node_times
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
    """The parts of edges reached within ``budget_s``, as an array of LineStrings.

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
    ok = anchor <= budget_s + eps
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


def _bands(
    net: RoadNetwork,
    times_s: np.ndarray,
    minutes: Sequence[float],
    direction: Direction,
    buffer_m: float,
    geoms: np.ndarray,
) -> list:
    xy = net.nodes[["x", "y"]].to_numpy(dtype=float)
    result = []
    previous = None
    for m in sorted(minutes):
        budget = float(m) * 60.0
        lines = reached_parts(net, times_s, budget, direction=direction, geoms=geoms)
        reached = xy[times_s <= budget + 1e-9]
        # Buffer each piece on its own, then union: GEOS buffers one huge multi-line
        # much more slowly (tens of seconds on a valley network) than many small ones.
        # A two-way road is reached in both directions: its two equal pieces count once.
        pieces = np.asarray(lines, dtype=object)
        if len(pieces):
            pieces = pieces[np.unique(shapely.normalize(pieces).astype(str), return_index=True)[1]]
        blobs = [shapely.buffer(pieces, buffer_m, quad_segs=QUAD_SEGS)] if len(pieces) else []
        if len(reached):
            blobs.append(shapely.buffer(shapely.points(reached), buffer_m, quad_segs=QUAD_SEGS))
        geom = shapely.union_all(np.concatenate(blobs)) if blobs else None
        if geom is not None and previous is not None:
            geom = shapely.union(geom, previous)
        previous = geom if geom is not None else previous
        result.append((float(m), geom if geom is not None else shapely.Polygon()))
    return result


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
        ``"edges"`` (the only one): reached edge parts, buffered (module docstring).
    buffer_m
        Buffer around the reached roads, in metres.
    direction
        ``"to"`` (default): time to reach the site, as in the travel-time tables;
        ``"from"``: time from the site (differs on oneway roads).
    snap
        Snapping options: a site's access leg counts in its times.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site and band (site order, then increasing minutes): ``site_id``
        (None for the union), ``minutes``, ``geometry`` (Polygon or MultiPolygon in the
        network CRS; empty when nothing is reached). Bands are nested.
    """
    if method != "edges":
        raise ValueError(f"isochrone method must be 'edges', got {method!r}")
    if direction not in ("to", "from"):
        raise ValueError(f"direction must be 'to' or 'from', got {direction!r}")
    if not minutes or min(minutes) < 0:
        raise ValueError(f"minutes must be a non-empty list of values >= 0, got {minutes!r}")
    if not buffer_m > 0:
        raise ValueError(f"buffer_m must be > 0 metres, got {buffer_m}")
    id_col = site_id
    if site_id is None:
        sites = sites.assign(_site=np.arange(len(sites)))
        id_col = "_site"
    xy = point_coordinates(net, sites, id_column=id_col, where="sites")
    s = snap_xy(net, xy, snap)
    _warn_far(sites[id_col].to_numpy(), s.distance_m, snap.max_snap_m, where="sites")
    limit_s = float(max(minutes)) * 60.0
    reverse = direction == "to"
    geoms = edge_geometries(net)
    rows: list[tuple[object, float, object]] = []
    if site_id is None:
        times, _ = nearest_node_times(
            net, s.node, offsets_s=s.time_s, reverse=reverse, limit_s=limit_s
        )
        rows += [(None, m, g) for m, g in _bands(net, times, minutes, direction, buffer_m, geoms)]
    else:
        ids = sites[site_id].to_numpy()
        for i in range(len(sites)):
            times = node_times(net, [s.node[i]], reverse=reverse, limit_s=limit_s)[0]
            times = times + s.time_s[i]
            rows += [
                (ids[i], m, g) for m, g in _bands(net, times, minutes, direction, buffer_m, geoms)
            ]
    return gpd.GeoDataFrame(
        {
            C.SITE_ID: [r[0] for r in rows],
            C.MINUTES: [r[1] for r in rows],
        },
        geometry=[r[2] for r in rows],
        crs=net.crs,
    )
