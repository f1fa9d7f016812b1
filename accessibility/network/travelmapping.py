"""The Travel Mapping reader: numbered roads of France as a straight-segment RoadNetwork.

Travel Mapping (TravelMapping/HighwayData) describes every numbered road as a ``.wpt``
file, one waypoint a line::

    LABEL [ALTLABEL ...] http://www.openstreetmap.org/?lat=45.691332&lon=6.690623

Labels starting with ``+`` are hidden shaping points. Routes that cross or share a
stretch use identical coordinates at their common waypoints, so a node of the graph is
a distinct coordinate and an edge is a pair of consecutive waypoints of a route.

The geometry is junctions and sparse shaping points only: a straight segment is shorter
than the road it stands for, most of all on winding mountain roads. Each segment's
length is therefore its straight-line (geodesic) length times a *sinuosity factor* of
its class, calibrated on real OpenStreetMap mountain networks by
``scripts/calibrate_sinuosity.py`` and stored in ``data/network/sinuosity.toml``
(method and figures: ``docs/network-calibration.md``).
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import tarfile
import warnings
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, Strict
from pyproj import Geod, Transformer

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.errors import CorruptFileError, NetworkError, NetworkWarning
from accessibility.core.paths import project_data_dir
from accessibility.network.graph import RoadNetwork

log = logging.getLogger(__name__)

#: The catalogued archive (``accessibility.inputs.sources.fetch`` name).
SOURCE_NAME = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"
SINUOSITY_FILE = Path("network") / "sinuosity.toml"

#: Systems that overlay other routes rather than adding roads: European E-roads,
#: tourist routes (Route des Grandes Alpes...) and the Grand Tour of Switzerland run on
#: the same waypoints as the national/departmental routes they follow. Left out by
#: default; pass ``systems=`` to choose.
OVERLAY_SYSTEMS = frozenset({"eure", "eure2", "fratr", "chegts"})

# Class rank: when concurrent routes give the same segment, the highest class is kept.
CLASS_RANK = {"autoroute": 0, "nationale": 1, "departementale": 2}

# French departmental / metropolitan systems: "fra" + region code (3 letters) + "d" or
# "m" + département: fraarad73, fraaram42, fraarad69m, fragesd6ae, fracord, ...
_DEPARTMENTAL = re.compile(r"^fra[a-z]{3}[dm][0-9a-z]*$")
_EXPLICIT_CLASSES = {
    "fraa": "autoroute",  # France Autoroutes
    "frasf": "nationale",  # Select Named Freeways: Boulevard Périphérique, urban spurs
    "fran": "nationale",  # Routes Nationales
    "fran2": "nationale",
    "fracort": "nationale",  # Corsica Routes Territoriales (the former nationales)
    "itaa": "autoroute",  # Italy Autostrade
    "itaa2": "autoroute",
    "itass": "nationale",  # Italy Strade Statali
    "itass2": "nationale",
}

_WPT_LINE = re.compile(rb"^[ \t]*(\S+)[^\n]*?lat=(-?[0-9.]+)&lon=(-?[0-9.]+)", re.MULTILINE)

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class PassSection:
    """A stretch of a route that climbs a mountain pass, between two visible labels."""

    name: str
    root: str
    """Travel Mapping route root (the ``.wpt`` file name without extension)."""
    start: str | None
    """Label of the waypoint where the climb starts (``None``: the route's first)."""
    end: str | None
    """Label of the waypoint where it ends (``None``: the route's last)."""


#: Named pass roads of Savoie. Sections are delimited by waypoint labels read in the
#: archive's ``hwy_data/FRA-ARA/fraarad73/*.wpt`` files (commit 3d7993c9); the passes
#: and the villages at the foot of each climb are those of the IGN 1:25,000 maps
#: (Col de l'Iseran 2764 m between Val-d'Isère and Bonneval-sur-Arc; Col du Télégraphe
#: and Col du Galibier between Saint-Michel-de-Maurienne, Valloire and the Hautes-Alpes
#: border; Col du Mont-Cenis between Lanslebourg and Italy; Col de la Croix-de-Fer
#: and Col du Glandon above the Arvan and Glandon valleys; Col de la Madeleine between
#: La Léchère and La Chambre). Other passes are found by their label (see
#: :func:`_pass_label_mask`).
MOUNTAIN_PASSES: tuple[PassSection, ...] = (
    PassSection("Col de l'Iseran (D902)", "fraara.d090273", "RouAdr", "BonArc"),
    PassSection("Cols du Télégraphe and du Galibier (D902)", "fraara.d090273", "D215A", None),
    PassSection("Col du Mont-Cenis (D1006)", "fraara.d100673", "D115", "FRA/ITA"),
    PassSection("Col de la Croix-de-Fer (D926)", "fraara.d092673", None, "D77"),
    PassSection("Col du Glandon (D927)", "fraara.d092773", "D74_S", None),
    PassSection("Col de la Madeleine (D213)", "fraara.d021373", "D213B", "D99"),
)

#: Travel Mapping labels a pass summit ``Col`` + abbreviated name (``ColGab`` = Col du
#: Galibier, ``ColIse``); also ``Col`` alone.
_PASS_LABEL = re.compile(r"^Col(?:[A-Z]|$)")


# --------------------------------------------------------------------------------------
# classes and parameters
# --------------------------------------------------------------------------------------


def system_road_class(system: str) -> str:
    """Road class of a Travel Mapping system (``fraa`` -> ``"autoroute"``...).

    Unknown systems give ``"departementale"`` with a :class:`NetworkWarning`.
    """
    if system in _EXPLICIT_CLASSES:
        return _EXPLICIT_CLASSES[system]
    if _DEPARTMENTAL.match(system):
        return "departementale"
    warnings.warn(
        f"Travel Mapping system {system!r} has no known road class; its routes are read "
        "as 'departementale'. Add it to travelmapping._EXPLICIT_CLASSES or leave it out "
        "with systems=...",
        NetworkWarning,
        stacklevel=3,
    )
    return "departementale"


#: real length / straight-segment length: >= 1 by definition, < 3 (a road three times
#: longer than its points' chord would mean points too sparse to use)
_Factor = Annotated[float, Strict(), Field(ge=1, lt=3, allow_inf_nan=False)]


class SinuositySchema(params.Schema):
    """The keys of ``sinuosity.toml``, class -> factor: ``[factors]`` (the default,
    fitted on whole routes by scripts/calibrate_access.py), ``[pieces]`` (averaged over
    road pieces by scripts/calibrate_sinuosity.py) and ``[mountain_area]``."""

    factors: Mapping[str, _Factor] = {}
    pieces: Mapping[str, _Factor] = {}
    mountain_area: Mapping[str, _Factor] = {}


def load_sinuosity(path: str | Path | None = None, *, table: str = "factors") -> dict[str, float]:
    """Read the sinuosity factors (default ``data/network/sinuosity.toml``).

    ``table="factors"`` (default) goes with the mountain-pass flags of the reader, fitted
    on whole routes against full networks (docs/network-calibration.md); ``"pieces"``
    are the earlier piece-averaged factors;
    ``table="mountain_area"`` holds factors measured on a whole mountain country, for a
    territory whose climbing roads are mostly not flagged.

    Returns
    -------
    dict
        Road class -> factor (>= 1): real road length / straight-segment length.

    Raises
    ------
    NetworkError
        Missing or malformed file, or a factor that is not a number in [1, 3).
    """
    file = Path(path) if path is not None else project_data_dir() / SINUOSITY_FILE
    raw = params.load(file, SinuositySchema, what="sinuosity file", error=NetworkError)
    factors = getattr(raw, table, None)
    if not factors:
        raise NetworkError(f"{file}: missing or empty [{table}] table")
    return dict(factors)


# --------------------------------------------------------------------------------------
# archive reading
# --------------------------------------------------------------------------------------


@dataclass
class _Route:
    root: str
    system: str
    region: str
    labels: list[str]
    lat: np.ndarray
    lon: np.ndarray


def _read_archive(
    archive: Path, systems: Iterable[str] | None, bounds: tuple[float, ...] | None
) -> tuple[list[_Route], dict[str, dict[str, str]], int]:
    """Read the ``.wpt`` routes of the wanted systems, and the route table.

    Routes whose bounding box misses ``bounds`` (lon/lat) are not parsed further than
    their coordinates. Returns (routes, route table by root, number of routes seen).
    """
    wanted = None if systems is None else set(systems)
    routes: list[_Route] = []
    table: dict[str, dict[str, str]] = {}
    seen = 0
    try:
        # Decompress once into memory (~60 MB for France), then walk the tar headers:
        # twice as fast as tarfile's streaming gzip mode, which seeks in the gzip stream.
        raw = gzip.decompress(archive.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                name = member.name
                parts = name.split("/")
                if name.endswith(".wpt") and len(parts) >= 4 and parts[-4] == "hwy_data":
                    region, system = parts[-3], parts[-2]
                    if wanted is None:
                        if system in OVERLAY_SYSTEMS:
                            continue
                    elif system not in wanted:
                        continue
                    seen += 1
                    data = raw[member.offset_data : member.offset_data + member.size]
                    route = _parse_wpt(data, parts[-1][:-4], system, region, bounds)
                    if route is not None:
                        routes.append(route)
                elif (
                    name.endswith(".csv")
                    and len(parts) >= 2
                    and parts[-2] == "_systems"
                    and not name.endswith("_con.csv")
                ):
                    data = raw[member.offset_data : member.offset_data + member.size]
                    _read_system_csv(data, name, table)
    except (tarfile.TarError, EOFError, OSError, zlib.error, UnicodeDecodeError) as exc:
        raise CorruptFileError(
            f"{archive}: not a readable Travel Mapping archive ({exc}). Delete it and "
            "fetch it again."
        ) from exc
    return routes, table, seen


def _parse_wpt(
    data: bytes, root: str, system: str, region: str, bounds: tuple[float, ...] | None
) -> _Route | None:
    rows = _WPT_LINE.findall(data)
    if len(rows) < 2:
        return None
    lat = np.array([float(r[1]) for r in rows])
    lon = np.array([float(r[2]) for r in rows])
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        if lon.max() < minx or lon.min() > maxx or lat.max() < miny or lat.min() > maxy:
            return None
    labels = [r[0].decode("utf-8") for r in rows]
    return _Route(root=root, system=system, region=region, labels=labels, lat=lat, lon=lon)


def _read_system_csv(data: bytes, name: str, table: dict[str, dict[str, str]]) -> None:
    text = data.decode("utf-8-sig")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return
    # headers vary in case and spelling (root / fileNameRoot, abbrev / abbreviation):
    # columns are positional in Travel Mapping's format
    # system;region;route;banner;abbrev;city;root;altRouteNames
    for ln in lines[1:]:
        f = ln.split(";")
        if len(f) < 7:
            raise CorruptFileError(
                f"{name}: line {ln!r} has {len(f)} fields; expected at least 7 "
                "(system;region;route;banner;abbrev;city;root)"
            )
        table[f[6].strip()] = {"route": f[2].strip(), "banner": f[3].strip(), "city": f[5]}


# --------------------------------------------------------------------------------------
# mountain passes
# --------------------------------------------------------------------------------------


def _pass_label_mask(labels: list[str]) -> np.ndarray:
    """Segments (i, i+1) between the visible waypoints around a ``Col*`` label."""
    n = len(labels)
    seg = np.zeros(n - 1, dtype=bool)
    visible = [i for i, lab in enumerate(labels) if not lab.startswith("+")]
    for k, i in enumerate(visible):
        if _PASS_LABEL.match(labels[i]):
            lo = visible[k - 1] if k > 0 else 0
            hi = visible[k + 1] if k + 1 < len(visible) else n - 1
            seg[lo:hi] = True
    return seg


def _pass_section_mask(route: _Route, sections: Iterable[PassSection]) -> np.ndarray:
    seg = np.zeros(len(route.labels) - 1, dtype=bool)
    for s in sections:
        if s.root != route.root:
            continue
        try:
            lo = 0 if s.start is None else route.labels.index(s.start)
            hi = len(route.labels) - 1 if s.end is None else route.labels.index(s.end)
        except ValueError:
            warnings.warn(
                f"mountain pass {s.name}: label {s.start!r} or {s.end!r} not found on route "
                f"{route.root}; the section is not marked",
                NetworkWarning,
                stacklevel=4,
            )
            continue
        lo, hi = min(lo, hi), max(lo, hi)
        seg[lo:hi] = True
    return seg


# --------------------------------------------------------------------------------------
# the reader
# --------------------------------------------------------------------------------------


def read_travel_mapping(
    archive: str | Path,
    *,
    area: Any = None,
    speeds: Any = None,
    sinuosity: Mapping[str, float] | None = None,
    crs: str = "EPSG:2154",
    systems: Iterable[str] | None = None,
    passes: Iterable[PassSection] = MOUNTAIN_PASSES,
) -> RoadNetwork:
    """Read a Travel Mapping archive into a :class:`RoadNetwork`.

    Parameters
    ----------
    archive
        The ``.tar.gz`` of TravelMapping/HighwayData (``fetch(SOURCE_NAME)``).
    area
        A shapely geometry in EPSG:4326 (a territory plus its buffer). Only routes whose
        bounding box meets it are parsed, and a segment is kept when it meets the area
        (an end inside, or crossing it). ``None``: every route.
    speeds
        A :class:`~accessibility.network.speeds.SpeedTable` (or any object with
        ``speed_for(road_class)``); default :func:`load_speed_table`. Uses the classes
        ``autoroute``, ``nationale``, ``departementale`` and ``mountain_pass``.
    sinuosity
        Road class -> length factor; default :func:`load_sinuosity`. A ``mountain_pass``
        entry, when present, applies to pass segments.
    crs
        Projected CRS of the result.
    systems
        Travel Mapping systems to read (``{"fraa", "fran", "fraarad73"}``). Default:
        every system in the archive except :data:`OVERLAY_SYSTEMS`.
    passes
        Named pass sections marked ``mountain`` (besides ``Col*`` labels).

    Returns
    -------
    RoadNetwork
        The largest connected component; both directions of each segment. Edge columns
        besides the contract: ``ref`` (``"D902"``), ``system``, ``route_root``,
        ``straight_m`` (geodesic length of the straight segment) and ``mountain``.
        Concurrent routes (one stretch carrying two numbers) give one segment, of the
        highest class. ``meta`` says what was read and cut off.

    Raises
    ------
    CorruptFileError
        The archive cannot be read (naming the file).
    NetworkError
        No segment is left (the area misses every route), or a class has no speed.
    """
    from accessibility.network.build import largest_component
    from accessibility.network.speeds import load_speed_table

    archive = Path(archive)
    speeds = speeds if speeds is not None else load_speed_table()
    factors = dict(sinuosity) if sinuosity is not None else load_sinuosity()
    bounds = tuple(area.bounds) if area is not None else None
    routes, table, n_seen = _read_archive(archive, systems, bounds)
    seg, n_parsed = _segments(routes, tuple(passes), area, archive)
    seg, class_of_system = _route_attributes(seg, routes, table)
    seg, uniq, n_concurrent = _merge_concurrent(seg)
    timing = _lengths_and_speeds(seg, factors, speeds)
    nodes, edges = _tables(seg, uniq, timing, crs)
    meta = {
        "source": str(archive.name),
        "reader": "accessibility.network.travelmapping.read_travel_mapping",
        "crs": crs,
        "area_bounds_lonlat": bounds,
        "systems": sorted(class_of_system),
        "routes_in_systems": n_seen,
        "routes_parsed": len(routes),
        "segments_parsed": n_parsed,
        "concurrent_segments_merged": n_concurrent,
        "sinuosity": factors,
        "speeds_kph": timing["speed_of"],
    }
    log.info("Travel Mapping: %d routes parsed of %d, %d nodes, %d segments", len(routes),
             n_seen, len(nodes), len(seg))  # fmt: skip
    return largest_component(RoadNetwork(nodes=nodes, edges=edges, meta=meta))


def _segments(
    routes: list[_Route], passes: tuple[PassSection, ...], area: Any, archive: Path
) -> tuple[pd.DataFrame, int]:
    """Every segment of the parsed routes as flat arrays (``lat0, lon0, lat1, lon1,
    mountain, route``), without zero-length ones and, given an ``area``, only those
    meeting it. Also returns the number of segments parsed."""
    if not routes:
        raise NetworkError(
            f"{archive}: no Travel Mapping route "
            + ("meets the area" if area is not None else "in the chosen systems")
        )
    lat0, lon0, lat1, lon1, mountain, route_idx = [], [], [], [], [], []
    for k, r in enumerate(routes):
        lat0.append(r.lat[:-1])
        lon0.append(r.lon[:-1])
        lat1.append(r.lat[1:])
        lon1.append(r.lon[1:])
        mountain.append(_pass_label_mask(r.labels) | _pass_section_mask(r, passes))
        route_idx.append(np.full(len(r.lat) - 1, k))
    seg = pd.DataFrame(
        {
            "lat0": np.concatenate(lat0),
            "lon0": np.concatenate(lon0),
            "lat1": np.concatenate(lat1),
            "lon1": np.concatenate(lon1),
            "mountain": np.concatenate(mountain),
            "route": np.concatenate(route_idx),
        }
    )
    n_parsed = len(seg)
    seg = seg[(seg["lat0"] != seg["lat1"]) | (seg["lon0"] != seg["lon1"])]
    if area is not None:
        lines = shapely.linestrings(
            np.stack(
                [seg[["lon0", "lat0"]].to_numpy(), seg[["lon1", "lat1"]].to_numpy()], axis=1
            )
        )
        shapely.prepare(area)
        seg = seg[shapely.intersects(area, lines)]
        if seg.empty:
            raise NetworkError(f"{archive}: no Travel Mapping segment meets the area")
    return seg, n_parsed


def _route_attributes(
    seg: pd.DataFrame, routes: list[_Route], table: dict[str, dict[str, str]]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Each segment's ``system``, ``route_root``, ``ref`` and ``road_class``."""
    class_of_system = {s: system_road_class(s) for s in {r.system for r in routes}}
    r_system = np.array([r.system for r in routes], dtype=object)
    r_root = np.array([r.root for r in routes], dtype=object)
    # the route number ("D902"); the banner of French D-roads is the département
    # ("-73"), kept out of ``ref`` as OSM does
    r_ref = np.array([table.get(r.root, {}).get("route") or r.root for r in routes], dtype=object)
    ri = seg["route"].to_numpy()
    seg = seg.assign(
        system=r_system[ri],
        route_root=r_root[ri],
        ref=r_ref[ri],
        road_class=pd.Series(r_system[ri], index=seg.index).map(class_of_system),
    )
    return seg, class_of_system


def _merge_concurrent(seg: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Nodes are the distinct coordinates (``uniq``, lon + i·lat); a stretch carried by
    several routes becomes one segment, of the highest class. Returns the segments with
    node numbers ``u``, ``v``, the node coordinates and how many segments were merged."""
    end_lat = np.concatenate([seg["lat0"].to_numpy(), seg["lat1"].to_numpy()])
    end_lon = np.concatenate([seg["lon0"].to_numpy(), seg["lon1"].to_numpy()])
    key = end_lon + 1j * end_lat  # exact: identical text gives identical floats
    uniq, inverse = np.unique(key, return_inverse=True)
    m = len(seg)
    u, v = inverse[:m], inverse[m:]
    seg = seg.assign(u=u, v=v, a=np.minimum(u, v), b=np.maximum(u, v))
    seg["rank"] = seg["road_class"].map(CLASS_RANK)
    seg = seg.sort_values(["a", "b", "rank", "mountain"], ascending=[True, True, True, False])
    n_before = len(seg)
    seg = seg.drop_duplicates(["a", "b"], keep="first")
    return seg, uniq, n_before - len(seg)


def _lengths_and_speeds(
    seg: pd.DataFrame, factors: Mapping[str, float], speeds: Any
) -> dict[str, Any]:
    """Geodesic straight length times the sinuosity factor of the class (or of mountain
    passes), and the speed of the class (``mountain_pass`` on pass segments)."""
    _, _, straight = _GEOD.inv(
        seg["lon0"].to_numpy(),
        seg["lat0"].to_numpy(),
        seg["lon1"].to_numpy(),
        seg["lat1"].to_numpy(),
    )
    cls = seg["road_class"].to_numpy()
    mnt = seg["mountain"].to_numpy()
    factor_key = np.where(mnt & ("mountain_pass" in factors), "mountain_pass", cls)
    missing = sorted(set(factor_key) - set(factors))
    if missing:
        raise NetworkError(
            f"sinuosity factors: no factor for road class(es) {', '.join(missing)}; "
            f"known: {', '.join(sorted(factors))}"
        )
    factor = pd.Series(factor_key).map(factors).to_numpy(dtype=float)
    speed_key = np.where(mnt, "mountain_pass", cls)
    speed_of = {k: float(speeds.speed_for(k)) for k in set(speed_key)}
    speed = pd.Series(speed_key).map(speed_of).to_numpy(dtype=float)
    return {"straight": straight, "class": cls, "mountain": mnt, "length": straight * factor,
            "speed": speed, "speed_of": speed_of}  # fmt: skip


def _tables(
    seg: pd.DataFrame, uniq: np.ndarray, t: Mapping[str, Any], crs: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The contract's nodes (used coordinates, projected) and edges (both directions)."""
    used, remap = np.unique(np.concatenate([seg["u"].to_numpy(), seg["v"].to_numpy()]),
                            return_inverse=True)  # fmt: skip
    k = len(seg)
    nu, nv = remap[:k], remap[k:]
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_crs.transform(uniq[used].real, uniq[used].imag)
    nodes = gpd.GeoDataFrame(
        {"x": x, "y": y, "lon": uniq[used].real, "lat": uniq[used].imag},
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
    )
    nodes.index.name = C.NODE_ID
    half = pd.DataFrame(
        {
            C.U: nu,
            C.V: nv,
            C.LENGTH_M: t["length"],
            C.SPEED_KPH: t["speed"],
            C.TRAVEL_TIME_S: t["length"] / (t["speed"] / 3.6),
            C.ROAD_CLASS: t["class"],
            "ref": seg["ref"].to_numpy(),
            "system": seg["system"].to_numpy(),
            "route_root": seg["route_root"].to_numpy(),
            "straight_m": t["straight"],
            "mountain": t["mountain"],
        }
    )
    back = half.assign(**{C.U: half[C.V], C.V: half[C.U]})
    edges = pd.concat([half, back], ignore_index=True)
    xy = np.column_stack([x, y])
    geometry = shapely.linestrings(
        np.stack([xy[edges[C.U].to_numpy()], xy[edges[C.V].to_numpy()]], axis=1)
    )
    return nodes, gpd.GeoDataFrame(edges, geometry=geometry, crs=crs)

