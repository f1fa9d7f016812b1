"""A study: a territory's prepared layers with its road network, ready for analyses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .config import Paths, default_paths
from .layers import Layers, prepare_layers
from .network.graph import RoadNetwork
from .network.load import territory_network

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Study:
    """Everything an analysis of one territory needs, in memory."""

    layers: Layers
    network: RoadNetwork
    paths: Paths

    @property
    def output_dir(self) -> Path:
        return Path("output") / self.layers.territory.slug


def open_study(
    territory: str = "maurienne", *, paths: Paths | None = None, grid: str = "census1km"
) -> Study:
    """Prepare the layers and build (or load) the road network of ``territory``."""
    paths = paths or default_paths()
    layers = prepare_layers(territory, paths=paths, grid=grid)
    net = territory_network(layers.territory, layers.communes, paths=paths)
    log.info("road network: %d nodes, %d edges", net.n_nodes, net.n_edges)
    return Study(layers=layers, network=net, paths=paths)
