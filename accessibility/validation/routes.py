"""Well-known routes: published lengths against the model's route lengths.

Owns the route list (``data/validation/routes.toml``: passes and valley roads of the
Maurienne, each with a published length and the address of its source) and its
comparison with the study's network: the length of the fastest route between the same
end points, on the network (the straight access legs from the end points to the
nearest road are left out and reported apart).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from accessibility.core.errors import DataError, NetworkError, SnapWarning
from accessibility.core.paths import project_data_dir
from accessibility.core.validate import read_toml
from accessibility.engine.snapping import snap_xy
from accessibility.engine.travel_times import route
from accessibility.network.graph import RoadNetwork

ROUTES_FILE = "validation/routes.toml"
#: An end point farther than this from the network is not routed (another territory).
#: Generous: Travel Mapping draws a road as straight chords between sparse waypoints,
#: so a point on the real road may lie several hundred metres from the chord.
MAX_END_SNAP_M = 2000.0
_TEXT = ("name", "from", "to", "source", "measures", "coordinates")


@dataclass(frozen=True)
class KnownRoute:
    """A route with a published length."""

    name: str
    origin: str
    destination: str
    origin_lonlat: tuple[float, float]
    destination_lonlat: tuple[float, float]
    published_km: float
    source: str
    measures: str
    coordinates: str


def _lonlat(raw: object, where: str, field: str) -> tuple[float, float]:
    ok = (
        isinstance(raw, list) and len(raw) == 2
        and all(isinstance(v, int | float) and math.isfinite(v) for v in raw)
    )
    if not ok or not (-180 <= raw[0] <= 180 and -90 <= raw[1] <= 90):  # type: ignore[index]
        raise DataError(f"{where}: {field} must be [longitude, latitude] in degrees, got {raw!r}")
    return float(raw[0]), float(raw[1])  # type: ignore[index]


def _route(raw: object, where: str) -> KnownRoute:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected a table of route fields, got {raw!r}")
    for field in _TEXT:
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise DataError(f"{where}: {field} must be a non-empty string")
    if not raw["source"].startswith(("http://", "https://")):
        raise DataError(f"{where}: source must be the address (http...) of the source")
    km = raw.get("published_km")
    if not isinstance(km, int | float) or not km > 0:
        raise DataError(f"{where}: published_km must be a positive number, got {km!r}")
    return KnownRoute(
        name=raw["name"], origin=raw["from"], destination=raw["to"],
        origin_lonlat=_lonlat(raw.get("from_lonlat"), where, "from_lonlat"),
        destination_lonlat=_lonlat(raw.get("to_lonlat"), where, "to_lonlat"),
        published_km=float(km), source=raw["source"], measures=raw["measures"],
        coordinates=raw["coordinates"],
    )


def load_routes(path: str | Path | None = None) -> list[KnownRoute]:
    """The routes of ``data/validation/routes.toml`` (or ``path``), checked."""
    file = Path(path) if path is not None else project_data_dir() / ROUTES_FILE
    raw = read_toml(file, what="route list")
    items = raw.get("route")
    if not isinstance(items, list) or not items:
        raise DataError(f"{file}: expected one or more [[route]] tables")
    return [_route(item, f"{file}: route {i + 1}") for i, item in enumerate(items)]


def _snap_distances(net: RoadNetwork, points: list[tuple[float, float]]) -> np.ndarray:
    g = gpd.GeoSeries([Point(p) for p in points], crs=4326).to_crs(net.crs)
    return snap_xy(net, np.column_stack([g.x.to_numpy(), g.y.to_numpy()])).distance_m


def compare_routes(
    net: RoadNetwork, routes: list[KnownRoute], *, max_snap_m: float = MAX_END_SNAP_M
) -> pd.DataFrame:
    """Published against model length for each route.

    Columns: ``name``, ``from``, ``to``, ``published_km``, ``model_km`` (on the
    network), ``model_min`` (time, access legs included), ``difference_km``,
    ``difference_pct`` (model − published, % of published), ``snap_from_m``,
    ``snap_to_m`` (access legs), ``status`` (``ok``, ``off network`` when an end point is
    farther than ``max_snap_m`` from the network, ``no route``), ``source``,
    ``measures``. A route off the network has NaN model values.
    """
    rows = []
    for r in routes:
        d_from, d_to = _snap_distances(net, [r.origin_lonlat, r.destination_lonlat])
        row = {
            "name": r.name, "from": r.origin, "to": r.destination,
            "published_km": r.published_km, "model_km": np.nan, "model_min": np.nan,
            "snap_from_m": float(d_from), "snap_to_m": float(d_to), "status": "ok",
            "source": r.source, "measures": r.measures,
        }
        if max(d_from, d_to) > max_snap_m:
            row["status"] = "off network"
        else:
            try:
                with warnings.catch_warnings():
                    # the access legs are reported in snap_from_m / snap_to_m
                    warnings.simplefilter("ignore", SnapWarning)
                    res = route(net, Point(r.origin_lonlat), Point(r.destination_lonlat),
                                crs="EPSG:4326")
            except NetworkError:
                row["status"] = "no route"
            else:
                row["model_km"] = res.distance_km - (d_from + d_to) / 1000.0
                row["model_min"] = res.time_min
        rows.append(row)
    table = pd.DataFrame(rows)
    table["difference_km"] = table["model_km"] - table["published_km"]
    table["difference_pct"] = 100.0 * table["difference_km"] / table["published_km"]
    order = ["name", "from", "to", "published_km", "model_km", "difference_km",
             "difference_pct", "model_min", "snap_from_m", "snap_to_m", "status", "source",
             "measures"]
    return table[order]
