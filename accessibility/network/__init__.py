"""Road networks: one graph contract (:class:`RoadNetwork`), several readers."""

from __future__ import annotations

from .graph import RoadNetwork

__all__ = ["RoadNetwork"]
