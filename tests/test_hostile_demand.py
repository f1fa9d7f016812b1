"""The demand of the floating catchments (2SFCA, E2SFCA, APL) counts the territory once,
whatever its grid (issue 12).

The buffer around a territory adds the census 1 km cells just outside it. The old code
left out the buffer cells whose id was a territory cell id: with the Filosofi 200 m grid
no id ever matched, so the territory's people were counted twice (once in its 200 m
cells, once in the 1 km cells of the buffer that cover it).
"""

from __future__ import annotations

import importlib

import geopandas as gpd
import pandas as pd
import pytest

try:
    from accessibility.core import columns as C
except ModuleNotFoundError:  # the old layout (commit 9ad74fd), for the before/after check
    from accessibility import columns as C  # type: ignore[no-redef]


def _km(n: int, e: int) -> str:
    return f"CRS3035RES1000mN{n}E{e}"


def _m200(n: int, e: int) -> str:
    return f"CRS3035RES200mN{n}E{e}"


# --- by hand -------------------------------------------------------------------------------


def test_outside_demand_by_hand_on_a_200m_territory():
    """Three 1 km buffer cells: A (100 people) holds two territory 200 m cells (30 + 50),
    B (40) holds none, C (10) holds one with 25 (the two grids disagree). A keeps
    100 - 80 = 20, B its 40, C nothing (10 - 25 < 0): the demand is 30 + 50 + 25 of the
    territory plus 20 + 40 = 165, not the 255 of matching by id."""
    from accessibility.indicators.catchment import outside_demand

    territory = pd.Series(
        {
            _m200(2000200, 4000000): 30.0,
            _m200(2000800, 4000600): 50.0,
            _m200(2002000, 4001400): 25.0,
        }
    )
    buffer = pd.Series(
        {_km(2000000, 4000000): 100.0, _km(2001000, 4000000): 40.0, _km(2002000, 4001000): 10.0}
    )
    left = outside_demand(territory, buffer)
    assert left.to_dict() == {_km(2000000, 4000000): 20.0, _km(2001000, 4000000): 40.0}
    assert territory.sum() + left.sum() == 165.0


def test_outside_demand_by_hand_on_the_same_grid():
    """On the 1 km grid a buffer cell that is a territory cell adds nothing."""
    from accessibility.indicators.catchment import outside_demand

    territory = pd.Series({_km(2000000, 4000000): 7.0})
    buffer = pd.Series({_km(2000000, 4000000): 7.0, _km(2000000, 4001000): 3.0})
    assert outside_demand(territory, buffer).to_dict() == {_km(2000000, 4001000): 3.0}


def test_outside_demand_refuses_what_it_cannot_place():
    from accessibility.core.errors import DataError
    from accessibility.indicators.catchment import outside_demand

    with pytest.raises(DataError, match="Eurostat grid ids"):
        outside_demand(pd.Series({"cell-1": 1.0}), pd.Series({_km(0, 0): 1.0}))
    with pytest.raises(DataError, match="cannot hold"):
        outside_demand(pd.Series({_km(0, 0): 1.0}), pd.Series({_m200(0, 0): 1.0}))


# --- the Maurienne -------------------------------------------------------------------------


def _diagnostic_module():
    """The module holding ``_supply_indicators`` (moved in the 0.2 layout; the test also
    runs on the old code with ``PYTHONPATH=/work/wt-old``)."""
    try:
        return importlib.import_module("accessibility.indicators.diagnostic")
    except ModuleNotFoundError:
        return importlib.import_module("accessibility.diagnostic")


def _gp_demand(paths, grid: str, monkeypatch, known_warnings) -> tuple[pd.Series, pd.Series]:
    """(demand the 2SFCA receives, the territory's cell populations) on ``grid``."""
    from accessibility.pipeline import open_study

    mod = _diagnostic_module()
    with known_warnings("town_halls", "laposte_coordinates", "far_hospital", "network_islands"):
        study = open_study("maurienne", paths=paths, grid=grid)
    layers = study.layers
    cells = layers.cells
    points = gpd.GeoDataFrame(
        cells.drop(columns="geometry"),
        geometry=gpd.points_from_xy(cells.x, cells.y),
        crs=cells.crs,
    )
    svc = layers.services.reset_index(drop=True)
    gp = svc[svc[C.CATEGORY] == "general_practitioner"]
    area = gpd.GeoSeries(
        [layers.communes.union_all().buffer(layers.territory.buffer_m)], crs=cells.crs
    )
    seen: list[pd.Series] = []
    real = mod.two_step_fca

    def spy(times, demand, supply, **kw):  # type: ignore[no-untyped-def]
        seen.append(demand.copy())
        return real(times, demand, supply, **kw)

    monkeypatch.setattr(mod, "two_step_fca", spy)
    params = {
        "supply": {"general_practitioner": {"consultations_per_practitioner": 4500.0}},
        "catchment": {"limit_min": 30.0},
    }
    mod._supply_indicators(study, cells, points, gp, area, params, "general_practitioner")
    assert len(seen) == 1
    return seen[0], cells.set_index(C.CELL_ID)[C.POP_TOTAL]


@pytest.mark.integration
def test_maurienne_demand_counts_the_territory_once_on_both_grids(
    paths, monkeypatch, known_warnings
):
    """The territory's part of the demand is its grid population on both grids, and the
    total demand (territory + buffer) of the two grids differs by less than a tenth of
    the territory's population (same people, two grids: the 200 m grid keeps the part of
    the edge 1 km cells outside its own cells, and Filosofi and the census disagree a
    little); the old code added the territory's 1 km cells to its 200 m cells, about
    43,000 people (all of it) too many."""
    totals, pops = {}, {}
    for grid in ("census1km", "filosofi200m"):
        demand, pop = _gp_demand(paths, grid, monkeypatch, known_warnings)
        assert not demand.index.has_duplicates
        assert demand.reindex(pop.index).sum() == pytest.approx(pop.sum(), abs=0.5)
        totals[grid], pops[grid] = float(demand.sum()), float(pop.sum())
        print(grid, "grid population", round(pop.sum()), "total demand", round(totals[grid]))
    assert abs(totals["filosofi200m"] - totals["census1km"]) < 0.1 * pops["census1km"]
