"""Prepared territory layers: communes, population cells and services, and their files.

:func:`prepare_layers` turns the raw sources into clean, checked layers (in memory);
:func:`write_layers` stores them as one GeoPackage, atomically (a temporary file renamed
into place, so an interrupted run never leaves a half-written file).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.files import atomic_write
from accessibility.core.paths import Paths, default_paths
from accessibility.inputs.communes import (
    POLYGON_VINTAGE,
    POPULATION_VINTAGE,
    build_communes,
    read_polygons,
)
from accessibility.inputs.population import (
    CENSUS_VINTAGE,
    FILOSOFI_VINTAGE,
    GRID_VINTAGE_FR,
    census_cells,
    filosofi_cells,
)
from accessibility.inputs.sources import fetch
from accessibility.inputs.territory import Territory, load_territory, resolve_communes

log = logging.getLogger(__name__)

GRIDS = ("census1km", "filosofi200m")


@dataclass(frozen=True, eq=False)
class Layers:
    """The prepared layers of one territory (all in the territory's CRS)."""

    territory: Territory
    communes: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Vintages and sources of each layer, and checks (grid vs commune totals)."""


def prepare_layers(
    territory: Territory | str = "maurienne",
    *,
    paths: Paths | None = None,
    grid: str = "census1km",
    with_services: bool = True,
) -> Layers:
    """Build the communes, population cells and services of a territory.

    Parameters
    ----------
    territory
        A :class:`Territory` or the name of a shipped one (or the path of a TOML file).
    grid
        ``"census1km"`` (Census 2021 1 km grid, the default) or ``"filosofi200m"``
        (Filosofi 2021 200 m grid scaled to commune populations: finer in mountain
        valleys and hamlets).
    """
    paths = paths or default_paths()
    terr = territory if isinstance(territory, Territory) else load_territory(territory, paths)
    if grid not in GRIDS:
        raise DataError(f"unknown population grid {grid!r}; expected one of {', '.join(GRIDS)}")
    codes = resolve_communes(terr, paths)
    polygon_sources = terr.source("commune_polygons")
    polygons = pd.concat(
        [read_polygons(fetch(name, paths)) for name in polygon_sources], ignore_index=True
    )
    communes = build_communes(
        codes,
        gpd.GeoDataFrame(polygons, crs=polygons.crs),
        paths=paths,
        crs=terr.crs,
        where=f"commune polygons of {terr.file.name} ({', '.join(polygon_sources)})",
    )
    log.info(
        "%s: %d communes, population %d", terr.name, len(communes), communes[C.POPULATION].sum()
    )
    census = census_cells(communes, paths=paths, folder=terr.source("census_grid"))
    if grid == "filosofi200m":
        cells = filosofi_cells(communes, census, paths=paths, folder=terr.source("filosofi_grid"))
        grid_vintage = FILOSOFI_VINTAGE
    else:
        cells = census
        grid_vintage = CENSUS_VINTAGE
    if with_services:
        from accessibility.inputs.services import build_services

        services = build_services(communes, buffer_m=terr.buffer_m, paths=paths)
    else:
        services = gpd.GeoDataFrame({C.SERVICE_ID: [], C.CATEGORY: []}, geometry=[], crs=terr.crs)
    grid_total = float(cells[C.POP_TOTAL].sum())
    commune_total = float(communes[C.POPULATION].sum())
    meta = {
        "territory": terr.slug,
        "territory_name": terr.name,
        "communes_vintage": f"COG 2026; polygons {POLYGON_VINTAGE}",
        "population_vintage": POPULATION_VINTAGE,
        "grid": grid,
        "grid_vintage": grid_vintage,
        "grid_vintage_fr": GRID_VINTAGE_FR[grid],
        "grid_population": grid_total,
        "commune_population": commune_total,
        "grid_vs_communes": grid_total / commune_total if commune_total else float("nan"),
        "buffer_km": terr.buffer_km,
    }
    return Layers(territory=terr, communes=communes, cells=cells, services=services, meta=meta)


def write_layers(layers: Layers, path: Path) -> Path:
    """Write the layers to one GeoPackage at ``path``, atomically."""

    def write(tmp: Path) -> None:
        layers.communes.to_file(tmp, layer="communes", driver="GPKG")
        layers.cells.to_file(tmp, layer="cells", driver="GPKG")
        if len(layers.services):
            layers.services.to_file(tmp, layer="services", driver="GPKG")
        meta = pd.DataFrame(
            {"key": list(layers.meta), "value": [str(v) for v in layers.meta.values()]}
        )
        pyogrio.write_dataframe(meta, tmp, layer="meta", driver="GPKG")

    return atomic_write(path, write)


def prepared_path(territory: Territory, paths: Paths, grid: str = "census1km") -> Path:
    """Where ``accessibility data prepare`` stores a territory's layers."""
    return paths.prepared / f"{territory.slug}-{grid}.gpkg"


def summarise(layers: Layers) -> str:
    """A plain-text summary (communes, population, cells, services per category)."""
    m = layers.meta
    c = layers.communes
    lines = [
        f"Territory: {layers.territory.name} ({layers.territory.slug})",
        f"  communes: {len(c)} in {c[C.EPCI_CODE].nunique()} EPCI ({m['communes_vintage']})",
        f"  population: {int(m['commune_population']):,} ({m['population_vintage']})",
        f"  cells: {len(layers.cells):,} ({m['grid_vintage']}); grid total "
        f"{m['grid_population']:,.0f} = {m['grid_vs_communes']:.1%} of the commune sum",
    ]
    for (code, name), n in c.groupby([C.EPCI_CODE, C.EPCI_NAME]).size().items():
        lines.append(f"    EPCI {code} {name}: {n} communes")
    if len(layers.services):
        from accessibility.inputs.services import summarise_services

        lines.append(f"  services (territory + {layers.territory.buffer_km:g} km buffer):")
        lines.append(summarise_services(layers.services).to_string(index=False))
    return "\n".join(lines)
