"""The access leg of the coarse model: time from a point to the numbered road network.

Owns the model's form and the reading of its fitted parameters
(``data/network/access.toml``, written by ``scripts/calibrate_access.py``).

A point at straight-line distance ``d`` (km) from the nearest numbered road, in a 1 km
census cell of ``ρ`` inhabitants, reaches the road in::

    t = t0 + 3600 · d ** p / v(ρ)        (seconds)

* ``v(ρ)`` (km/h) is ``v_rural`` up to ``ρ_rural`` inhabitants/km², ``v_urban`` from
  ``ρ_urban``, geometric in between (log-linear in ρ). The anchors are Eurostat's
  degree-of-urbanisation thresholds on the 1 km grid (300 inhabitants/km²: urban
  cluster; 1,500: urban centre): dense places have dense street grids, so the straight
  line is covered faster than in the countryside, where the access road winds.
* ``p`` (fitted between 0.5 and 1.5) bends the time with the distance: below 1 a far
  point is reached faster per km (real roads the coarse network does not draw), above
  1 slower (winding access roads to remote places).
* ``t0`` is a fixed time at each end (leaving the numbered road, parking).

Every term is monotone: longer distance, longer time; denser, faster.

:class:`AccessParams` is an access model of :mod:`accessibility.engine.access` (callable,
``columns``): it reads the point layer's :data:`DENSITY_COLUMN` when present and takes
a point without it as rural. :func:`snap_options_for` gives the snapping options of a
network: the fitted model for a Travel Mapping network, the engine's default otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.errors import DataError, ParameterError
from accessibility.core.paths import project_data_dir
from accessibility.engine.snapping import SnapOptions
from accessibility.inputs.population import GRID_CRS
from accessibility.network.graph import RoadNetwork

#: Point-layer column with the population density (inhabitants per km²) around a point.
DENSITY_COLUMN = "pop_density_km2"

#: Eurostat degree of urbanisation, 1 km grid cells (inhabitants per km²).
DENSITY_RURAL = 300.0
DENSITY_URBAN = 1500.0


@dataclass(frozen=True)
class AccessParams:
    """Parameters of the access leg (see the module docstring)."""

    t0_s: float = 0.0
    v_rural_kph: float = 15.0
    v_urban_kph: float = 15.0
    exponent: float = 1.0
    density_rural: float = DENSITY_RURAL
    density_urban: float = DENSITY_URBAN
    columns: tuple[str, ...] = (DENSITY_COLUMN,)
    straight_trips: bool = True
    """Whether a trip may go straight to its destination off the network (``direct``)."""

    def __post_init__(self) -> None:
        if not (self.v_rural_kph > 0 and self.v_urban_kph > 0):
            raise DataError(f"access speeds must be > 0, got {self}")
        if not (self.t0_s >= 0 and 0 < self.exponent <= 2):
            raise DataError(f"access t0_s must be >= 0 and exponent in (0, 2], got {self}")
        if not 0 < self.density_rural < self.density_urban:
            raise DataError(f"need 0 < density_rural < density_urban, got {self}")

    def speed_kph(self, density: np.ndarray) -> np.ndarray:
        """Effective speed over the straight line, by population density."""
        rho = np.maximum(np.asarray(density, dtype=float), 1e-9)
        lo, hi = np.log(self.density_rural), np.log(self.density_urban)
        w = np.clip((np.log(rho) - lo) / (hi - lo), 0.0, 1.0)
        return np.exp((1 - w) * np.log(self.v_rural_kph) + w * np.log(self.v_urban_kph))

    def time_s(self, distance_m: np.ndarray, density: np.ndarray | None = None) -> np.ndarray:
        """Access time (s) for straight-line distances (m) and densities (inh./km²)."""
        d_km = np.maximum(np.asarray(distance_m, dtype=float), 0.0) / 1000.0
        rho = np.zeros_like(d_km) if density is None else np.asarray(density, dtype=float)
        return self.t0_s + 3600.0 * d_km**self.exponent / self.speed_kph(rho)


    def __call__(
        self, distance_m: np.ndarray, attributes: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """The engine's access-model call: seconds for distances and point attributes."""
        density = (attributes or {}).get(DENSITY_COLUMN)
        if density is not None:
            density = np.nan_to_num(np.asarray(density, dtype=float), nan=0.0)
        return self.time_s(distance_m, density)


    def direct(self, attributes: Mapping[str, np.ndarray], m: int) -> tuple[float, np.ndarray]:
        """A straight trip off the network (the engine's optional ``direct`` hook).

        Fixed time ``t0`` and the access speed of the origin's density, with no distance
        exponent (a concave leg would make long straight trips across roadless country
        too fast): the calibration's ``direct`` term (``validation.calibrate.predict``).
        """
        if not self.straight_trips:
            return np.nan, np.full(m, np.nan)
        density = attributes.get(DENSITY_COLUMN)
        rho = np.zeros(m) if density is None else np.nan_to_num(np.asarray(density, float))
        return self.t0_s, self.speed_kph(rho) / 3.6


#: Today's access leg: a straight line at 15 km/h (engine.snapping.OFFROAD_SPEED_KPH).
TODAY = AccessParams(straight_trips=False)


def access_file() -> Path:
    return project_data_dir() / "network" / "access.toml"


class _AccessTable(params.Schema):
    t0_s: Annotated[params.Num, Field(ge=0)]
    v_rural_kph: params.PositiveNum
    v_urban_kph: params.PositiveNum
    exponent: Annotated[params.PositiveNum, Field(le=2)]
    density_rural: params.PositiveNum = DENSITY_RURAL
    density_urban: params.PositiveNum = DENSITY_URBAN


class AccessFile(params.Schema):
    """Schema of ``data/network/access.toml``."""

    access: _AccessTable


def load_access_params(path: str | Path | None = None) -> AccessParams:
    """Read ``[access]`` of ``data/network/access.toml`` (or ``path``).

    Raises
    ------
    ParameterError
        The file or a field is missing or not a number in range (the message names the
        file, the key and what was expected).
    """
    path = Path(path) if path is not None else access_file()
    table = params.load(path, AccessFile, what="access-model file").access
    values = table.model_dump()
    try:
        return AccessParams(**values)
    except DataError as exc:
        raise ParameterError(f"{path}: [access] {exc}") from None


def snap_options_for(net: RoadNetwork) -> SnapOptions:
    """Snapping options for ``net``: the fitted access model on a Travel Mapping network.

    A full network (OSM, road lines) reaches every street: its short access leg keeps
    the engine's default (straight line at 15 km/h).
    """
    if net.meta.get("reader") == "travelmapping":
        return SnapOptions(access=load_access_params())
    return SnapOptions()


def add_density(points: gpd.GeoDataFrame, census: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``points`` with :data:`DENSITY_COLUMN`: the population of the 1 km census cell
    (Eurostat 2021 grid, EPSG:3035) holding each point, in inhabitants per km² (0 outside
    every populated cell). The fitted model's density is defined on that grid, whatever
    grid the study's demand uses.

    ``census``: census cells as returned by
    :func:`accessibility.inputs.population.census_points_in_area` (``cell_id`` such as
    ``CRS3035RES1000mN2567000E4235000`` and ``pop_total``).
    """
    ids = census[C.CELL_ID].astype(str).str.extract(r"N(\d+)E(\d+)").astype(np.int64)
    lookup = pd.Series(
        census[C.POP_TOTAL].to_numpy(float),
        index=pd.MultiIndex.from_arrays([ids[1].to_numpy() // 1000, ids[0].to_numpy() // 1000]),
    )
    lookup = lookup[~lookup.index.duplicated()]
    geom = points.geometry
    if not (geom.geom_type == "Point").all():  # cells: their representative point
        geom = geom.representative_point()
    xy = geom.to_crs(GRID_CRS)
    key = pd.MultiIndex.from_arrays(
        [np.floor(xy.x.to_numpy() / 1000).astype(np.int64),
         np.floor(xy.y.to_numpy() / 1000).astype(np.int64)]
    )  # fmt: skip
    out = points.copy()
    out[DENSITY_COLUMN] = lookup.reindex(key).fillna(0.0).to_numpy()
    return out
