"""Access indicators: time to the nearest service and its population-weighted summaries."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.engine.snapping import DEFAULT_SNAP, SnapOptions
from accessibility.engine.travel_times import nearest
from accessibility.inputs.population import demand_points
from accessibility.network.graph import RoadNetwork


def services_of(services: gpd.GeoDataFrame, category: str) -> gpd.GeoDataFrame:
    """The services of one category, as points; an error lists the known categories."""
    chosen = services[services[C.CATEGORY] == category]
    if chosen.empty:
        known = ", ".join(sorted(services[C.CATEGORY].unique()))
        raise DataError(f"no service of category {category!r}; categories present: {known}")
    return chosen


def time_to_nearest(
    net: RoadNetwork,
    cells: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    category: str,
    *,
    snap: SnapOptions = DEFAULT_SNAP,
) -> pd.DataFrame:
    """Time from every cell to the nearest service of ``category``.

    Returns the long table ``origin_id`` (cell id), ``destination_id`` (service id),
    ``travel_time_min`` (NaN when no service is reachable).
    """
    points = demand_points(cells)
    return nearest(
        net,
        points,
        services_of(services, category),
        origin_id=C.CELL_ID,
        destination_id=C.SERVICE_ID,
        snap=snap,
    )


@dataclass(frozen=True)
class TimeSummary:
    """Population-weighted summary of times to a category."""

    category: str
    threshold_min: float
    population: float
    mean_min: float
    median_min: float
    p90_min: float
    population_beyond: float
    share_beyond: float
    population_unreachable: float

    def as_dict(self) -> dict[str, float | str]:
        return dict(self.__dict__)


def weighted_summary(
    minutes: np.ndarray | pd.Series,
    weights: np.ndarray | pd.Series,
    *,
    threshold_min: float,
    category: str = "",
) -> TimeSummary:
    """Mean, median, 90th percentile and population beyond the threshold.

    Unreachable places (NaN) count as beyond the threshold and are left out of the
    mean and percentiles (reported separately as ``population_unreachable``).
    Percentiles use numpy's weighted ``inverted_cdf`` (the smallest time such that the
    population at or below it reaches the share).
    """
    t = np.asarray(minutes, dtype=float)
    w = np.asarray(weights, dtype=float)
    if t.shape != w.shape:
        raise DataError(f"times and weights differ in length ({t.size} vs {w.size})")
    if (w < 0).any():
        raise DataError("population weights must be >= 0")
    reach = np.isfinite(t)
    wr = w[reach]
    total = float(w.sum())
    if wr.sum() > 0:
        mean = float(np.average(t[reach], weights=wr))
        median, p90 = (
            float(np.quantile(t[reach], q, weights=wr, method="inverted_cdf")) for q in (0.5, 0.9)
        )
    else:
        mean = median = p90 = float("nan")
    beyond = float(w[~reach].sum() + wr[t[reach] > threshold_min].sum())
    return TimeSummary(
        category=category,
        threshold_min=float(threshold_min),
        population=total,
        mean_min=mean,
        median_min=median,
        p90_min=p90,
        population_beyond=beyond,
        share_beyond=beyond / total if total else float("nan"),
        population_unreachable=float(w[~reach].sum()),
    )


class Reach:
    """Origins and candidate destinations snapped once, for many nearest-time queries.

    The diagnostic asks "how far is the nearest X" for dozens of sets X (service
    categories, each equipment type of a gamme) over the same points: snapping once and
    running one multi-source search per set keeps it to a few milliseconds a set.
    Times equal :func:`accessibility.engine.travel_times.nearest` (same access legs).
    """

    def __init__(
        self,
        net: RoadNetwork,
        origins: gpd.GeoDataFrame,
        destinations: gpd.GeoDataFrame,
        *,
        origin_id: str,
        destination_id: str,
        snap: SnapOptions = DEFAULT_SNAP,
    ) -> None:
        from accessibility.engine.travel_times import _snap_layer

        self.net = net
        self.origin_ids, self._o = _snap_layer(net, origins, origin_id, "origins", snap)
        self.destination_ids, self._d = _snap_layer(
            net, destinations, destination_id, "destinations", snap
        )

    def nearest_min(self, mask: np.ndarray | pd.Series) -> np.ndarray:
        """Minutes from each origin to the nearest destination where ``mask`` is True."""
        from accessibility.engine.travel_times import nearest_snapped

        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return np.full(len(self.origin_ids), np.nan)
        total, _ = nearest_snapped(self.net, self._o, self._d.take(m))
        return np.where(np.isfinite(total), total / 60.0, np.nan)

    def times_min(self, mask: np.ndarray | pd.Series, limit_min: float) -> np.ndarray:
        """Minutes from each origin to each destination where ``mask`` is True, shape
        (origins, chosen destinations); NaN beyond ``limit_min`` or unreached. Same
        times as :func:`accessibility.engine.travel_times.od_matrix`."""
        from accessibility.engine.travel_times import _origin_by_destination_s

        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return np.full((len(self.origin_ids), 0), np.nan)
        total = _origin_by_destination_s(self.net, self._o, self._d.take(m), limit_min * 60.0)
        out = total.T / 60.0
        out[~(out <= limit_min)] = np.nan
        return out

