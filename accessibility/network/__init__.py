"""Road networks: one graph contract (:class:`RoadNetwork`), several readers."""

from __future__ import annotations

from .build import cached_network, largest_component
from .graph import RoadNetwork
from .lines import read_road_lines
from .osm import read_osm
from .speeds import SpeedTable, load_speed_table

__all__ = [
    "RoadNetwork",
    "SpeedTable",
    "cached_network",
    "largest_component",
    "load_speed_table",
    "read_osm",
    "read_road_lines",
]
