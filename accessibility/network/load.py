"""The road network of a territory: pick the reader its file names, build once, cache.

The territory's ``[sources.network]`` table says which reader to use::

    [sources.network]
    reader = "travelmapping"   # "osm" (.osm.pbf/.osm/.osm.gz), "lines" (LineStrings + class)
    source = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"   # catalogued, or a file path
    class_column = "roadClass" # "lines" only

A user with a regional OpenStreetMap extract sets ``reader = "osm"`` and ``source`` to
its name, the file lying beside the territory file, or passes ``--network PATH`` on the
command line (``load_territory(..., network=PATH)``): nothing else changes. A territory
file cannot name an absolute path or one with ``..`` (checked when it is read, see
``docs/parameters.md``): a file received from someone else opens no arbitrary file.
Only the territory plus its buffer (and a margin, so that a road leaving and re-entering
the area is kept) is read. The built network is cached under a hash of its input file,
the area, the speed and sinuosity tables and the network code
(:func:`accessibility.network.build.cache_key`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from accessibility.core.errors import NetworkError, TerritoryError
from accessibility.core.paths import Paths, default_paths
from accessibility.inputs.sources import fetch, load_catalogue
from accessibility.inputs.territory import Territory
from accessibility.network.build import cached_network, largest_component
from accessibility.network.graph import RoadNetwork

log = logging.getLogger(__name__)

READERS = ("travelmapping", "osm", "lines")
#: Extra distance read around territory + buffer, so that detours are kept.
NETWORK_MARGIN_M = 15_000.0


def _source_path(name: str, territory: Territory, paths: Paths) -> Path:
    if name in load_catalogue(paths):
        return fetch(name, paths)
    candidate = Path(name).expanduser()
    if not candidate.is_absolute():
        candidate = (territory.file.parent / candidate).resolve()
    if not candidate.is_file():
        raise TerritoryError(
            f"{territory.file}: [sources.network].source {name!r} is neither a catalogued "
            f"source nor an existing file ({candidate})"
        )
    return candidate


def network_area(communes: gpd.GeoDataFrame, buffer_m: float) -> Any:
    """The territory + buffer + margin, as one shapely geometry in EPSG:4326."""
    hull = shapely.union_all(communes.geometry.values).buffer(buffer_m + NETWORK_MARGIN_M)
    return gpd.GeoSeries([hull], crs=communes.crs).to_crs(4326).iloc[0]


def territory_network(
    territory: Territory,
    communes: gpd.GeoDataFrame,
    *,
    paths: Paths | None = None,
    use_cache: bool = True,
) -> RoadNetwork:
    """Build (or load from the cache) the road network of a territory.

    Parameters
    ----------
    territory
        The territory; its ``[sources.network]`` table names the reader and the file.
    communes
        The territory's communes (their outline, buffered, is the area read).
    """
    from accessibility.network.lines import read_road_lines
    from accessibility.network.osm import read_osm
    from accessibility.network.speeds import load_speed_table
    from accessibility.network.travelmapping import load_sinuosity, read_travel_mapping

    paths = paths or default_paths()
    spec = dict(territory.source("network"))
    reader = spec.pop("reader", None)
    if reader not in READERS:
        raise TerritoryError(
            f"{territory.file}: [sources.network].reader is {reader!r}; expected one of "
            f"{', '.join(READERS)}"
        )
    source = spec.pop("source", None)
    if not isinstance(source, str):
        raise TerritoryError(f"{territory.file}: [sources.network].source must be a string")
    catalogue = load_catalogue(paths)
    area = network_area(communes, territory.buffer_m)
    crs = territory.crs
    net_dir = paths.data / "network"
    key = {
        "reader": reader,
        # a catalogued file by its catalogued sha256 (checked when fetched), so a warm
        # run need not read it; a user's own file by its content
        "source": (
            {"catalogued": source, "sha256": catalogue[source].sha256}
            if source in catalogue
            else _source_path(source, territory, paths)
        ),
        "area": shapely.to_wkb(shapely.set_precision(area, 1e-4), hex=True),
        "crs": crs,
        "options": spec,
        "speeds": net_dir / "speeds.toml",
        "sinuosity": net_dir / "sinuosity.toml",
    }

    def build() -> RoadNetwork:
        file = _source_path(source, territory, paths)
        log.info("building the %s road network from %s", reader, file.name)
        # the parameter files named in the key, not the defaults of the readers
        speeds = load_speed_table(net_dir / "speeds.toml")
        if reader == "travelmapping":
            factors = load_sinuosity(net_dir / "sinuosity.toml")
            net = read_travel_mapping(file, area=area, crs=crs, speeds=speeds, sinuosity=factors)
        elif reader == "osm":
            net = read_osm(file, crs=crs, bbox=area.bounds, speeds=speeds)
        else:
            net = read_road_lines(file, crs=crs, speeds=speeds, **spec)
        net = largest_component(net)
        meta = dict(net.meta)
        meta.update({"reader": reader, "source": source, "territory": territory.slug})
        return RoadNetwork(net.nodes, net.edges, meta)

    if not use_cache:
        return build()
    net = cached_network(
        key, build, paths.cache / "networks", name=f"network-{territory.slug}", keep_others=False
    )
    if net.n_edges == 0:  # pragma: no cover - the contract forbids it
        raise NetworkError(f"{source}: empty network")
    return net
