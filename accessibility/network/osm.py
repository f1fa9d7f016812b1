"""Read an OpenStreetMap file (.osm.pbf, .osm, .osm.gz) into a car :class:`RoadNetwork`.

Ways are read with pyosmium (node locations attached), kept when a car may drive them
(``highway`` class, access tags, ``area``), split at every node shared by several ways
(or visited twice by one) and at way ends; the nodes in between become the edge's
geometry. A two-way road gives two directed edges, a one-way road one.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from accessibility.core import columns as C
from accessibility.core.errors import CorruptFileError, NetworkError, NetworkWarning
from accessibility.network.build import Segments, directed_edges, polylines_to_graph
from accessibility.network.graph import RoadNetwork
from accessibility.network.speeds import SpeedTable, load_speed_table

log = logging.getLogger(__name__)

#: ``highway`` values a car may drive (OSRM car profile's classes, plus ``road``).
#: ``track`` is left out by default, as OSRM car does (farm and forest tracks).
DRIVABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "service", "road",
    }
)  # fmt: skip

#: Access values that close a way to cars (OSRM car's blacklist, plus psv/bus/military).
#: ``destination``, ``delivery``, ``customers``, ``permissive`` stay open.
ACCESS_DENIED: frozenset[str] = frozenset(
    {"no", "private", "agricultural", "forestry", "emergency", "psv", "bus", "military"}
)
#: Access tags from the most to the least specific: the first one present decides.
ACCESS_TAGS: tuple[str, ...] = ("motorcar", "motor_vehicle", "vehicle", "access")

_YES = frozenset({"yes", "1", "true"})
_REVERSE = frozenset({"-1", "reverse"})
_TAGS_KEPT = ("highway", "name", "ref", "maxspeed", "maxspeed:forward", "maxspeed:backward")


@dataclass
class _Way:
    """One drivable way, copied out of the pyosmium buffer."""

    osm_id: int
    refs: list[int]
    lons: list[float]
    lats: list[float]
    highway: str
    name: str | None
    ref: str | None
    forward: bool
    backward: bool
    maxspeed_fwd: str | None
    maxspeed_bwd: str | None


def _direction(tags: dict[str, str]) -> tuple[bool, bool] | None:
    """(forward, backward) allowed; ``None`` for ``oneway=reversible`` (not routable)."""
    oneway = (tags.get("oneway") or "").strip().lower()
    if oneway == "reversible" or oneway == "alternating":
        return None
    if oneway in _YES:
        return True, False
    if oneway in _REVERSE:
        return False, True
    if oneway == "no":
        return True, True
    implied = tags.get("highway") == "motorway" or tags.get("junction") in (
        "roundabout",
        "circular",
    )
    return (True, False) if implied else (True, True)


def _car_denied(tags: dict[str, str]) -> bool:
    """Whether the most specific access tag present closes the way to cars."""
    for key in ACCESS_TAGS:
        value = tags.get(key)
        if value:
            return value.strip().lower() in ACCESS_DENIED
    return False


def _read_ways(
    path: Path, classes: Collection[str], counts: dict[str, int]
) -> list[_Way]:
    """Pass over the file once; return the drivable ways with their node locations."""
    import osmium

    ways: list[_Way] = []
    fp = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for w in fp:
            tags = {k: w.tags.get(k) for k in (*_TAGS_KEPT, "oneway", "junction", "area",
                                                  *ACCESS_TAGS)}  # fmt: skip
            if tags["highway"] not in classes:
                continue
            counts["ways_of_drivable_class"] += 1
            if (tags["area"] or "").lower() == "yes":
                counts["dropped_area"] += 1
                continue
            if _car_denied(tags):
                counts["dropped_access"] += 1
                continue
            direction = _direction(tags)
            if direction is None:
                counts["dropped_reversible"] += 1
                continue
            refs, lons, lats = [], [], []
            for nd in w.nodes:
                loc = nd.location
                if loc.valid():
                    refs.append(nd.ref)
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:
                    refs.append(nd.ref)
                    lons.append(math.nan)
                    lats.append(math.nan)
            ms = tags["maxspeed"]
            ways.append(
                _Way(
                    osm_id=w.id,
                    refs=refs,
                    lons=lons,
                    lats=lats,
                    highway=tags["highway"],
                    name=tags["name"],
                    ref=tags["ref"],
                    forward=direction[0],
                    backward=direction[1],
                    maxspeed_fwd=tags["maxspeed:forward"] or ms,
                    maxspeed_bwd=tags["maxspeed:backward"] or ms,
                )
            )
    except RuntimeError as exc:
        raise CorruptFileError(
            f"{path}: cannot be read as an OpenStreetMap file (.osm.pbf, .osm, .osm.gz): {exc}"
        ) from exc
    return ways


def _runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of consecutive True values with at least 2 items."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], valid.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= 2]


#: What ``meta["ways"]`` counts.
_COUNTS = (
    "ways_of_drivable_class",
    "dropped_area",
    "dropped_access",
    "dropped_reversible",
    "nodes_without_location",
    "nodes_outside_bbox",
)


def read_osm(
    path: str | Path,
    *,
    speeds: SpeedTable | None = None,
    crs: str = "EPSG:2154",
    bbox: Sequence[float] | None = None,
    classes: Collection[str] = DRIVABLE_HIGHWAYS,
) -> RoadNetwork:
    """Build the car road network of an OpenStreetMap file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.gz`` (any format pyosmium reads).
    speeds
        Speed table (default: :func:`load_speed_table`). A way's speed is its legal
        ``maxspeed`` times the table's ``maxspeed_factor`` when tagged, else its class
        speed.
    crs
        Metric CRS of the result (lengths are measured in it).
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS 84: nodes outside are dropped
        (ways are cut there), e.g. to leave out stray far nodes of an extract.
    classes
        ``highway`` values to keep (default :data:`DRIVABLE_HIGHWAYS`; add ``"track"``
        to keep tracks: the speed table has a figure for them).

    Returns
    -------
    RoadNetwork
        Edges carry, besides the contract's columns, ``osm_way_id``, ``highway``,
        ``name``, ``ref``, ``oneway`` and ``maxspeed_kph`` (the legal limit, NaN when
        untagged); ``road_class`` is the ``highway`` value. ``nodes`` has ``osm_id``.
        ``meta`` counts the ways read and dropped (``ways``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CorruptFileError
        If the file cannot be read as OSM data.
    NetworkError
        If the file has no drivable road, or a class has no speed in the table.
    """
    path = Path(path)
    speeds, target = _check_options(path, speeds, classes, crs)
    counts = dict.fromkeys(_COUNTS, 0)
    ways = _read_ways(path, frozenset(classes), counts)
    if not ways:
        raise NetworkError(
            f"{path}: no drivable road (no way with highway in {', '.join(sorted(classes))} "
            f"open to cars; {counts['ways_of_drivable_class']} way(s) of those classes found, "
            f"{counts['dropped_access']} closed by access tags, {counts['dropped_area']} areas)"
        )
    nodes_of_ways = _located_nodes(ways, bbox, counts, path)
    vidx, line, way_of_piece = _pieces(nodes_of_ways, path, bbox)
    refs, lon, lat = nodes_of_ways.refs, nodes_of_ways.lon, nodes_of_ways.lat
    x, y = Transformer.from_crs("EPSG:4326", target, always_xy=True).transform(
        lon[vidx], lat[vidx]
    )
    # A vertex is a graph node when it is an OSM node shared by several ways (or met
    # twice by one), or ends a piece: the rule of osmnx and OSRM.
    seg = polylines_to_graph(np.column_stack((x, y)), refs[vidx], line, crs=target)
    nodes = seg.nodes.rename(columns={"key": "osm_id"})
    edges = _edges(seg, ways, way_of_piece, speeds)
    counts["ways_kept"] = len(ways)
    meta = {
        "source": str(path),
        "reader": "osm",
        "crs": target.to_string(),
        "speed_table": str(speeds.path),
        "maxspeed_factor": speeds.maxspeed_factor,
        "classes": sorted(classes),
        "bbox": list(bbox) if bbox is not None else None,
        "ways": counts,
    }
    log.info("%s: %d drivable ways -> %d nodes, %d directed edges", path, len(ways),
             len(nodes), len(edges))  # fmt: skip
    return RoadNetwork(nodes=nodes, edges=edges, meta=meta)


def _check_options(
    path: Path, speeds: SpeedTable | None, classes: Collection[str], crs: str
) -> tuple[SpeedTable, CRS]:
    """The speed table and target CRS, checked before the file is read."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such OpenStreetMap file")
    speeds = speeds or load_speed_table()
    missing = sorted(c for c in classes if not speeds.has(c))
    if missing:
        raise NetworkError(
            f"{speeds.path}: no speed for highway class(es) {', '.join(missing)} "
            "asked for by read_osm(classes=...)"
        )
    target = CRS.from_user_input(crs)
    if not target.is_projected:
        raise NetworkError(f"read_osm: crs must be a metric (projected) CRS, got {crs}")
    return speeds, target


@dataclass(frozen=True)
class _WayNodes:
    """The nodes of every way, one flat array, and which of them are kept."""

    refs: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    keep: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray


def _located_nodes(
    ways: list[_Way], bbox: Sequence[float] | None, counts: dict[str, int], path: Path
) -> _WayNodes:
    """Drop nodes without a location, repeated in place, or outside ``bbox``."""
    lengths = np.array([len(w.refs) for w in ways])
    refs = np.concatenate([np.asarray(w.refs, dtype=np.int64) for w in ways])
    lon = np.concatenate([np.asarray(w.lons, dtype=float) for w in ways])
    lat = np.concatenate([np.asarray(w.lats, dtype=float) for w in ways])
    keep = np.isfinite(lon) & np.isfinite(lat)
    counts["nodes_without_location"] = int((~keep).sum())
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    # a node repeated right after itself in a way is bad data: keep one copy
    repeat = np.zeros(len(refs), dtype=bool)
    repeat[1:] = refs[1:] == refs[:-1]
    repeat[starts] = False
    keep &= ~repeat
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        counts["nodes_outside_bbox"] = int((keep & ~inside).sum())
        keep &= inside
    if counts["nodes_without_location"]:
        warnings.warn(
            f"{path}: {counts['nodes_without_location']} way node(s) have no location in the "
            "file (incomplete extract); the ways are cut at those nodes",
            NetworkWarning,
            stacklevel=3,
        )
    return _WayNodes(refs, lon, lat, keep, starts, lengths)


def _pieces(
    wn: _WayNodes, path: Path, bbox: Sequence[float] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut ways at dropped nodes: each run of >= 2 kept nodes becomes one polyline.

    Returns the vertex indices of the pieces one after the other, the piece of each
    vertex, and the way of each piece.
    """
    piece_vertices: list[np.ndarray] = []
    piece_way: list[int] = []
    for wi, (s, n) in enumerate(zip(wn.starts, wn.lengths, strict=True)):
        for a, b in _runs(wn.keep[s : s + n]):
            piece_vertices.append(np.arange(s + a, s + b))
            piece_way.append(wi)
    if not piece_vertices:
        raise NetworkError(
            f"{path}: no drivable road segment left (ways have fewer than two located nodes"
            + (" inside the bbox)" if bbox is not None else ")")
        )
    vidx = np.concatenate(piece_vertices)
    line = np.repeat(np.arange(len(piece_vertices)), [len(p) for p in piece_vertices])
    return vidx, line, np.asarray(piece_way)


def _edges(
    seg: Segments, ways: list[_Way], way_of_piece: np.ndarray, speeds: SpeedTable
) -> gpd.GeoDataFrame:
    """Directed edges with each way's speed: its ``maxspeed`` (times the table's
    factor) when tagged, else its class speed."""
    ms_fwd = np.array([speeds.parse_maxspeed(w.maxspeed_fwd) for w in ways], dtype=float)
    ms_bwd = np.array([speeds.parse_maxspeed(w.maxspeed_bwd) for w in ways], dtype=float)
    class_speed = np.array([speeds.speed_for(w.highway) for w in ways])
    factor = speeds.maxspeed_factor
    sp_fwd = np.where(np.isfinite(ms_fwd), ms_fwd * factor, class_speed)
    sp_bwd = np.where(np.isfinite(ms_bwd), ms_bwd * factor, class_speed)
    lines = pd.DataFrame(
        {
            "forward": [w.forward for w in ways],
            "backward": [w.backward for w in ways],
            C.ROAD_CLASS: [w.highway for w in ways],
            "osm_way_id": [w.osm_id for w in ways],
            "highway": [w.highway for w in ways],
            "name": [w.name for w in ways],
            "ref": [w.ref for w in ways],
            "oneway": [w.forward != w.backward for w in ways],
        }
    ).iloc[way_of_piece].reset_index(drop=True)
    return directed_edges(
        seg,
        lines,
        speed_fwd=sp_fwd[way_of_piece],
        speed_bwd=sp_bwd[way_of_piece],
        extra_fwd={"maxspeed_kph": ms_fwd[way_of_piece]},
        extra_bwd={"maxspeed_kph": ms_bwd[way_of_piece]},
    )
