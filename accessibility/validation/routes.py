"""Well-known routes: published lengths against the model's route lengths.

Owns the route list (``data/validation/routes.toml``: passes and valley roads of the
Maurienne, each with a published length and the address of its source) and its
comparison with the study's network: the length of the fastest route between the same
end points, on the network (the straight access legs from the end points to the
nearest road are left out and reported apart).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field, Strict
from shapely.geometry import Point

from accessibility.core import params
from accessibility.core.errors import NetworkError, SnapWarning
from accessibility.core.paths import project_data_dir
from accessibility.engine.snapping import snap_xy
from accessibility.engine.travel_times import route
from accessibility.network.graph import RoadNetwork

ROUTES_FILE = "validation/routes.toml"
#: An end point farther than this from the network is not routed (another territory).
#: Generous: Travel Mapping draws a road as straight chords between sparse waypoints,
#: so a point on the real road may lie several hundred metres from the chord.
MAX_END_SNAP_M = 2000.0


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


class _RouteEntry(params.Schema):
    """One ``[[route]]`` of the route list."""

    name: params.Str
    origin: params.Str = Field(alias="from")
    destination: params.Str = Field(alias="to")
    from_lonlat: params.LonLat
    to_lonlat: params.LonLat
    published_km: params.PositiveNum
    source: Annotated[str, Strict(), Field(pattern=r"^https?://\S+$")]
    measures: params.Str
    coordinates: params.Str


class _RouteFile(params.Schema):
    route: list[_RouteEntry] = Field(min_length=1)


def load_routes(path: str | Path | None = None) -> list[KnownRoute]:
    """The routes of ``data/validation/routes.toml`` (or ``path``), checked: an error
    names the file, the entry and the field (:mod:`accessibility.core.params`)."""
    file = Path(path) if path is not None else project_data_dir() / ROUTES_FILE
    raw = params.load(file, _RouteFile, what="route list")
    return [
        KnownRoute(
            name=r.name, origin=r.origin, destination=r.destination,
            origin_lonlat=r.from_lonlat, destination_lonlat=r.to_lonlat,
            published_km=r.published_km, source=r.source, measures=r.measures,
            coordinates=r.coordinates,
        )
        for r in raw.route
    ]


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
