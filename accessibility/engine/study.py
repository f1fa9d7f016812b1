"""The study: one territory's prepared layers and road network, in memory.

Owns: :class:`Study`, the object every indicator, planning step and output takes
(built by :func:`accessibility.pipeline.open_study`). A plain container: it computes
nothing and reads no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from accessibility.core.paths import Paths
from accessibility.engine.access import model_columns
from accessibility.engine.access_model import DENSITY_COLUMN, add_density
from accessibility.engine.snapping import DEFAULT_SNAP, SnapOptions
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
    snap: SnapOptions = DEFAULT_SNAP
    """How points join the network: the calibrated access model on a Travel Mapping
    network (:func:`accessibility.engine.access_model.snap_options_for`), the straight
    15 km/h leg on a full network."""
    density_grid: gpd.GeoDataFrame | None = None
    """1 km census cells around the study, for the access model's density (None when
    the model reads none)."""

    def access_points(self, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``points`` with the columns the study's access model reads (the population
        density of their 1 km cell), so that every point layer routed in this study —
        cells, services, candidate sites, town halls — is treated alike."""
        wanted = model_columns(self.snap.access_model)
        if self.density_grid is None or DENSITY_COLUMN not in wanted:
            return points
        return add_density(points, self.density_grid)

    @property
    def output_dir(self) -> Path:
        """``output/<slug>``: the folder ``run`` writes (the slug checked, see
        :func:`accessibility.core.outputs.run_dirs`)."""
        from accessibility.core.outputs import run_dirs

        return run_dirs(self.layers.territory.slug)[0]


__all__ = ["Study"]
