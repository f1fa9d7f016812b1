"""The services inventory: every service of each category in and around a territory.

Owns: placing the candidate services of the readers, assigning their current (COG 2026)
commune and keeping those within the buffer (:func:`assemble_services`), and
:func:`build_services`, which fetches the sources and runs both. May import
:mod:`accessibility.core` and the inputs modules below it. Categories (a data file) are
read by :mod:`accessibility.inputs.categories`, the upstream files by
:mod:`accessibility.inputs.service_readers`; their names are re-exported here.

Sources (through :func:`accessibility.inputs.sources.fetch`):

* ``services/liste-fs-20240801.csv``: France Services, August 2024 (ANCT).
* ``services/france_services_2020-10.geojson``: France Services, October 2020 (history).
* ``services/gisco_healthcare_FR.csv``: health establishments (GISCO, from FINESS 2020).
* ``services/laposte_poincont2_2016.csv``: La Poste contact points, 2016.
* ``services/bpe2013.xlsx``: INSEE BPE 2013 counts per commune (COG 2013), placed at
  the commune's town hall as INSEE's commune-level access-time method does.
* ``services/bpe18_enseignement.csv``: INSEE BPE 2018 education counts per IRIS.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import require_columns, require_crs, require_unique, warn
from accessibility.inputs.categories import (
    BPE_2013,
    BPE_2018_EDU,
    CATEGORIES_FILE,
    FS_2020,
    FS_2024,
    GAMMES,
    GISCO,
    LAPOSTE,
    BpeEquipment,
    Category,
    load_categories,
    resolve_categories,
)
from accessibility.inputs.service_readers import (
    EXPECTED_DEP,
    FRANCE_BOXES,
    READERS,
    _read_bpe2013_table,
    read_bpe2013,
    read_bpe2018_education,
    read_france_services_2020,
    read_france_services_2024,
    read_gisco,
    read_laposte,
)
from accessibility.inputs.sources import fetch, load_catalogue

log = logging.getLogger(__name__)

__all__ = [
    "BPE_2013",
    "BPE_2018_EDU",
    "CATEGORIES_FILE",
    "EXPECTED_DEP",
    "FRANCE_BOXES",
    "FS_2020",
    "FS_2024",
    "GAMMES",
    "GISCO",
    "LAPOSTE",
    "READERS",
    "SERVICE_COLUMNS",
    "BpeEquipment",
    "Category",
    "_read_bpe2013_table",
    "assemble_services",
    "build_services",
    "load_categories",
    "read_bpe2013",
    "read_bpe2018_education",
    "read_france_services_2020",
    "read_france_services_2024",
    "read_gisco",
    "read_laposte",
    "summarise_services",
]

#: Output columns of :func:`build_services`, in order (geometry last).
SERVICE_COLUMNS = [
    C.SERVICE_ID,
    C.CATEGORY,
    C.LABEL,
    C.OPERATOR,
    C.SOURCE,
    C.VINTAGE,
    C.COMMUNE_CODE,
    C.COUNT,
    C.ADDRESS,
    C.HOURS,
    C.HOURS_NOTE,
    C.SITE_TYPE,
    C.SERVICE_FORMAT,
    C.LOCATION,
    C.COMMUNE_SOURCE,
    C.IN_TERRITORY,
]


# --- assembly ----------------------------------------------------------------------------


def assemble_services(
    candidates: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    *,
    buffer_m: float,
    code_map: Mapping[str, str],
    town_halls: gpd.GeoDataFrame,
    where: str = "services",
) -> gpd.GeoDataFrame:
    """Place candidate services, give them a current commune, keep those near the territory.

    Parameters
    ----------
    candidates
        Rows from the readers (output columns but ``in_territory``, with ``lon``/``lat``).
    communes
        The territory's communes: ``commune_code`` (COG 2026) and polygons, metric CRS.
    buffer_m
        Services this far (metres) outside the territory are kept, ``in_territory=False``.
    code_map
        Any INSEE code since 2013 -> current code
        (:func:`accessibility.inputs.communes.current_code_map`).
    town_halls
        ``commune_code`` (current) and town-hall points (any CRS), for the commune-level
        counts and the services whose source has no usable coordinates.

    Returns
    -------
    GeoDataFrame
        :data:`SERVICE_COLUMNS` and point geometry in the communes' CRS, sorted by
        category and service_id. Commune-level counts of merged communes are summed.
    """
    require_columns(communes, [C.COMMUNE_CODE, "geometry"], where="communes")
    require_crs(communes, where="communes")
    if communes.crs.is_geographic:
        raise DataError(f"communes: a metric CRS is expected (e.g. EPSG:2154), got {communes.crs}")
    if buffer_m < 0:
        raise DataError(f"buffer_m must be >= 0, got {buffer_m}")
    require_columns(town_halls, [C.COMMUNE_CODE, "geometry"], where="town halls")
    crs = communes.crs
    ctx = _Context(
        codes=set(communes[C.COMMUNE_CODE]),
        territory=shapely.union_all(communes.geometry.values),
        buffer_m=buffer_m,
        halls=town_halls[[C.COMMUNE_CODE, "geometry"]].to_crs(crs).drop_duplicates(C.COMMUNE_CODE),
        where=where,
    )
    candidates = candidates.copy()
    if C.HOURS_NOTE not in candidates.columns:  # readers written before the column
        candidates[C.HOURS_NOTE] = ""
    df = _current_codes(candidates, code_map, ctx)
    out = _place(df, communes, ctx)
    # keep what is in the territory (by commune) or within the buffer (by location)
    in_zone = shapely.within(out.geometry.values, ctx.zone) | shapely.intersects(
        out.geometry.values, ctx.zone
    )
    out = out[out[C.COMMUNE_CODE].isin(ctx.codes).to_numpy() | in_zone].copy()
    out = _assign_missing_codes(out, communes, ctx)
    out[C.IN_TERRITORY] = out[C.COMMUNE_CODE].isin(ctx.codes)
    # a service placed in the territory by its commune code but located far outside it
    far = out[C.IN_TERRITORY].to_numpy() & ~shapely.intersects(
        out.geometry.values, ctx.territory.buffer(2000.0)
    )
    if far.any():
        warn(
            f"{where}: {int(far.sum())} service(s) have a territory commune code but lie more "
            f"than 2 km outside the territory: {', '.join(out.loc[far, C.SERVICE_ID].head(10))}"
        )
    require_unique(out, C.SERVICE_ID, where=where)
    out[C.COUNT] = out[C.COUNT].astype(int)
    out = out.sort_values([C.CATEGORY, C.SERVICE_ID]).reset_index(drop=True)
    return gpd.GeoDataFrame(out[[*SERVICE_COLUMNS, "geometry"]], geometry="geometry", crs=crs)


@dataclass
class _Context:
    """What every step of :func:`assemble_services` needs to know about the territory."""

    codes: set[str]
    territory: Any
    buffer_m: float
    halls: gpd.GeoDataFrame
    where: str

    @property
    def zone(self) -> Any:
        return self.territory.buffer(self.buffer_m) if self.buffer_m > 0 else self.territory

    @property
    def hall_at(self) -> gpd.GeoSeries:
        return self.halls.set_index(C.COMMUNE_CODE).geometry

    @property
    def deps(self) -> set[str]:
        return {str(c)[:2] for c in self.codes}


def _current_codes(df: pd.DataFrame, code_map: Mapping[str, str], ctx: _Context) -> pd.DataFrame:
    """Step 1: current commune codes for the codes the sources give; counts of unknown
    communes are left out."""
    given = df[C.COMMUNE_CODE].notna() & (df[C.COMMUNE_CODE].astype(str) != "")
    mapped = df.loc[given, C.COMMUNE_CODE].astype(str).map(code_map)
    unknown = mapped.isna()
    # rows far from the territory are not the user's concern: their data-quality notes
    # go to the log; those of the territory's départements are warnings
    if unknown.any():
        bad = df.loc[mapped.index[unknown]]
        near = bad[C.COMMUNE_CODE].astype(str).str[:2].isin(ctx.deps)
        if not near.any():
            log.info(
                "%s: %d row(s) far from the territory have unknown INSEE codes: %s",
                ctx.where,
                len(bad),
                ", ".join(bad[C.COMMUNE_CODE].astype(str).head(10)),
            )
        bad = bad[near]
    if unknown.any() and len(bad):
        sample = ", ".join(
            f"{i} ({c})"
            for i, c in zip(bad[C.SERVICE_ID].head(10), bad[C.COMMUNE_CODE].head(10), strict=True)
        )
        warn(
            f"{ctx.where}: {int(unknown.sum())} row(s) have INSEE commune codes unknown since "
            f"2013: {sample}; commune-level counts among them are left out, points get the "
            "commune of their location"
        )
    df[C.COMMUNE_CODE] = df[C.COMMUNE_CODE].astype("object")
    df.loc[given, C.COMMUNE_CODE] = mapped
    df.loc[~given, C.COMMUNE_CODE] = None
    at_hall = df[C.LOCATION] == "town_hall"
    return df[~(at_hall & df[C.COMMUNE_CODE].isna())]


def _place(df: pd.DataFrame, communes: gpd.GeoDataFrame, ctx: _Context) -> gpd.GeoDataFrame:
    """Step 2: points where the source places them (else at their town hall); commune-level
    counts summed over merged communes, at the town hall."""
    crs = communes.crs
    hall_at = ctx.hall_at
    counts = df[df[C.LOCATION] == "town_hall"]
    if len(counts):
        keys = [C.CATEGORY, C.COMMUNE_CODE]
        firsts = counts.groupby(keys, as_index=False).first()
        sums = counts.groupby(keys, as_index=False)[C.COUNT].sum()
        counts = firsts.drop(columns=C.COUNT).merge(sums, on=keys)
        prefix = counts[C.SERVICE_ID].str.rsplit(":", n=1).str[0]
        counts[C.SERVICE_ID] = prefix + ":" + counts[C.COMMUNE_CODE]
    points = df[df[C.LOCATION] == "source"].copy()
    no_xy = points["lon"].isna() | points["lat"].isna()
    fallback = no_xy & points[C.COMMUNE_CODE].isin(hall_at.index)
    points.loc[fallback, C.LOCATION] = "town_hall"
    points = points[~no_xy | fallback]
    geoms = gpd.GeoSeries(
        gpd.points_from_xy(points["lon"], points["lat"]), index=points.index, crs="EPSG:4326"
    ).to_crs(crs)
    geoms[fallback[~no_xy | fallback]] = points.loc[fallback, C.COMMUNE_CODE].map(hall_at)
    counts, counts_geom = _place_counts(counts, communes, ctx)
    frames = [
        gpd.GeoDataFrame(points.drop(columns=["lon", "lat"]), geometry=geoms, crs=crs),
        gpd.GeoDataFrame(counts.drop(columns=["lon", "lat"]), geometry=counts_geom, crs=crs),
    ]
    out = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else frames[0].iloc[0:0]
    )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def _place_counts(
    counts: pd.DataFrame, communes: gpd.GeoDataFrame, ctx: _Context
) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Commune-level counts at their town hall; a territory commune without one gets a
    point inside its polygon; the others are left out (with a warning near the territory)."""
    counts_geom = gpd.GeoSeries(
        counts[C.COMMUNE_CODE].map(ctx.hall_at).values, index=counts.index, crs=communes.crs
    )
    no_hall = counts_geom.isna()
    if not no_hall.any():
        return counts, counts_geom
    inner = communes.set_index(C.COMMUNE_CODE).geometry.representative_point()
    counts_geom[no_hall] = counts.loc[no_hall, C.COMMUNE_CODE].map(inner)
    still = counts_geom.isna()
    if not still.any():
        return counts, counts_geom
    missing = ", ".join(sorted(set(counts.loc[still, C.COMMUNE_CODE]))[:10])
    if not counts.loc[still, C.COMMUNE_CODE].str[:2].isin(ctx.deps).any():
        log.info("%s: no town hall for commune(s) %s (far from the territory)", ctx.where, missing)
    else:
        warn(
            f"{ctx.where}: no town hall for commune(s) {missing}; their commune-level counts "
            "are left out"
        )
    return counts[~still], counts_geom[~still]


def _assign_missing_codes(
    out: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, ctx: _Context
) -> gpd.GeoDataFrame:
    """Step 4: services without a code get the territory commune that contains them, else
    the nearest town hall's (an approximation near commune borders)."""
    missing = out[C.COMMUNE_CODE].isna()
    if not missing.any():
        return out
    sub = out[missing]
    joined = gpd.sjoin(
        sub[["geometry"]],
        communes[[C.COMMUNE_CODE, "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated()]
    inside = joined[C.COMMUNE_CODE].notna()
    out.loc[joined.index[inside], C.COMMUNE_CODE] = joined.loc[inside, C.COMMUNE_CODE]
    out.loc[joined.index[inside], C.COMMUNE_SOURCE] = "polygon"
    rest = joined.index[~inside]
    if len(rest):
        # town halls near the zone only (overseas ones have no Lambert-93 position)
        near = ctx.halls[ctx.halls.intersects(ctx.zone.buffer(50_000.0))]
        tree = cKDTree(np.column_stack([near.geometry.x, near.geometry.y]))
        pts = out.loc[rest].geometry
        _, nearest = tree.query(np.column_stack([pts.x, pts.y]))
        out.loc[rest, C.COMMUNE_CODE] = near[C.COMMUNE_CODE].to_numpy()[nearest]
        out.loc[rest, C.COMMUNE_SOURCE] = "nearest_town_hall"
    return _drop_far_from_postcode(out, ctx.halls, ctx.where)


def _departement(code: str) -> str:
    """Département of a commune code or postcode; Corsica is "20" (its postcodes are 20xxx)."""
    code = str(code)
    if code.startswith("97"):
        return code[:3]
    return "20" if code[:2] in ("2A", "2B") else code[:2]


def _drop_far_from_postcode(
    out: gpd.GeoDataFrame, halls: gpd.GeoDataFrame, where: str
) -> gpd.GeoDataFrame:
    """Leave out services more than 20 km from every town hall of their postcode's département.

    Sources without an INSEE code (GISCO) give a postcode: a point far from its postcode's
    département is a geocoding error (e.g. a Tende (06) hospital placed near Chambéry).
    """
    if EXPECTED_DEP not in out.columns:
        return out
    check = (out[C.COMMUNE_SOURCE] != "source") & out[EXPECTED_DEP].fillna("").astype(
        str
    ).str.len().gt(0)
    if not check.any():
        return out
    finite = np.isfinite(halls.geometry.x) & np.isfinite(halls.geometry.y)
    halls = halls[finite]
    hall_dep = halls[C.COMMUNE_CODE].map(_departement)
    bad_idx = []
    for dep, rows in out[check].groupby(out.loc[check, EXPECTED_DEP].map(_departement)):
        mine = halls[hall_dep == dep]
        if mine.empty:
            bad_idx.extend(rows.index)
            continue
        tree = cKDTree(np.column_stack([mine.geometry.x, mine.geometry.y]))
        dist, _ = tree.query(np.column_stack([rows.geometry.x, rows.geometry.y]))
        bad_idx.extend(rows.index[dist > 20_000.0])
    if bad_idx:
        warn(
            f"{where}: {len(bad_idx)} service(s) lie more than 20 km from the département of "
            f"their postcode (geocoding errors?) and are left out: "
            f"{', '.join(out.loc[bad_idx, C.SERVICE_ID].head(10))}"
        )
        out = out.drop(index=bad_idx)
    return out


def build_services(
    communes: gpd.GeoDataFrame,
    *,
    buffer_m: float,
    paths: Paths | None = None,
    categories: Mapping[str, Category] | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """The services of every category in the territory and within ``buffer_m`` of it.

    Parameters
    ----------
    communes
        The territory's communes (metric CRS, ``commune_code`` COG 2026, polygons).
    buffer_m
        Services up to this distance outside the territory are kept (``in_territory``
        False): the nearest one of a border commune may lie outside.
    paths
        Folders to use (:func:`~accessibility.core.paths.default_paths` by default).
    categories
        Categories (as :func:`load_categories` returns), or keys of the shipped
        categories; all shipped categories by default.

    Returns
    -------
    GeoDataFrame
        Columns :data:`SERVICE_COLUMNS` (``service_id`` = ``category/source:upstream id``)
        and point geometry in the communes' CRS. See ``docs/services.md``.
    """
    from accessibility.inputs.communes import current_code_map, load_town_halls

    paths = paths or default_paths()
    cats = resolve_categories(categories, paths)
    catalogue = load_catalogue(paths)
    frames = []
    for cat in cats.values():
        for source in cat.sources:
            vintage = catalogue[source].vintage if source in catalogue else ""
            log.debug("reading %s for %s", source, cat.key)
            frames.append(
                READERS[source](fetch(source, paths), cat, source=source, vintage=vintage)
            )
    candidates = pd.concat(frames, ignore_index=True)
    return assemble_services(
        candidates,
        communes,
        buffer_m=buffer_m,
        code_map=current_code_map(paths),
        town_halls=load_town_halls(paths),
    )


def summarise_services(services: pd.DataFrame) -> pd.DataFrame:
    """One row per category: rows and summed counts, in the territory and in the buffer.

    Columns: ``category``, ``label``, ``rows``, ``count``, ``count_in_territory``,
    ``count_in_buffer``, ``rows_in_territory``, ``source``, ``vintage``.
    """
    require_columns(
        services,
        [C.CATEGORY, C.LABEL, C.COUNT, C.IN_TERRITORY, C.SOURCE, C.VINTAGE],
        where="services",
    )
    df = pd.DataFrame(services.drop(columns="geometry", errors="ignore"))
    inside = df[C.IN_TERRITORY].astype(bool)
    df["_in"] = df[C.COUNT].where(inside, 0)
    df["_out"] = df[C.COUNT].where(~inside, 0)
    df["_rows_in"] = inside.astype(int)
    summary = df.groupby(C.CATEGORY, sort=True).agg(
        label=(C.LABEL, "first"),
        rows=(C.COUNT, "size"),
        count=(C.COUNT, "sum"),
        count_in_territory=("_in", "sum"),
        count_in_buffer=("_out", "sum"),
        rows_in_territory=("_rows_in", "sum"),
        source=(C.SOURCE, lambda s: ", ".join(sorted(set(s)))),
        vintage=(C.VINTAGE, lambda s: ", ".join(sorted(set(s)))),
    )
    return summary.reset_index()

