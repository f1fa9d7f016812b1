"""Read road LineStrings with a class column (GeoJSON, GeoPackage, .gz) into a RoadNetwork.

Such files (e.g. the OpenStreetMap-derived Grenoble, Corsica and Réunion road files)
carry no topology. It is rebuilt the way OpenStreetMap itself defines junctions: lines
meet where they share a vertex (same coordinates, to the millimetre). Lines are *not*
split where they merely cross, because crossings without a shared vertex are bridges
and tunnels. An end of a line that touches no other line but lies within
``snap_tolerance_m`` of one is snapped onto it (onto its nearest vertex, or onto a new
vertex inserted in that line): this mends small digitising gaps.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.errors import (
    CorruptFileError,
    CRSError,
    MissingColumnError,
    NetworkError,
    NetworkWarning,
)
from accessibility.network.build import directed_edges, polylines_to_graph
from accessibility.network.graph import RoadNetwork
from accessibility.network.speeds import SpeedTable, load_speed_table

log = logging.getLogger(__name__)

_YES = frozenset({"yes", "1", "true", "t"})
_REVERSE = frozenset({"-1", "reverse"})


def _open(path: Path) -> gpd.GeoDataFrame:
    name = str(path)
    source = f"/vsigzip/{name}" if name.endswith(".gz") else name
    try:
        return gpd.read_file(source)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        raise CorruptFileError(f"{path}: cannot be read as a road line file: {exc}") from exc


def _resolve_classes(
    values: pd.Series, class_map: Mapping[str, str] | None, speeds: SpeedTable, where: str
) -> pd.Series:
    """Map the class column onto the speed table's classes; error on unknown values."""
    found = set(values.dropna().astype(str).unique())
    if class_map is None:
        if found <= set(speeds.speeds):
            class_map = {v: v for v in found}
        else:
            covering = [m for m in speeds.class_maps.values() if found <= set(m)]
            class_map = covering[0] if covering else {}
    mapped = values.astype("string").map(dict(class_map))
    unknown = sorted(found - set(class_map))
    if unknown or mapped.isna().any():
        raise NetworkError(
            f"{where}: no speed class for value(s) {', '.join(unknown) or '<empty>'}; "
            f"pass class_map=... mapping them to one of: {', '.join(speeds.classes)}"
        )
    bad = sorted(set(mapped) - set(speeds.speeds))
    if bad:
        raise NetworkError(f"{where}: class_map maps to unknown class(es) {', '.join(bad)}")
    return mapped.astype(str)


def _direction(values: pd.Series | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if values is None:
        return np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    text = values.astype("string").str.strip().str.lower().fillna("")
    one = text.isin(_YES).to_numpy()
    rev = text.isin(_REVERSE).to_numpy()
    return ~rev, ~one


def _snap_ends(
    coords: np.ndarray, keys: np.ndarray, line: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Snap lone line ends within ``tol`` of another line onto it.

    Returns new ``coords``, ``keys``, ``line`` (vertices may be inserted) and the number
    of ends snapped.
    """
    n = len(keys)
    start = np.ones(n, dtype=bool)
    start[1:] = line[1:] != line[:-1]
    end = np.ones(n, dtype=bool)
    end[:-1] = start[1:]
    _, inv, occ = np.unique(keys, return_inverse=True, return_counts=True)
    lone = np.flatnonzero((start | end) & (occ[inv] == 1))
    if not len(lone):
        return coords, keys, line, 0
    bounds = np.concatenate((np.flatnonzero(start), [n]))
    geoms = shapely.linestrings(coords, indices=line)
    tree = shapely.STRtree(geoms)
    pts = shapely.points(coords[lone])
    ip, il = tree.query(pts, predicate="dwithin", distance=tol)
    other = line[lone[ip]] != il
    ip, il = ip[other], il[other]
    if not len(ip):
        return coords, keys, line, 0
    dist = shapely.distance(pts[ip], geoms[il])
    order = np.lexsort((dist, ip))
    ip, il, dist = ip[order], il[order], dist[order]
    nearest = np.concatenate(([True], ip[1:] != ip[:-1]))  # the nearest line of each end

    coords = coords.copy()
    keys = keys.copy()
    next_key = int(keys.max()) + 1
    inserts: dict[int, list[tuple[float, int, np.ndarray]]] = {}
    snapped = 0
    # Sequential on purpose: an end snapped onto another lone end must take that end's
    # *current* key, so that two facing ends meet (vectorising would swap their keys).
    for k, target in zip(ip[nearest], il[nearest], strict=True):
        vi = lone[k]
        a, b = bounds[target], bounds[target + 1]
        d = np.hypot(*(coords[a:b] - coords[vi]).T)
        j = int(np.argmin(d))
        if d[j] <= tol:
            keys[vi] = keys[a + j]
            coords[vi] = coords[a + j]
        else:
            g = geoms[target]
            at = shapely.line_locate_point(g, pts[k])
            p = shapely.get_coordinates(shapely.line_interpolate_point(g, at))[0]
            keys[vi] = next_key
            coords[vi] = p
            inserts.setdefault(int(target), []).append((float(at), next_key, p))
            next_key += 1
        snapped += 1
    if inserts:
        pieces_c, pieces_k, pieces_l = [], [], []
        for li in range(len(bounds) - 1):
            a, b = bounds[li], bounds[li + 1]
            c, kk = coords[a:b], keys[a:b]
            if li in inserts:
                seg = np.hypot(*np.diff(c, axis=0).T)
                along = np.concatenate(([0.0], np.cumsum(seg)))
                add = inserts[li]
                along = np.concatenate((along, [t for t, _, _ in add]))
                c = np.vstack((c, [p for _, _, p in add]))
                kk = np.concatenate((kk, [q for _, q, _ in add]))
                o = np.argsort(along, kind="stable")
                c, kk = c[o], kk[o]
            pieces_c.append(c)
            pieces_k.append(kk)
            pieces_l.append(np.full(len(kk), li))
        coords = np.vstack(pieces_c)
        keys = np.concatenate(pieces_k)
        line = np.concatenate(pieces_l)
    return coords, keys, line, snapped


def read_road_lines(
    path: str | Path,
    *,
    class_column: str = "roadClass",
    class_map: Mapping[str, str] | None = None,
    speeds: SpeedTable | None = None,
    crs: str = "EPSG:2154",
    snap_tolerance_m: float = 1.0,
) -> RoadNetwork:
    """Build a road network from a file of road LineStrings with a class column.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or any file GDAL reads; ``.gz`` is read through
        ``/vsigzip/``. The file must have a CRS.
    class_column
        Column with the road class of each line.
    class_map
        Map from the column's values to classes of the speed table. By default the
        values are used as they are when the table knows them all, else the table's
        first class map that covers them (``[class_maps.osm_derived]`` maps
        ``highway``/``major``/``minor``).
    speeds
        Speed table (default :func:`load_speed_table`).
    crs
        Metric CRS of the result.
    snap_tolerance_m
        Line ends touching no other line are snapped onto a line within this distance
        (0 disables snapping).

    Every line is two-way unless the file has a ``oneway`` column (``yes``/``1``/``true``
    = drawn direction only, ``-1`` = reverse only). Edges carry ``road_class`` (the speed
    class), ``source_class`` (the file's value), ``line_id`` (row of the file) and the
    ``name``/``structure`` columns when present.

    Raises
    ------
    MissingColumnError
        If ``class_column`` is not in the file.
    CRSError
        If the file has no CRS.
    NetworkError
        On a class with no speed, or no usable line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such road line file")
    speeds = speeds or load_speed_table()
    gdf, n_features, n_other = _read_lines(path, class_column)
    road_class = _resolve_classes(gdf[class_column], class_map, speeds, f"{path}: {class_column}")
    gdf = gdf.to_crs(crs)
    coords, keys, line, used, n_degenerate = _vertices(gdf, path)
    n_snapped = 0
    if snap_tolerance_m > 0:
        coords, keys, line, n_snapped = _snap_ends(coords, keys, line, snap_tolerance_m)
    seg = polylines_to_graph(coords, keys, line, crs=gdf.crs)
    nodes = seg.nodes.drop(columns="key")
    sub = gdf.iloc[used].reset_index(drop=True)
    lines = _line_table(sub, road_class.iloc[used].to_numpy(), class_column)
    speed = lines[C.ROAD_CLASS].map(speeds.speeds).to_numpy(dtype=float)
    edges = directed_edges(seg, lines, speed_fwd=speed, speed_bwd=speed)
    meta = {
        "source": str(path),
        "reader": "lines",
        "crs": str(crs),
        "speed_table": str(speeds.path),
        "class_column": class_column,
        "snap_tolerance_m": snap_tolerance_m,
        "lines": {
            "features": n_features,
            "non_line_ignored": n_other,
            "degenerate_ignored": n_degenerate,
            "ends_snapped": n_snapped,
        },
    }
    log.info("%s: %d lines -> %d nodes, %d directed edges", path, len(sub), len(nodes),
             len(edges))  # fmt: skip
    return RoadNetwork(nodes=nodes, edges=edges, meta=meta)


def _read_lines(path: Path, class_column: str) -> tuple[gpd.GeoDataFrame, int, int]:
    """The file's LineStrings (multi-lines exploded), each with its ``line_id`` (row of
    the file); the number of features and of non-line features ignored."""
    gdf = _open(path)
    if class_column not in gdf.columns:
        raise MissingColumnError(
            f"{path}: missing road class column {class_column!r} (pass class_column=...); "
            f"the columns found are: {', '.join(map(str, gdf.columns))}"
        )
    if gdf.crs is None:
        raise CRSError(f"{path}: the file has no coordinate reference system (CRS)")
    gdf = gdf.reset_index(drop=True)
    gdf["line_id"] = np.arange(len(gdf))
    gtype = gdf.geometry.geom_type
    is_line = gtype.isin(["LineString", "MultiLineString"]).to_numpy() & ~gdf.geometry.is_empty
    n_other = int((~is_line).sum())
    if n_other:
        kinds = gtype[~is_line].fillna("missing").value_counts().to_dict()
        warnings.warn(
            f"{path}: {n_other} feature(s) are not lines and are ignored ({kinds})",
            NetworkWarning,
            stacklevel=3,
        )
    lines = gdf.loc[is_line].explode(index_parts=False).reset_index(drop=True)
    if lines.empty:
        raise NetworkError(f"{path}: no LineString in the file")
    return lines, len(is_line), n_other


def _vertices(
    gdf: gpd.GeoDataFrame, path: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Vertices of the lines with their identity (coordinates to the millimetre).

    A vertex repeating the one before it is dropped, then lines left with one vertex.
    Returns coordinates, keys, line index (renumbered over the lines kept), the rows of
    ``gdf`` kept, and the number of degenerate lines dropped.
    """
    coords, line = shapely.get_coordinates(gdf.geometry.to_numpy(), return_index=True)
    _, keys = np.unique(np.round(coords, 3), axis=0, return_inverse=True)
    keys = keys.reshape(-1).astype(np.int64)
    dup = np.zeros(len(keys), dtype=bool)
    dup[1:] = (keys[1:] == keys[:-1]) & (line[1:] == line[:-1])
    coords, keys, line = coords[~dup], keys[~dup], line[~dup]
    per_line = np.bincount(line, minlength=len(gdf))
    short = per_line[line] < 2
    n_degenerate = int((per_line == 1).sum())
    coords, keys, line = coords[~short], keys[~short], line[~short]
    if not len(line):
        raise NetworkError(f"{path}: no line with two distinct points")
    used, line = np.unique(line, return_inverse=True)
    return coords, keys, line, used, n_degenerate


def _line_table(sub: gpd.GeoDataFrame, road_class: np.ndarray, class_column: str) -> pd.DataFrame:
    """One row per line kept: directions, speed class and the attributes copied to edges."""
    fwd, bwd = _direction(sub["oneway"] if "oneway" in sub.columns else None, len(sub))
    lines = pd.DataFrame({"forward": fwd, "backward": bwd, C.ROAD_CLASS: road_class})
    lines["source_class"] = sub[class_column].to_numpy()
    lines["line_id"] = sub["line_id"].to_numpy()
    for col in ("name", "structure", "oneway"):
        if col in sub.columns:
            lines[col] = sub[col].to_numpy()
    return lines
