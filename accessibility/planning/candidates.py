"""Candidate sites: reading them from a file, checking them against the road network.

Owns: the service category of a planning question (:func:`category_of`), the candidate
sites (the town halls, :func:`town_hall_candidates`; a user's CSV, GeoJSON or
GeoPackage, :func:`read_candidates`), their check against the road network
(:func:`check_candidates`) and the existing services of a category as sites
(:func:`existing_sites`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import CRSError, DataError, MissingColumnError
from accessibility.core.validate import require_unique
from accessibility.engine.snapping import MAX_SNAP_M, snap_points, warn_far
from accessibility.inputs.communes import town_hall_points
from accessibility.inputs.services import Category, load_categories

if TYPE_CHECKING:
    from accessibility.engine.study import Study

#: A candidate farther than this from the road network is not a usable site (an error):
#: it lies outside the network's extent (wrong coordinates, or outside the territory).
OUTSIDE_NETWORK_M = 10_000.0


def category_of(category: str, categories: Mapping[str, Category] | None = None) -> Category:
    """The category ``category``; an error lists the known ones."""
    cats = dict(categories or load_categories())
    if category not in cats:
        raise DataError(f"unknown category {category!r}; known: {', '.join(sorted(cats))}")
    return cats[category]


def town_hall_candidates(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communes' town halls as candidate sites.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id`` (``"mairie:<code>"``), ``label`` (« Mairie de <name> »),
        ``commune_code``, ``commune_name``, point geometry in the communes' CRS.
    """
    pts = town_hall_points(communes)
    return gpd.GeoDataFrame(
        {
            C.SITE_ID: "mairie:" + pts[C.COMMUNE_CODE].astype(str),
            C.LABEL: "Mairie de " + pts[C.COMMUNE_NAME].astype(str),
            C.COMMUNE_CODE: pts[C.COMMUNE_CODE].to_numpy(),
            C.COMMUNE_NAME: pts[C.COMMUNE_NAME].to_numpy(),
        },
        geometry=pts.geometry.to_numpy(),
        crs=pts.crs,
    ).reset_index(drop=True)


def _lonlat_like(gdf: gpd.GeoDataFrame) -> bool:
    b = gdf.total_bounds
    return bool(len(gdf) == 0 or (b[0] >= -180 and b[2] <= 180 and b[1] >= -90 and b[3] <= 90))


def read_candidates(
    path: Path | str, *, id_column: str = "id", label_column: str = "label"
) -> gpd.GeoDataFrame:
    """Read candidate sites from a CSV (``id,label,lon,lat``), GeoJSON or GeoPackage.

    Every value is read as written: an id or label such as ``nan`` or ``NA`` is text,
    not a missing value; an empty id or label is an error.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``label``, point geometry (the file's CRS; WGS84 for a CSV).

    Raises
    ------
    DataError
        The file is missing, empty, unreadable (truncated, not CSV / GeoJSON /
        GeoPackage) or has no candidate; an id or label is empty; a CSV row has no valid
        lon/lat; a geometry is not a point. Every message names the file and the field.
    MissingColumnError
        A required column is missing (the message names the file and the column).
    CRSError
        A GeoJSON or GeoPackage without a CRS (a GeoJSON declaring none whose
        coordinates are not longitudes and latitudes).
    DuplicateIdError
        Two candidates share an id (the message names the file's id column).
    """
    path = Path(path)
    where = f"candidates file {path}"
    if not path.is_file():
        raise DataError(f"{where}: no such file")
    csv = path.suffix.lower() == ".csv"
    need = [id_column, label_column, *(["lon", "lat"] if csv else [])]
    df = _read_csv(path, where, id_column, label_column) if csv else _read_geo(path, where)
    for column in need:
        if column not in df.columns:
            raise MissingColumnError(
                f"{where}: missing column {column!r} (expected columns {', '.join(need)}; "
                f"found {', '.join(map(str, df.columns))})"
            )
    if len(df) == 0:
        raise DataError(f"{where}: no candidate site (the file has no rows)")
    for column in (id_column, label_column):
        empty = df[column].isna() | (df[column].astype(str).str.strip() == "")
        if empty.any():
            rows = ", ".join(str(int(r) + 1) for r in np.flatnonzero(empty)[:5])
            raise DataError(f"{where}: column {column!r} is empty in row(s) {rows}")
    require_unique(df, id_column, where=where)  # the user's column name in the message
    gdf = _points_from_lonlat(df, where, id_column) if csv else _check_geo(df, path, where)
    gdf = gdf.rename(columns={id_column: C.SITE_ID, label_column: C.LABEL})
    gdf[C.SITE_ID] = gdf[C.SITE_ID].astype(str)
    gdf[C.LABEL] = gdf[C.LABEL].astype(str)
    require_unique(gdf, C.SITE_ID, where=f"{where} (column {id_column!r} as text)")
    return gdf[[C.SITE_ID, C.LABEL, "geometry"]].reset_index(drop=True)


def _read_csv(path: Path, where: str, id_column: str, label_column: str) -> pd.DataFrame:
    """The CSV as text (ids and labels as written: ``nan`` is a name, not missing)."""
    try:
        return pd.read_csv(
            path,
            dtype={id_column: str, label_column: str},
            keep_default_na=False,
            na_values={"lon": [""], "lat": [""]},
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{where}: the file is empty (expected a header id,label,lon,lat)"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: not a readable UTF-8 CSV file: {exc}") from None


def _read_geo(path: Path, where: str) -> gpd.GeoDataFrame:
    """A GeoJSON or GeoPackage through pyogrio; an unreadable file is a DataError."""
    import pyogrio.errors

    try:
        return gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataError(
            f"{where}: cannot be read as GeoJSON or GeoPackage (truncated or another format?): "
            f"{exc}"
        ) from None


def _points_from_lonlat(df: pd.DataFrame, where: str, id_column: str) -> gpd.GeoDataFrame:
    lon = pd.to_numeric(df["lon"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    if bad.any():
        raise DataError(
            f"{where}: {int(bad.sum())} row(s) without a valid lon/lat (WGS84 degrees), "
            f"e.g. {id_column} {df.loc[bad, id_column].iloc[0]!r}"
        )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _check_geo(gdf: gpd.GeoDataFrame, path: Path, where: str) -> gpd.GeoDataFrame:
    declared = True
    if path.suffix.lower() in (".geojson", ".json"):
        declared = '"crs"' in path.read_text(encoding="utf-8", errors="replace")[:5000]
    types = gdf.geom_type.fillna("none (no geometry)")
    if not (types == "Point").all():
        raise DataError(
            f"{where}: column 'geometry': expected Point geometries, got "
            f"{', '.join(sorted(set(types)))}"
        )
    if gdf.crs is None or (not declared and not _lonlat_like(gdf)):
        raise CRSError(
            f"{where}: no coordinate reference system (coordinates span "
            f"{np.round(gdf.total_bounds, 1).tolist()}, not longitudes/latitudes); "
            "give the file a CRS or use WGS84"
        )
    return gdf


def check_candidates(
    study: Study, candidates: gpd.GeoDataFrame, *, where: str = "candidates"
) -> pd.DataFrame:
    """Snap the candidates to the road network and check their distance to it.

    Warns (:class:`SnapWarning`, naming them) for candidates farther than
    :data:`~accessibility.engine.snapping.MAX_SNAP_M` (1 km) from the network; raises
    :class:`DataError` for those farther than :data:`OUTSIDE_NETWORK_M` (outside it).
    Returns the snapping table of :func:`accessibility.engine.snapping.snap_points`.
    """
    # no warning from snap_points: an error for the points outside comes first
    snap = snap_points(
        study.network, candidates, id_column=C.SITE_ID, max_snap_m=np.inf, where=where
    )
    d = snap[C.SNAP_DISTANCE_M].to_numpy()
    out = d > OUTSIDE_NETWORK_M
    if out.any():
        listed = ", ".join(
            f"{i} ({m / 1000:,.1f} km)" for i, m in zip(snap[C.POINT_ID][out], d[out], strict=True)
        )
        raise DataError(
            f"{where}: {int(out.sum())} candidate(s) lie outside the road network of "
            f"{study.layers.territory.name} (more than {OUTSIDE_NETWORK_M / 1000:g} km from "
            f"the nearest road): {listed}; check their coordinates (lon,lat order, CRS)"
        )
    warn_far(snap[C.POINT_ID].to_numpy(), d, MAX_SNAP_M, where=where)
    return snap


def existing_sites(
    study: Study, category: str, *, window: str | None = None, hours: str | None = None
) -> gpd.GeoDataFrame:
    """The services of ``category`` (territory and buffer) as sites: ``site_id`` (the
    service id), ``label``, ``commune_code``, ``in_territory``, geometry.

    ``window``: a time window of ``data/indicators/windows.toml``; only the services open
    in it (as :func:`accessibility.indicators.windows.open_during` decides) are sites.
    ``hours``: the new sites' hours, checked first (:func:`check_window`)."""
    check_window(window, hours)
    svc = study.layers.services
    chosen = svc[svc[C.CATEGORY] == category]
    if window is not None:
        from accessibility.indicators.windows import open_during, resolve_window

        chosen = chosen[open_during(chosen, resolve_window(window))]
    cols = [C.SERVICE_ID, C.LABEL, C.COMMUNE_CODE, C.IN_TERRITORY, "geometry"]
    out = chosen[cols].rename(columns={C.SERVICE_ID: C.SITE_ID}).reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=svc.crs)


def check_window(window: str | None, hours: str | None) -> None:
    """Check a siting's time window and the new sites' hours before any heavy work: the
    window must be known and the hours readable and open in it
    (:func:`accessibility.indicators.windows.check_site_hours`). New sites without
    ``hours`` are taken as open in the window."""
    if window is None and hours is None:
        return
    from accessibility.indicators.windows import check_site_hours, resolve_window

    w = resolve_window(window) if window is not None else None
    if hours is not None:
        check_site_hours(hours, w)

