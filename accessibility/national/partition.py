"""Partitions: one département and its buffer of services and roads, as a study.

An island's partitions (Corsica's two départements) take the whole island as buffer
(:data:`~accessibility.national.inputs.ISLAND_BUFFER_KM`): routes there are long and
winding, and a 30 km buffer changed the times of border communes.

Owns :func:`partition_study`, which cuts a département out of the national inputs
(:mod:`~accessibility.national.inputs`) as an ordinary
:class:`~accessibility.engine.study.Study`: its communes and their cells, the services
within the buffer **on the same island**, and its island's road network clipped to the
département + buffer + margin (as :func:`~accessibility.network.load.territory_network`
reads a territory's), reduced to its largest strongly connected part. Nothing is read
from the national files again except the small census tiles around the partition
(the access model's densities, as :func:`~accessibility.pipeline.open_study` reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.errors import TerritoryError
from accessibility.engine.access_model import snap_options_for
from accessibility.engine.study import Study
from accessibility.inputs.layers import Layers
from accessibility.inputs.population import census_points_in_area
from accessibility.inputs.territory import Territory
from accessibility.national.inputs import (
    CENSUS_FOLDER,
    CRS,
    TRAVEL_MAPPING,
    NationalInputs,
    island_of,
    partition_buffer_km,
)
from accessibility.network.build import largest_component
from accessibility.network.graph import RoadNetwork
from accessibility.network.load import NETWORK_MARGIN_M

#: A point this close to an island's land (its communes) is on that island.
ISLAND_REACH_M = 5_000.0


@dataclass(frozen=True)
class Partition:
    """One département of the national run."""

    departement: str
    name: str
    island: str
    n_cells: int

    @property
    def slug(self) -> str:
        return f"dep-{self.departement.lower()}"


def partitions(inputs: NationalInputs) -> list[Partition]:
    """The partitions of the run, largest first (so the longest tasks start first)."""
    names = inputs.departements.set_index("departement")["departement_name"]
    dep_of = inputs.communes.set_index(C.COMMUNE_CODE)["departement"]
    counts = inputs.cells[C.COMMUNE_CODE].map(dep_of).value_counts()
    parts = [
        Partition(d, str(names.get(d, d)), island_of(d), int(counts.get(d, 0)))
        for d in inputs.chosen
    ]
    return sorted(parts, key=lambda p: (-p.n_cells, p.departement))


def partition_territory(inputs: NationalInputs, departement: str, name: str = "",
                        buffer_km: float | None = None) -> Territory:
    """The territory of a partition (no file of its own: its communes come from the
    national inputs)."""
    slug = f"dep-{departement.lower()}"
    return Territory(
        slug=slug,
        name=name or f"Département {departement}",
        file=Path(f"<national partition {departement}>"),
        selectors={"departement": (departement,)},
        buffer_km=inputs.buffer_km if buffer_km is None else buffer_km,
        crs=CRS,
        sources=params.freeze({
            "census_grid": CENSUS_FOLDER,
            "network": {"reader": "travelmapping", "source": TRAVEL_MAPPING},
        }),
    )


def on_island(inputs: NationalInputs, island: str, points: gpd.GeoSeries) -> np.ndarray:
    """Which ``points`` lie on ``island`` (within :data:`ISLAND_REACH_M` of its land; the
    mainland is everything on no other island)."""
    near = {name: np.asarray(points.within(land.buffer(ISLAND_REACH_M)))
            for name, land in inputs.islands.items()}
    if island in near:
        return near[island]
    return ~np.logical_or.reduce([np.zeros(len(points), bool), *near.values()])


def clip_network(net: RoadNetwork, area: shapely.Geometry) -> RoadNetwork:
    """The edges of ``net`` with both ends in ``area`` (same CRS), nodes renumbered,
    reduced to the largest strongly connected part."""
    inside = np.asarray(shapely.contains_xy(area, net.nodes["x"].to_numpy(),
                                            net.nodes["y"].to_numpy()))
    e = net.edges
    keep = inside[e[C.U].to_numpy()] & inside[e[C.V].to_numpy()]
    if not keep.any():
        raise TerritoryError("partition: no road of the national network in its area")
    new_id = np.full(net.n_nodes, -1, dtype=np.int64)
    new_id[inside] = np.arange(int(inside.sum()))
    nodes = net.nodes.loc[inside].copy()
    nodes.index = pd.RangeIndex(len(nodes), name=net.nodes.index.name)
    edges = e.loc[keep].copy()
    edges[C.U] = new_id[edges[C.U].to_numpy()]
    edges[C.V] = new_id[edges[C.V].to_numpy()]
    meta = {k: v for k, v in net.meta.items() if k not in ("removed", "cache")}
    return largest_component(RoadNetwork(nodes, edges.reset_index(drop=True), meta))


def partition_study(inputs: NationalInputs, departement: str, name: str = "") -> Study:
    """The study of one département: its communes and cells, the services within the
    buffer on its island, its island's roads within buffer + margin."""
    island = island_of(departement)
    communes = inputs.communes[inputs.communes["departement"] == departement]
    if communes.empty:
        raise TerritoryError(f"partition {departement}: no commune in the national inputs")
    communes = communes.drop(columns="departement").reset_index(drop=True)
    cells = inputs.cells[inputs.cells[C.COMMUNE_CODE].isin(set(communes[C.COMMUNE_CODE]))]
    cells = cells.reset_index(drop=True)
    outline = communes.union_all()
    buffer_m = partition_buffer_km(departement, inputs.buffer_km) * 1000.0
    svc = inputs.services
    zone = outline.buffer(buffer_m)
    near = np.sort(svc.sindex.query(zone, predicate="intersects"))
    svc = svc.iloc[near]
    services = svc[on_island(inputs, island, svc.geometry)].reset_index(drop=True)
    # the island's own network (Corsica's is read on Corsica only), clipped
    area = outline.buffer(buffer_m + NETWORK_MARGIN_M)
    net = clip_network(inputs.networks[island], area)
    terr = partition_territory(inputs, departement, name, buffer_m / 1000.0)
    layers = Layers(
        territory=terr, communes=communes, cells=cells, services=services,
        meta={"territory": terr.slug, "territory_name": terr.name, "grid": "census1km",
              "buffer_km": inputs.buffer_km, "island": island},
    )
    study = Study(layers=layers, network=net, paths=inputs.paths, snap=snap_options_for(net))
    return _with_density(study)


def _with_density(study: Study) -> Study:
    """The access model's densities (the 1 km census cell of each point), read from the
    census tiles around the services' extent as :func:`accessibility.pipeline.open_study`
    does."""
    from dataclasses import replace

    from accessibility.engine.access import model_columns
    from accessibility.engine.access_model import DENSITY_COLUMN

    if DENSITY_COLUMN not in model_columns(study.snap.access_model):
        return study
    services = study.layers.services
    extent = services.total_bounds if len(services) else study.layers.cells.total_bounds
    area = gpd.GeoSeries([shapely.box(*extent).buffer(5000)], crs=services.crs)
    grid = census_points_in_area(area, paths=study.paths, folder=CENSUS_FOLDER)
    study = replace(study, density_grid=grid)
    layers = replace(study.layers, cells=study.access_points(study.layers.cells),
                     services=study.access_points(services))
    return replace(study, layers=layers)
