"""Population layers: grid geometry (hand-checked), assignment and totals."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from accessibility.core import columns as C
from accessibility.inputs.population import _assign, census_spec, filosofi_spec


def test_tile_ranges_by_hand():
    # census: tile X covers [X*256 km, (X+1)*256 km): 3,900 km -> tile 15, 4,100 km -> 16
    assert census_spec().tile_range((3_900_000, 2_400_000, 4_100_000, 2_450_000)) == [
        (15, 9),
        (16, 9),
    ]
    # filosofi: origin (3.2e6, 2e6), 51.2 km tiles: 4,016,000 -> (4,016,000-3.2e6)/51,200 = 15.9
    assert filosofi_spec().tile_range((4_016_000, 2_500_000, 4_016_000, 2_500_000)) == [(15, 9)]


def test_assign_to_commune_with_largest_share():
    # two communes split at x = 600; a 1 km cell [0, 1000] lies 60 % in A, 40 % in B
    communes = gpd.GeoDataFrame(
        {C.COMMUNE_CODE: ["A", "B"]},
        geometry=[shapely.box(0, 0, 600, 1000), shapely.box(600, 0, 2000, 1000)],
        crs=2154,
    )
    cells = gpd.GeoDataFrame(
        {C.CELL_ID: ["c1", "c2", "c3"]},
        geometry=[
            shapely.box(0, 0, 1000, 1000),
            shapely.box(1000, 0, 2000, 1000),
            shapely.box(5000, 0, 6000, 1000),
        ],
        crs=2154,
    )
    out = _assign(cells, communes, "EPSG:2154").set_index(C.CELL_ID)
    assert list(out.index) == ["c1", "c2"]  # c3 touches no commune
    assert out.loc["c1", C.COMMUNE_CODE] == "A"
    assert out.loc["c1", "share_in_commune"] == pytest.approx(0.6)
    # the demand point is the centre of the part inside A: (300, 500)
    assert (out.loc["c1", "x"], out.loc["c1", "y"]) == pytest.approx((300, 500))
    assert out.loc["c2", C.COMMUNE_CODE] == "B"


@pytest.mark.integration
def test_maurienne_census_cells(maurienne):
    cells, communes = maurienne.cells, maurienne.communes
    assert cells[C.CELL_ID].is_unique
    assert set(cells[C.COMMUNE_CODE]) <= set(communes[C.COMMUNE_CODE])
    # age groups add up to the total up to the census's confidentiality rounding
    ages = cells[[C.POP_UNDER15, C.POP_15_64, C.POP_65PLUS]].sum(axis=1)
    assert np.abs(ages - cells[C.POP_TOTAL]).max() <= 4
    # cells straddle the territory's edge, so the grid sum is close to, not equal to,
    # the commune sum: within 5 %
    ratio = cells[C.POP_TOTAL].sum() / communes[C.POPULATION].sum()
    assert 0.95 < ratio < 1.05
    # every demand point lies in its commune
    pts = gpd.GeoSeries(gpd.points_from_xy(cells.x, cells.y), crs=cells.crs)
    poly = communes.set_index(C.COMMUNE_CODE).geometry.loc[cells[C.COMMUNE_CODE]]
    assert poly.reset_index(drop=True).buffer(1).contains(pts).all()


@pytest.mark.integration
def test_filosofi_cells_scaled_to_communes(maurienne, paths):
    from accessibility.inputs.population import filosofi_cells

    f = filosofi_cells(maurienne.communes, maurienne.cells, paths=paths)
    by_commune = f.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    pop = maurienne.communes.set_index(C.COMMUNE_CODE)[C.POPULATION]
    assert np.allclose(by_commune.reindex(pop.index), pop)
    # MANIFEST: raw Filosofi individuals in the Maurienne sum to about 40,300 (< census)
    raw = f["ind_filosofi"].sum()
    assert 38_000 < raw < 42_000
    assert len(f) > 4 * len(maurienne.cells)  # finer grid
