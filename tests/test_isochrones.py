"""Tests of accessibility.engine.isochrones on the 1-minute-edge grid (tests/tt_grid.py)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Point
from tt_grid import X0, Y0, grid_network, manhattan_min, node_points, node_xy, points

from accessibility.core import columns as C
from accessibility.engine.isochrones import isochrones

N = 7  # Manhattan distances from a corner go up to 12


@pytest.fixture(scope="module")
def grid():
    return grid_network(N)


def _covers(geom, xy) -> bool:
    return bool(shapely.intersects(geom, Point(xy)))


def test_corner_isochrone_covers_exactly_the_manhattan_ball(grid):
    # site on corner node 0; a 1 m buffer makes the check sharp: every node at
    # Manhattan distance <= 10 is inside the 10-minute band, every node at 11 or 12 is
    # 1000 m or more from any reached road, so outside
    out = isochrones(grid, node_points([0], N, "sid"), site_id="sid", minutes=(5, 10), buffer_m=1.0)
    assert list(out.columns) == [C.SITE_ID, C.MINUTES, "geometry"]
    assert out[C.MINUTES].tolist() == [5.0, 10.0]
    assert out.crs == grid.crs
    ten = out.geometry.iloc[1]
    for node in range(N * N):
        d = manhattan_min(node, 0, N)
        assert _covers(ten, node_xy(node, N)) == (d <= 10), (node, d)
    five = out.geometry.iloc[0]
    for node in range(N * N):
        assert _covers(five, node_xy(node, N)) == (manhattan_min(node, 0, N) <= 5)
    assert ten.contains(five)


def test_partial_edges_are_cut_at_the_budget(grid):
    # 2.5 minutes from node 0: along the bottom row the reached road ends 500 m past
    # node 2 (2 min + 30 s at 60 km/h), so x = 2400 m is in and x = 2600 m is out
    out = isochrones(grid, node_points([0], N, "sid"), site_id="sid", minutes=(2.5,), buffer_m=1.0)
    g = out.geometry.iloc[0]
    assert _covers(g, (X0 + 2400, Y0))
    assert not _covers(g, (X0 + 2600, Y0))
    # on the vertical edge from node 8 (row 1, col 1; 2 min) 500 m up toward node 15
    assert _covers(g, (X0 + 1000, Y0 + 1400))
    assert not _covers(g, (X0 + 1000, Y0 + 1600))


def test_site_access_leg_counts(grid):
    # a site 250 m off node 0 has a 1-minute access leg: its 3-minute band reaches only
    # nodes within 2 minutes of node 0
    site = points([(X0 - 250, Y0)], ["s"], name="sid")
    g = isochrones(grid, site, site_id="sid", minutes=(3,), buffer_m=1.0).geometry.iloc[0]
    assert _covers(g, node_xy(2, N))  # 2 min + 1 min
    assert not _covers(g, node_xy(3, N))  # 3 min + 1 min


def test_bands_nested_and_union_over_sites(grid):
    sites = node_points([0, N * N - 1], N, "sid")
    per_site = isochrones(grid, sites, site_id="sid", minutes=(2, 4, 6), buffer_m=50.0)
    assert per_site[C.SITE_ID].tolist() == [0, 0, 0, 48, 48, 48]
    for sid in (0, 48):
        bands = per_site.loc[per_site[C.SITE_ID] == sid].geometry.to_numpy()
        assert bands[1].contains(bands[0]) and bands[2].contains(bands[1])
        assert all(b.geom_type in ("Polygon", "MultiPolygon") for b in bands)
    union = isochrones(grid, sites, site_id=None, minutes=(2, 4, 6), buffer_m=50.0)
    assert union[C.SITE_ID].isna().all()
    assert union[C.MINUTES].tolist() == [2.0, 4.0, 6.0]
    # the union band = the union of the per-site bands (same reached roads)
    for k, m in enumerate((2, 4, 6)):
        expected = shapely.union_all(per_site.loc[per_site[C.MINUTES] == m].geometry.to_numpy())
        sym = shapely.symmetric_difference(union.geometry.iloc[k], expected).area
        assert sym < 1e-3 * expected.area


def test_direction_on_a_oneway():
    # the bottom row is oneway westward (1 -> 0, 2 -> 1, ...): toward a site on node 0
    # it is the straight way, from node 0 one has to go around through the second row
    net = grid_network(N, oneway=[(c + 1, c) for c in range(N - 1)])
    site = node_points([0], N, "sid")
    to = isochrones(net, site, site_id="sid", minutes=(3,), buffer_m=1.0).geometry.iloc[0]
    frm = isochrones(
        net, site, site_id="sid", minutes=(3,), buffer_m=1.0, direction="from"
    ).geometry.iloc[0]
    assert _covers(to, node_xy(3, N))  # 3 -> 2 -> 1 -> 0: 3 min
    # from 0: 0 -> 7 -> 8 -> 9 -> 2 is 4 min to node 2, node 3 is beyond
    assert not _covers(frm, node_xy(3, N))
    assert not _covers(frm, node_xy(2, N))
    assert _covers(frm, node_xy(9, N))


def test_bad_arguments(grid):
    site = node_points([0], N, "sid")
    with pytest.raises(ValueError, match="method"):
        isochrones(grid, site, site_id="sid", method="convex")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buffer_m"):
        isochrones(grid, site, site_id="sid", buffer_m=0)
    assert np.isfinite(isochrones(grid, site, site_id="sid", minutes=(0,)).area).all()


def test_closed_edges_are_not_driven(grid):
    # close the bottom road between nodes 1 and 2 (both ways): from node 0, node 2 is now
    # 4 minutes away (0, 7, 8, 9, 2) and the closed road's middle (X0 + 1500) is not
    # reached within 2.5 min; with the road open it is (1.5 min)
    closed = grid_network(N)
    e = closed.edges
    e["closed"] = ((e["u"] == 1) & (e["v"] == 2)) | ((e["u"] == 2) & (e["v"] == 1))
    site = node_points([0], N, "sid")
    opened = isochrones(grid, site, site_id="sid", minutes=(2.5,), buffer_m=1.0).geometry.iloc[0]
    shut = isochrones(closed, site, site_id="sid", minutes=(2.5,), buffer_m=1.0).geometry.iloc[0]
    assert _covers(opened, (X0 + 1500, Y0)) and _covers(opened, node_xy(2, N))
    assert not _covers(shut, (X0 + 1500, Y0))
    assert not _covers(shut, node_xy(2, N))
    assert _covers(shut, (X0 + 1000, Y0 + 1400))  # the open roads are unchanged


def test_site_in_the_middle_of_a_one_way_edge():
    # one long one-way road 0 -> 1 (4 km at 60 km/h: 240 s), and 1 -> 2 -> 0 back round.
    # A site on the road at 2 km (its middle): "from" it, 1 minute reaches 1 km ahead
    # (x up to 3000) but nothing behind; "to" it, 1 minute covers the 1 km behind
    from tt_grid import make_network

    xy = [(X0, Y0), (X0 + 4000, Y0), (X0 + 2000, Y0 + 3000)]
    net = make_network(xy, [(0, 1), (1, 2), (2, 0)])
    site = points([(X0 + 2000, Y0)], ["s"], name="sid")
    frm = isochrones(net, site, site_id="sid", minutes=(1,), direction="from", buffer_m=1.0)
    to = isochrones(net, site, site_id="sid", minutes=(1,), direction="to", buffer_m=1.0)
    f, t = frm.geometry.iloc[0], to.geometry.iloc[0]
    assert _covers(f, (X0 + 2900, Y0)) and not _covers(f, (X0 + 3100, Y0))
    assert not _covers(f, (X0 + 1500, Y0))
    assert _covers(t, (X0 + 1100, Y0)) and not _covers(t, (X0 + 900, Y0))
    assert not _covers(t, (X0 + 2500, Y0))
