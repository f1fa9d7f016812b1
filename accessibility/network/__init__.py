"""Road networks: one graph contract (:class:`RoadNetwork`), several readers.

Owns: the graph contract (:mod:`.graph`), the readers of OpenStreetMap
(:mod:`.osm`), Travel Mapping (:mod:`.travelmapping`) and road lines (:mod:`.lines`),
speeds by road class (:mod:`.speeds`), graph building and its cache (:mod:`.build`),
and the choice of a territory's network (:mod:`.load`).

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs` (territory and
source catalogue).
"""

from __future__ import annotations

from accessibility.network.build import cached_network, largest_component
from accessibility.network.graph import RoadNetwork
from accessibility.network.lines import read_road_lines
from accessibility.network.osm import read_osm
from accessibility.network.speeds import SpeedTable, load_speed_table

__all__ = [
    "RoadNetwork",
    "SpeedTable",
    "cached_network",
    "largest_component",
    "load_speed_table",
    "read_osm",
    "read_road_lines",
]
