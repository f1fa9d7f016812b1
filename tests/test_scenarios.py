"""Tests of accessibility.planning.scenarios: closures, speed edits, links, services, comparison."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from accessibility.core import columns as C
from accessibility.engine.travel_times import nearest, node_times
from accessibility.network.graph import RoadNetwork
from accessibility.planning.scenarios import (
    ScenarioError,
    apply_scenario,
    apply_service_edits,
    load_scenario,
    parse_scenario,
)

CRS = "EPSG:2154"
X0, Y0 = 960_000.0, 6_470_000.0
TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)

# Hand-made network (km, every road 60 km/h so 1 km = 60 s):
#
#   6
#   |  D9 (dead-end spur)
#   0 --D1-- 1 --D1-- 2 --D2-- 3 (village: only road D2)
#            |        |
#            4 --D3-- 5        (D3: 1-4, 4-5, 5-2, a detour of 3 km)
XY = [(0, 0), (1, 0), (2, 0), (3, 0), (1, -1), (2, -1), (0, 1)]
ROADS = [(0, 1, "D1"), (1, 2, "D1"), (2, 3, "D2"), (1, 4, "D3"), (4, 5, "D3"), (5, 2, "D3"),
         (0, 6, "D9")]


def _xy(i: int) -> tuple[float, float]:
    return X0 + XY[i][0] * 1000.0, Y0 + XY[i][1] * 1000.0


def _lonlat(i: int) -> list[float]:
    return list(TO_LONLAT.transform(*_xy(i)))


def _network() -> RoadNetwork:
    pts = [_xy(i) for i in range(len(XY))]
    nodes = gpd.GeoDataFrame({"x": [p[0] for p in pts], "y": [p[1] for p in pts]},
                             geometry=[Point(p) for p in pts], crs=CRS)
    rows = []
    for a, b, ref in ROADS:
        for u, v in ((a, b), (b, a)):
            line = LineString([pts[u], pts[v]])
            rows.append({"u": u, "v": v, "length_m": line.length, "speed_kph": 60.0,
                         "travel_time_s": line.length / (60 / 3.6), "road_class": "departementale",
                         "ref": ref, "mountain": ref == "D3", "geometry": line})
    edges = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)
    return RoadNetwork(nodes, edges, meta={"source": "hand-made"})


def _closure(ref: str, a: int, b: int) -> dict:
    return {"ref": ref, "from": _lonlat(a), "to": _lonlat(b), "name": f"{ref} {a}-{b}"}


def _times_to_0(net: RoadNetwork) -> np.ndarray:
    return node_times(net, [0])[0]  # seconds from every node to node 0


def test_closing_a_road_on_no_shortest_path_changes_nothing():
    net = _network()
    sc = parse_scenario({"closure": [_closure("D9", 0, 6)]}, name="spur")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no warning expected; logging only
        edited = apply_scenario(net, sc)
    base, after = _times_to_0(net), _times_to_0(edited)
    # every node but 6 keeps its time; 6 (the spur's end) is cut off and reported
    assert np.array_equal(base[:6], after[:6])
    assert np.isinf(after[6])
    assert edited.meta["scenario"]["unreachable_nodes"] == [6]


def test_closing_the_only_road_to_a_village_makes_it_unreachable_and_reports_it():
    net = _network()
    sc = parse_scenario({"closure": [_closure("D2", 2, 3)]}, name="village")
    edited = apply_scenario(net, sc)
    assert edited.meta["scenario"]["unreachable_nodes"] == [3]
    assert edited.n_nodes == net.n_nodes  # the node is kept, not dropped
    # a home beside the village still snaps to the village node and gets no time (NaN)
    homes = gpd.GeoDataFrame({"id": ["village", "node5"]},
                             geometry=[Point(_xy(3)[0] - 10, _xy(3)[1]), Point(_xy(5))], crs=CRS)
    svc = gpd.GeoDataFrame({"sid": ["s0"]}, geometry=[Point(_xy(0))], crs=CRS)
    t = nearest(edited, homes, svc, origin_id="id", destination_id="sid").set_index(C.ORIGIN_ID)
    assert np.isnan(t.loc["village", C.TRAVEL_TIME_MIN])
    # node 5 -> 2 -> 1 -> 0 = 3 km = 3 min, unchanged
    assert t.loc["node5", C.TRAVEL_TIME_MIN] == pytest.approx(3.0)


def test_closing_a_section_forces_the_detour():
    net = _network()
    sc = parse_scenario({"closure": [_closure("D1", 1, 2)]}, name="detour")
    t = _times_to_0(apply_scenario(net, sc))
    # node 2 -> 5 -> 4 -> 1 -> 0: 4 km = 240 s (was 2 km = 120 s)
    assert t[2] == pytest.approx(240.0)
    assert t[3] == pytest.approx(300.0)


def test_speed_factor_and_kph_are_applied_exactly():
    net = _network()
    sc = parse_scenario(
        {"speed": [{"ref": "D1", "factor": 0.5}, {"mountain": True, "kph": 20}]}, name="slow"
    )
    edited = apply_scenario(net, sc)
    t = _times_to_0(edited)
    # D1 at 30 km/h: 1 km = 120 s; node 2 -> 0 = 240 s; D3 at 20 km/h: 1 km = 180 s
    assert t[1] == pytest.approx(120.0)
    assert t[2] == pytest.approx(240.0)
    assert t[4] == pytest.approx(180.0 + 120.0)
    e = edited.edges
    assert set(e.loc[e["ref"] == "D3", C.SPEED_KPH]) == {20.0}
    assert set(e.loc[e["ref"] == "D9", C.SPEED_KPH]) == {60.0}


def test_added_link():
    net = _network()
    sc = parse_scenario({"link": [{"from": _lonlat(3), "to": _lonlat(5),
                                   "road_class": "departementale", "speed_kph": 60}],
                         "closure": [_closure("D2", 2, 3)]}, name="link")
    edited = apply_scenario(net, sc)
    # 3 -> 5 (sqrt 2 km = 84.85 s) -> 2 -> 1 -> 0 (3 km = 180 s)
    assert _times_to_0(edited)[3] == pytest.approx(1000 * 2**0.5 / (60 / 3.6) + 180.0, rel=1e-6)
    assert edited.meta["scenario"]["unreachable_nodes"] == []


def test_scenario_never_changes_the_base_network():
    net = _network()
    before = net.edges.copy()
    apply_scenario(net, parse_scenario({"closure": [_closure("D1", 1, 2)],
                                        "speed": [{"road_class": "departementale",
                                                   "factor": 0.9}]}, name="x"))
    pd.testing.assert_frame_equal(net.edges, before)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"closure": [{"ref": "D77", "from": "A", "to": "B"}]}, "no edge .* ref 'D77'"),
        ({"speed": [{"road_class": "autoroute", "factor": 0.5}]}, "matched no open edge"),
        ({"speed": [{"min_altitude_m": 1000, "factor": 0.5}]}, "no elevation"),
        ({"closure": [{"ref": "D1", "from": [0.0, 0.0], "to": "x"}]}, "from the route"),
    ],
)
def test_an_edit_that_matches_nothing_raises_naming_it(raw, needle, tmp_path):
    f = tmp_path / "bad.toml"
    sc = parse_scenario(raw, name="bad", file=f)
    with pytest.raises(ScenarioError, match=needle) as err:
        apply_scenario(_network(), sc)
    assert "bad.toml" in str(err.value) and "#1" in str(err.value)


def test_malformed_entries_are_rejected():
    with pytest.raises(ScenarioError, match="exactly one of factor or kph"):
        parse_scenario({"speed": [{"ref": "D1"}]}, name="x")
    with pytest.raises(ScenarioError, match="unknown key"):
        parse_scenario({"closure": [{"ref": "D1", "from": "a", "to": "b", "speed": 3}]}, name="x")
    with pytest.raises(ScenarioError, match="shipped scenarios"):
        load_scenario("no-such-season")


def test_service_edits():
    gp = ["general_practitioner"] * 2
    svc = gpd.GeoDataFrame({C.SERVICE_ID: ["a", "b"], C.CATEGORY: gp, C.COUNT: [1, 1]},
                           geometry=[Point(_xy(0)), Point(_xy(1))], crs=CRS)
    sc = parse_scenario({"service": [
        {"action": "close", "service_id": "a"},
        {"action": "add", "service_id": "resort-doctor", "category": "general_practitioner",
         "lon": _lonlat(3)[0], "lat": _lonlat(3)[1]},
    ]}, name="s")
    out = apply_service_edits(svc, sc)
    assert list(out[C.SERVICE_ID]) == ["b", "resort-doctor"]
    assert out.geometry.iloc[1].distance(Point(_xy(3))) < 0.01
    assert len(svc) == 2
    bad = parse_scenario({"service": [{"action": "remove", "service_id": "zzz"}]}, name="s")
    with pytest.raises(ScenarioError, match="zzz"):
        apply_service_edits(svc, bad)
    # in France's extent but 200+ km out at sea (Bay of Biscay): a typo, not a service
    at_sea = parse_scenario({"service": [{"action": "add", "service_id": "x", "lon": -3.0,
                                          "lat": 44.0, "category": "pharmacy"}]}, name="s")
    with pytest.raises(ScenarioError, match=r"#1: the added service lies \d+ km from every"):
        apply_service_edits(svc, at_sea)


def test_shipped_scenarios_parse():
    w, s = load_scenario("winter"), load_scenario("summer")
    refs = {c.ref for c in w.closures}
    assert {"D902", "D926", "D927", "D213", "D1006"} <= refs
    assert all(c.source and c.usual_dates for c in w.closures)
    assert not (s.closures or s.speeds or s.links)


# --------------------------------------------------------------------------------------
# integration: the Maurienne
# --------------------------------------------------------------------------------------


def _cache_hash(net: RoadNetwork) -> str:
    h = hashlib.sha256()
    for f in sorted(Path(net.meta["cache"]).glob("*")):
        h.update(f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def winter(maurienne_study):
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.planning.scenarios import scenario_study

    base_edges = maurienne_study.network.edges.copy()
    cache_hash = _cache_hash(maurienne_study.network)
    study = scenario_study(maurienne_study, load_scenario("winter"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diag = run_diagnostic(study)
    return study, diag, base_edges, cache_hash


@pytest.mark.integration
def test_winter_leaves_base_network_and_cache_untouched(maurienne_study, winter):
    _, _, base_edges, cache_hash = winter
    pd.testing.assert_frame_equal(maurienne_study.network.edges, base_edges)
    assert _cache_hash(maurienne_study.network) == cache_hash


@pytest.mark.integration
def test_winter_closes_the_passes_but_not_the_telegraphe(maurienne_study, winter):
    from accessibility.planning.scenarios import closed_edges

    study = winter[0]
    gone = closed_edges(maurienne_study.network, study.network)
    assert set(gone["ref"]) == {"D902", "D926", "D927", "D213", "D1006"}
    # Valloire (only reached over the Télégraphe) keeps a finite time to everything
    assert len(study.network.meta["scenario"]["unreachable_nodes"]) < 100


@pytest.mark.integration
def test_winter_times_never_decrease_and_some_increase(maurienne_diagnostic, winter):
    from accessibility.planning.scenarios import compare

    dw = winter[1]
    ds = maurienne_diagnostic
    cols = [c for c in ds.cells.columns if c.startswith(("time_", "gamme_")) and c.endswith("_min")]
    a = ds.cells.set_index(C.CELL_ID)[cols]
    b = dw.cells.set_index(C.CELL_ID)[cols].reindex(a.index)
    av, bv = a.to_numpy(float), b.to_numpy(float)
    both = np.isfinite(av) & np.isfinite(bv)
    # closures may cut a cell off (finite -> NaN), never connect one (NaN -> finite)
    assert not (np.isnan(av) & np.isfinite(bv)).any(), "a cell gains a route in winter"
    assert (bv[both] >= av[both] - 1e-6).all(), "a winter time is shorter than in summer"
    c = compare(ds, dw)
    communes = c[c["level"] == "commune"]
    up = communes.groupby("name")["change_min"].max()
    assert (up > 0).any()
    for name in ("Bonneval-sur-Arc", "Bessans", "Valloire"):
        assert up[name] > 0
    assert set(c["level"]) == {"commune", "epci"}
