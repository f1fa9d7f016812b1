"""National run: partition clipping, islands, summaries and the CLI's checks, on
hand-made inputs whose answers are worked out by hand."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

from accessibility.cli import main
from accessibility.core.errors import TerritoryError
from accessibility.national.exports import summaries
from accessibility.national.inputs import check_departements, departements_table_codes, island_of
from accessibility.national.partition import clip_network, on_island
from accessibility.national.run import NationalResult
from accessibility.network.graph import RoadNetwork

CRS = "EPSG:2154"


def _line_network(xs: list[float], *, closed_gap: bool = False) -> RoadNetwork:
    """Nodes along y = 0 at ``xs`` (metres), a two-way road between neighbours."""
    nodes = gpd.GeoDataFrame({"x": xs, "y": [0.0] * len(xs)},
                             geometry=[Point(x, 0) for x in xs], crs=CRS)
    rows = []
    for a in range(len(xs) - 1):
        for u, v in ((a, a + 1), (a + 1, a)):
            line = LineString([(xs[u], 0), (xs[v], 0)])
            rows.append({"u": u, "v": v, "length_m": line.length, "speed_kph": 36.0,
                         "travel_time_s": line.length / 10.0, "road_class": "departementale",
                         "geometry": line})
    edges = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)
    return RoadNetwork(nodes, edges, meta={"source": "hand-made"})


def test_clip_network_keeps_roads_with_both_ends_inside_and_renumbers():
    net = _line_network([0.0, 1000.0, 2000.0, 3000.0, 4000.0])
    clipped = clip_network(net, box(500, -10, 3500, 10))  # nodes 1, 2, 3
    assert clipped.n_nodes == 3
    assert list(clipped.nodes["x"]) == [1000.0, 2000.0, 3000.0]
    assert clipped.n_edges == 4  # 1-2 and 2-3, both ways
    assert sorted(zip(clipped.edges["u"], clipped.edges["v"], strict=True)) == [
        (0, 1), (1, 0), (1, 2), (2, 1)]
    assert clipped.edges["travel_time_s"].sum() == pytest.approx(4 * 100.0)


def test_clip_network_keeps_the_largest_connected_part():
    # nodes 0, 1 and 3, 4, 5 are inside, node 2 is not: two pieces, the larger kept
    net = _line_network([0.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0])
    area = box(-10, -10, 1500, 10).union(box(2500, -10, 5500, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the removed part is reported as a warning
        clipped = clip_network(net, area)
    assert list(clipped.nodes["x"]) == [3000.0, 4000.0, 5000.0]  # 3 nodes beat 2


def test_clip_network_with_no_road_inside_says_so():
    net = _line_network([0.0, 1000.0])
    with pytest.raises(TerritoryError, match="no road"):
        clip_network(net, box(5000, 5000, 6000, 6000))


def test_points_are_on_their_island_only():
    island = box(0, 0, 10_000, 10_000)
    inputs = SimpleNamespace(islands={"corsica": island})
    pts = gpd.GeoSeries([Point(5000, 5000), Point(14_000, 5000), Point(16_000, 5000),
                         Point(200_000, 0)], crs=CRS)
    # within 5 km of the island's land: on it; beyond: mainland
    assert list(on_island(inputs, "corsica", pts)) == [True, True, False, False]
    assert list(on_island(inputs, "mainland", pts)) == [False, False, True, True]


def test_island_of_and_departement_codes():
    assert island_of("2A") == island_of("2B") == "corsica"
    assert island_of("06") == island_of("73") == "mainland"
    codes = departements_table_codes()
    assert len(codes) == 96 and "20" not in codes and codes == tuple(sorted(codes))
    assert check_departements(["92", "75", "2a", "75"]) == ("2A", "75", "92")
    for bad in (["971"], ["20"], []):
        with pytest.raises(TerritoryError, match="--departements"):
            check_departements(bad)


def _result() -> NationalResult:
    """Two départements of one région; EPCI E1 spans both. Times and people by hand."""
    cells = gpd.GeoDataFrame({
        "departement": ["01", "01", "02", "02"],
        "cell_id": ["a", "b", "c", "d"],
        "commune_code": ["01001", "01002", "02001", "02002"],
        "pop_total": [100.0, 300.0, 200.0, 400.0],
        "pop_65plus": [10.0, 30.0, 20.0, 40.0],
        "pop_under15": [5.0, 5.0, 5.0, 5.0],
        "time_x_min": [10.0, 30.0, 40.0, np.nan],  # d reaches no service
    }, geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs=CRS)
    communes = gpd.GeoDataFrame({
        "departement": ["01", "01", "02", "02"],
        "commune_code": ["01001", "01002", "02001", "02002"],
        "epci_code": ["E1", "E2", "E1", "E3"],
        "epci_name": ["One", "Two", "One", "Three"],
    }, geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs=CRS)
    indicators = pd.DataFrame([{"indicator": "time_x_min", "label_fr": "X",
                                "threshold_min": 20.0, "threshold_policy": ""}])
    deps = pd.DataFrame({"departement": ["01", "02"], "departement_name": ["Ain", "Aisne"],
                         "region_code": ["84", "84"], "region_name": ["R", "R"]})
    return NationalResult(cells, communes, indicators, deps, pd.DataFrame(), [])


def test_summaries_by_departement_region_and_epci_by_hand():
    s = summaries(_result())
    dep = s["departement"].set_index("departement")
    # 01: (100*10 + 300*30) / 400 = 25; beyond 20 min: 300 people
    assert dep.loc["01", "mean_min"] == pytest.approx(25.0)
    assert dep.loc["01", "population_beyond"] == 300.0
    assert dep.loc["01", "departement_name"] == "Ain" and dep.loc["01", "region_name"] == "R"
    # 02: only c is reached (40 min); d (400 people) unreachable, counted beyond
    assert dep.loc["02", "mean_min"] == pytest.approx(40.0)
    assert dep.loc["02", "population_unreachable"] == 400.0
    assert dep.loc["02", "population_beyond"] == 600.0
    region = s["region"].set_index("region_code").loc["84"]
    assert region["mean_min"] == pytest.approx((1000 + 9000 + 8000) / 600)
    assert region["population"] == 1000.0
    # E1 spans both départements: cells a (10 min, 100) and c (40 min, 200)
    e1 = s["epci"].set_index("epci_code").loc["E1"]
    assert e1["mean_min"] == pytest.approx((100 * 10 + 200 * 40) / 300)
    assert e1["epci_name"] == "One"
    assert s["france"].iloc[0]["population_beyond"] == 300 + 200 + 400


def test_national_options_are_refused_outside_the_national_run():
    runner = CliRunner()
    r = runner.invoke(main, ["run", "--workers", "2"])
    assert r.exit_code == 2
    assert "--workers is an option of the national run" in r.output
    r = runner.invoke(main, ["run", "-t", "france", "--scenario", "winter"])
    assert r.exit_code == 2 and "not available for the national run" in r.output
    r = runner.invoke(main, ["run", "-t", "france", "--departements", "73,971"])
    assert r.exit_code == 2 and "971" in r.output
    r = runner.invoke(main, ["run", "-t", "france", "--serial", "--workers", "2"])
    assert r.exit_code == 2 and "--serial" in r.output


def test_atlas_tables_by_hand():
    from accessibility.national.exports import atlas_tables

    res = _result()
    cells = res.cells.rename(columns={"time_x_min": "time_france_services_min"})
    communes = res.communes.assign(priority_tier=["Priorité 1", "", "", "Priorité 1"])
    res = NationalResult(cells, communes, res.indicators, res.departements, res.partitions, [])
    deps, epcis, geometry = atlas_tables(res)
    d = deps.set_index("dep")
    assert d.loc["01", "nom"] == "Ain" and d.loc["01", "population"] == 400.0
    assert d.loc["01", "france_services_mean_min"] == pytest.approx(25.0)
    assert d.loc["01", "france_services_share_over_20"] == pytest.approx(300 / 400)
    assert d.loc["01", "france_services_share_over_30"] == 0.0  # 30 min is not over 30
    assert d.loc["02", "france_services_share_over_30"] == 1.0  # 40 min and unreachable
    assert d.loc["01", "priority_share"] == pytest.approx(100 / 400)
    assert d.loc["02", "priority_share"] == pytest.approx(400 / 600)
    e = epcis.set_index("epci")
    assert e.loc["E1", "dep"] == "02"  # 200 of its 300 people live in 02
    assert e.loc["E1", "france_services_mean_min"] == pytest.approx(30.0)
    assert list(geometry.columns) == ["dep", "epci", "geometry"] and len(geometry) == 4
