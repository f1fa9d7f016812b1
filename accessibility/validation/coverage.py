"""Reliability warning: the population living far from the road network.

Owns the distance from each populated cell centre to the nearest road of the network
(the straight-line access leg of the snapping), and the population beyond 1 and 2 km,
per commune of a territory and per département of France. Where the nearest numbered
road is kilometres away, the off-road leg at 15 km/h dominates the time and the model is
least reliable. :func:`far_cells` is the hook of the atlas's warning layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.validate import require_columns
from accessibility.engine.snapping import snap_xy
from accessibility.network.graph import RoadNetwork

#: Distances from the network (m) beyond which people are counted.
FAR_M = (1000.0, 2000.0)
DISTANCE_M = "distance_to_network_m"


def distance_to_network(net: RoadNetwork, cells: gpd.GeoDataFrame) -> np.ndarray:
    """Straight-line distance (m) from each cell's demand point (``x``, ``y``) to the
    nearest road of the network."""
    require_columns(cells, ["x", "y"], where="cells")
    if cells.crs is None or CRS.from_user_input(net.crs) != cells.crs:
        raise DataError(
            f"cells: CRS {cells.crs} differs from the network's {net.crs}; "
            "project the cells to the network CRS first"
        )
    xy = cells[["x", "y"]].to_numpy(dtype=float)
    return snap_xy(net, xy).distance_m


def _col(m: float) -> str:
    return f"{m / 1000:g}km"


def far_population(
    distance_m: np.ndarray | pd.Series,
    population: np.ndarray | pd.Series,
    groups: np.ndarray | pd.Series,
    *,
    limits_m: Sequence[float] = FAR_M,
    group_name: str = "group",
) -> pd.DataFrame:
    """Population and population beyond each limit, per group, with shares.

    Columns: ``group_name``, ``population``, then for 1 km: ``population_beyond_1km``,
    ``share_beyond_1km`` (and so on for each limit).
    """
    d = np.asarray(distance_m, dtype=float)
    pop = np.asarray(population, dtype=float)
    g = np.asarray(groups)
    if not len(d) == len(pop) == len(g):
        raise DataError(
            f"far_population: distance ({len(d)}), population ({len(pop)}) and groups "
            f"({len(g)}) must have the same length"
        )
    frame = pd.DataFrame({group_name: g, "population": pop})
    for m in limits_m:
        frame[f"population_beyond_{_col(m)}"] = np.where(d > m, pop, 0.0)
    out = frame.groupby(group_name, sort=True).sum().reset_index()
    for m in limits_m:
        total = out["population"].where(out["population"] > 0)
        out[f"share_beyond_{_col(m)}"] = out[f"population_beyond_{_col(m)}"] / total
    return out


def commune_coverage(
    net: RoadNetwork, cells: gpd.GeoDataFrame, communes: pd.DataFrame
) -> pd.DataFrame:
    """Population beyond 1 and 2 km of the network, per commune of the territory
    (``commune_code``, ``commune_name``, ...), the farthest first."""
    require_columns(cells, [C.COMMUNE_CODE, C.POP_TOTAL], where="cells")
    require_columns(communes, [C.COMMUNE_CODE, C.COMMUNE_NAME], where="communes")
    d = distance_to_network(net, cells)
    table = far_population(
        d, cells[C.POP_TOTAL], cells[C.COMMUNE_CODE], group_name=C.COMMUNE_CODE
    )
    names = communes[[C.COMMUNE_CODE, C.COMMUNE_NAME]].drop_duplicates(C.COMMUNE_CODE)
    table = names.merge(table, on=C.COMMUNE_CODE, how="right")
    far = f"population_beyond_{_col(FAR_M[0])}"
    return table.sort_values([far, C.COMMUNE_CODE], ascending=[False, True]).reset_index(drop=True)


def departement_coverage(national_cells: pd.DataFrame) -> pd.DataFrame:
    """Population beyond 1 and 2 km of the network per département, from the national
    run's cells (``pop``, ``departement``, ``distance_m``), plus a ``France`` row."""
    require_columns(national_cells, ["pop", "departement", "distance_m"], where="national cells")
    table = far_population(
        national_cells["distance_m"], national_cells["pop"], national_cells["departement"],
        group_name="departement",
    )
    total = far_population(
        national_cells["distance_m"], national_cells["pop"],
        np.full(len(national_cells), "France"), group_name="departement",
    )
    return pd.concat([table, total], ignore_index=True)


def far_cells(
    net: RoadNetwork, cells: gpd.GeoDataFrame, *, min_m: float = FAR_M[0]
) -> gpd.GeoDataFrame:
    """The cells whose centre lies more than ``min_m`` from the network, with their
    ``distance_to_network_m``: the atlas's « fiabilité » warning layer."""
    d = distance_to_network(net, cells)
    out = cells.loc[d > min_m].copy()
    out[DISTANCE_M] = d[d > min_m]
    return out
