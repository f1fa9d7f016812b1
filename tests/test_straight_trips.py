"""Straight trips off the network and the access model's density (issue 11).

One straight road along x; two points 800 m and 900 m north of its middle, 100 m apart.
Over the road, each reaches it by its access leg; a straight trip between them is far
shorter. The figures below are worked out by hand from the access model's formula
``t = t0 + 3600 · d_km ** p / v`` (seconds).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point
from tt_grid import X0, Y0, make_network, points

from accessibility.engine.access_model import DENSITY_COLUMN, AccessParams, add_density
from accessibility.engine.snapping import SnapOptions
from accessibility.engine.travel_times import nearest, od_matrix

ROAD = make_network([(X0, Y0), (X0 + 10_000, Y0)], [(0, 1), (1, 0)], speed_kph=60.0)
ORIGIN = points([(X0 + 5000, Y0 + 800)], ["o"])
DEST = points([(X0 + 5000, Y0 + 900)], ["d"], name="did")
#: t0 = 60 s, 20 km/h everywhere, linear in distance
MODEL = AccessParams(t0_s=60.0, v_rural_kph=20.0, v_urban_kph=20.0, exponent=1.0)


def _nearest_s(model: AccessParams) -> float:
    t = nearest(ROAD, ORIGIN, DEST, origin_id="pid", destination_id="did",
                snap=SnapOptions(access=model))  # fmt: skip
    return float(t["travel_time_min"].iloc[0]) * 60


def test_a_straight_trip_beats_the_road_when_shorter():
    # over the road: 60 + 144 (800 m at 20 km/h) + 60 + 162 (900 m) = 426 s;
    # straight: 60 + 18 (100 m at 20 km/h) = 78 s
    assert _nearest_s(MODEL) == pytest.approx(78.0)


def test_no_straight_trip_when_the_model_allows_none():
    no_straight = AccessParams(t0_s=60.0, v_rural_kph=20.0, v_urban_kph=20.0, exponent=1.0,
                               straight_trips=False)  # fmt: skip
    assert _nearest_s(no_straight) == pytest.approx(426.0)


def test_od_matrix_takes_the_straight_trip_too():
    t = od_matrix(ROAD, ORIGIN, DEST, origin_id="pid", destination_id="did",
                  snap=SnapOptions(access=MODEL))  # fmt: skip
    assert float(t["travel_time_min"].iloc[0]) * 60 == pytest.approx(78.0)


def test_the_road_wins_when_the_points_are_far_apart():
    far = points([(X0 + 9000, Y0 + 100)], ["d"], name="did")
    near = points([(X0 + 1000, Y0 + 100)], ["o"])
    t = nearest(ROAD, near, far, origin_id="pid", destination_id="did",
                snap=SnapOptions(access=MODEL))  # fmt: skip
    # road: 60 + 18 + 8 km at 60 km/h (480) + 60 + 18 = 636 s; straight 8 km: 60 + 1440
    assert float(t["travel_time_min"].iloc[0]) * 60 == pytest.approx(636.0)


def test_density_is_that_of_the_1km_census_cell_holding_the_point():
    census = gpd.GeoDataFrame(
        {"cell_id": ["CRS3035RES1000mN2567000E4235000"], "pop_total": [1200.0]},
        geometry=[Point(4235500, 2567500)], crs="EPSG:3035",
    )  # fmt: skip
    pts = gpd.GeoDataFrame(
        {"pid": ["in", "out"]},
        geometry=[Point(4235999, 2567001), Point(4236001, 2567001)], crs="EPSG:3035",
    ).to_crs("EPSG:2154")  # fmt: skip
    got = add_density(pts, census)[DENSITY_COLUMN].to_numpy()
    np.testing.assert_allclose(got, [1200.0, 0.0])
