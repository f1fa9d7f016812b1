"""The study: one territory's prepared layers and road network, in memory.

Owns: :class:`Study`, the object every indicator, planning step and output takes
(built by :func:`accessibility.pipeline.open_study`). A plain container: it computes
nothing and reads no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accessibility.core.paths import Paths
from accessibility.inputs.layers import Layers
from accessibility.network.graph import RoadNetwork


@dataclass(frozen=True, eq=False)
class Study:
    """Everything an analysis of one territory needs, in memory."""

    layers: Layers
    """The territory, its communes, population cells and services."""
    network: RoadNetwork
    """The territory's road network (territory plus buffer)."""
    paths: Paths
    """Where the data and the caches live."""

    @property
    def output_dir(self) -> Path:
        return Path("output") / self.layers.territory.slug


__all__ = ["Study"]
