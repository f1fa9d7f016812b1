"""Validation checks on hand-made inputs whose answers are worked out by hand.

Coarse vs full errors on a pair of straight-road networks, well-known routes on a tiny
network, the population far from a single road, the national shares and summary.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box
from tt_grid import CRS, X0, Y0, make_network

from accessibility.core.errors import DataError
from accessibility.inputs.territory import load_territory
from accessibility.outputs.validation_report import reliability
from accessibility.validation.compare import (
    band_of,
    coarse_territory,
    compare_networks,
    has_full_network,
    heldout_summary,
    read_heldout,
    weighted_median,
)
from accessibility.validation.coverage import (
    commune_coverage,
    departement_coverage,
    far_cells,
    far_population,
)
from accessibility.validation.national import national_summary, shares_within
from accessibility.validation.routes import compare_routes, load_routes

# --- coarse vs full ---
# One straight road east of a service at x = 0. Full network: nodes at 0, 3, 8, 25, 60 km,
# 60 km/h (1 min per km). Coarse network: nodes at 0, 8, 25, 60 km, 30 km/h up to 8 km
# (2 min per km) and 120 km/h beyond (0.5 min per km). Cells sit on the road at 0, 3, 8,
# 25 and 60 km with 100 ... 500 inhabitants:
#   full   0, 3, 8, 25, 60 min
#   coarse 0, 6, 16, 16 + 8.5 = 24.5, 16 + 26 = 42 min
#   error  0, +3, +8, -0.5, -18 min
KM = (0.0, 3.0, 8.0, 25.0, 60.0)
POP = (100.0, 200.0, 300.0, 400.0, 500.0)


def _line(kms: tuple[float, ...], speeds: list[float]):
    xy = [(X0 + 1000 * k, Y0) for k in kms]
    arcs = [(i, i + 1) for i in range(len(kms) - 1)]
    net = make_network(xy, arcs + [(b, a) for a, b in arcs])
    e = net.edges
    kph = np.array(speeds + speeds)
    e["speed_kph"] = kph
    e["travel_time_s"] = e["length_m"] / (kph / 3.6)
    return net


def _cells(kms=KM, pops=POP, dy=0.0, communes=None):
    x = np.array([X0 + 1000 * k for k in kms])
    y = np.full(len(kms), Y0 + dy) if np.isscalar(dy) else Y0 + np.asarray(dy)
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"c{i}" for i in range(len(x))],
            "commune_code": communes or ["73001"] * len(x),
            "pop_total": list(pops),
            "x": x,
            "y": y,
        },
        geometry=[box(a - 500, b - 500, a + 500, b + 500) for a, b in zip(x, y, strict=True)],
        crs=CRS,
    )


def _services():
    return gpd.GeoDataFrame(
        {"service_id": ["s0"], "category": ["france_services"]},
        geometry=[Point(X0, Y0)],
        crs=CRS,
    )


@pytest.fixture(scope="module")
def comparison():
    full = _line(KM, [60.0] * 4)
    coarse = _line((0.0, 8.0, 25.0, 60.0), [30.0, 120.0, 120.0])
    return compare_networks(full, coarse, _cells(), _services(), categories=["france_services"])


def test_paired_times_match_the_hand_computed_ones(comparison):
    t = comparison.times
    assert t["full_min"].to_numpy() == pytest.approx([0, 3, 8, 25, 60], abs=1e-6)
    assert t["coarse_min"].to_numpy() == pytest.approx([0, 6, 16, 24.5, 42], abs=1e-6)
    assert list(t["band"].astype(str)) == ["0-5", "0-5", "5-10", "20-30", ">45"]


def test_errors_by_band_are_population_weighted(comparison):
    b = comparison.by_band.set_index("band")
    assert list(b.index) == ["0-5", "5-10", "20-30", ">45", "all"]
    # 0-5: errors 0 (100 people) and +3 (200): mean 600 / 300 = 2 min, 600 / 600 = +100 %
    assert b.loc["0-5", "mean_signed_error_min"] == pytest.approx(2.0)
    assert b.loc["0-5", "mean_signed_error_pct"] == pytest.approx(100.0)
    assert b.loc["0-5", "median_abs_error_min"] == pytest.approx(3.0)  # 200 of 300 people
    assert b.loc["0-5", "population"] == 300
    assert b.loc["20-30", "mean_signed_error_pct"] == pytest.approx(-2.0)
    assert b.loc[">45", "mean_signed_error_pct"] == pytest.approx(-30.0)
    # all: (600 + 2400 - 200 - 9000) / 1500 min; / (600 + 2400 + 10000 + 30000) people-min
    assert b.loc["all", "mean_signed_error_min"] == pytest.approx(-6200 / 1500)
    assert b.loc["all", "mean_signed_error_pct"] == pytest.approx(-620000 / 43000)
    c = comparison.by_category.set_index("category")
    assert c.loc["france_services", "mean_signed_error_min"] == pytest.approx(-6200 / 1500)


def test_weighted_median_and_bands():
    assert weighted_median(np.array([1.0, 2.0, 10.0]), np.array([1.0, 1.0, 5.0])) == 10.0
    assert np.isnan(weighted_median(np.array([]), np.array([])))
    bands = band_of([0, 4.99, 5, 44.9, 45, np.nan])
    assert list(bands[:5]) == ["0-5", "0-5", "5-10", "30-45", ">45"]
    assert pd.isna(bands[5])


def test_unreached_pairs_are_counted_not_averaged():
    full = _line(KM, [60.0] * 4)
    # coarse: the service's road (0-8 km) and a road cut off from it (20-30 km)
    xy = [(X0 + 1000 * k, Y0) for k in (0.0, 8.0, 20.0, 30.0)]
    coarse = make_network(xy, [(0, 1), (1, 0), (2, 3), (3, 2)])
    cells = _cells(kms=(3.0, 25.0), pops=(10.0, 20.0))
    comp = compare_networks(full, coarse, cells, _services(), categories=["france_services"])
    row = comp.by_band.set_index("band").loc["all"]
    assert row["unreached_population"] == 20
    assert row["population"] == 10
    assert row["mean_signed_error_min"] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(DataError, match="none of the categories"):
        compare_networks(full, coarse, cells, _services(), categories=["hospital"])


def test_coarse_variant_of_corsica_uses_travel_mapping(paths):
    corse = load_territory("corse", paths)
    assert has_full_network(corse)
    coarse = coarse_territory(corse)
    assert coarse.sources["network"]["reader"] == "travelmapping"
    assert not has_full_network(coarse)
    assert corse.sources["network"]["reader"] == "lines"  # the original is untouched
    assert not has_full_network(load_territory("maurienne", paths))


def test_heldout_file_absent_or_bad(tmp_path):
    assert read_heldout(tmp_path / "none.csv") is None
    bad = tmp_path / "h.csv"
    bad.write_text("region,band\n", encoding="utf-8")
    with pytest.raises(DataError, match="h.csv: no rows"):
        read_heldout(bad)
    bad.write_text("region,band,median_abs_error_min\nGRE,0-5,0.7\n", encoding="utf-8")
    assert read_heldout(bad).loc[0, "median_abs_error_min"] == 0.7


HELDOUT_CSV = (
    "region,model,statistic,band,n,mean_signed_pct,median_abs_min,beyond_min,diff_pts,"
    "tolerance_pts\n"
) + """GRE,today,band,0-5,10,50.0,3.0,,,
GRE,heldout,band,0-5,10,8.0,0.6,,,
GRE,heldout,band,0-10,20,1.0,0.7,,,
GRE,heldout,band,>45,0,,,,,
LMG,heldout,band,0-5,12,24.0,0.8,,,
LMG,heldout,band,20-30,5,-11.5,2.5,,,
pooled,heldout,band,0-5,22,15.0,0.7,,,
GRE,heldout,share,,,,,5,-3.4,3.0
LMG,heldout,share,,,,,5,8.9,3.0
"""


def test_heldout_summary_keeps_the_heldout_bands(tmp_path):
    f = tmp_path / "heldout.csv"
    f.write_text(HELDOUT_CSV, encoding="utf-8")
    h = heldout_summary(read_heldout(f))
    # the "today" row, the aggregate band 0-10 and the empty >45 band are left out
    assert list(h.signed_pct.index) == ["0-5", "20-30"]
    assert h.signed_pct.loc["0-5", "GRE"] == 8.0
    assert h.median_abs_min.loc["20-30", "LMG"] == 2.5
    assert np.isnan(h.signed_pct.loc["20-30", "GRE"])
    assert h.share_diff_pts.loc[5, "LMG"] == 8.9
    assert h.share_diff_pts.loc[5, "tolerance"] == 3.0
    r = reliability(heldout=read_heldout(f))
    assert r["band_pct"] == (-11.5, 24.0)
    assert "sur les 2 régions de contrôle" in r["text"]  # "pooled" is no region
    assert "de \u221212 % à +24 %" in r["text"]  # -11.5 rounded half to even
    assert heldout_summary(pd.DataFrame({"region": ["A"], "x": [1]})) is None


# --- well-known routes ---

TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def _lonlat(x: float, y: float) -> str:
    lon, lat = TO_LONLAT.transform(x, y)
    return f"[{lon:.7f}, {lat:.7f}]"


def _routes_file(tmp_path, extra: str = "") -> str:
    # a 10 km road east from (X0, Y0); the route is published as 12.5 km
    text = f"""
[[route]]
name = "Test road"
from = "A"
to = "B"
from_lonlat = {_lonlat(X0, Y0)}
to_lonlat = {_lonlat(X0 + 10_000, Y0)}
published_km = 12.5
source = "https://example.org/a-b"
measures = "road length"
coordinates = "hand-made"

[[route]]
name = "Far away"
from = "C"
to = "D"
from_lonlat = [2.35, 48.85]
to_lonlat = [2.36, 48.86]
published_km = 1
source = "https://example.org/c-d"
measures = "road length"
coordinates = "Paris"
{extra}"""
    f = tmp_path / "routes.toml"
    f.write_text(text, encoding="utf-8")
    return str(f)


def test_routes_against_a_tiny_network(tmp_path):
    net = _line((0.0, 4.0, 10.0), [60.0, 60.0])
    table = compare_routes(net, load_routes(_routes_file(tmp_path))).set_index("name")
    r = table.loc["Test road"]
    assert r["status"] == "ok"
    assert r["model_km"] == pytest.approx(10.0, abs=1e-3)
    assert r["difference_pct"] == pytest.approx(-20.0, abs=0.01)
    assert r["model_min"] == pytest.approx(10.0, abs=1e-3)
    assert table.loc["Far away", "status"] == "off network"
    assert np.isnan(table.loc["Far away", "model_km"])


GOOD_ENTRY = {
    "name": '"x"', "from": '"a"', "to": '"b"', "from_lonlat": "[1, 45]",
    "to_lonlat": "[1.1, 45]", "published_km": "3", "source": '"https://e.org/x"',
    "measures": '"m"', "coordinates": '"c"',
}


def _entry(**change: str | None) -> str:
    fields = {**GOOD_ENTRY, **change}
    return "[[route]]\n" + "\n".join(f"{k} = {v}" for k, v in fields.items() if v is not None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_entry(), None),
        (_entry(**{"from": None}), r"#3 \.from: required key is missing"),
        (_entry(source='"example.org"'), r"#3 \.source: expected to match pattern"),
        (_entry(from_lonlat="[200, 1]"), r"#3 \.from_lonlat: expected a \[lon, lat\] pair"),
        (_entry(published_km="-1"), r"#3 \.published_km: "),
        (_entry(published_km='"3 km"'), r"#3 \.published_km: "),
    ],
)
def test_bad_route_entries_name_the_file_and_field(tmp_path, extra, message):
    file = _routes_file(tmp_path, extra)
    if message is None:  # the well-formed entry loads
        assert load_routes(file)[2].published_km == 3.0
        return
    with pytest.raises(DataError, match=r"routes\.toml: \[\[route\]\] .*" + message):
        load_routes(file)


def test_shipped_route_list_is_cited():
    routes = load_routes()
    assert len(routes) >= 8
    assert all(r.source.startswith("https://") or r.source.startswith("http://") for r in routes)
    names = {r.name for r in routes}
    assert "Col du Galibier depuis Saint-Michel-de-Maurienne" in names


# --- population far from the network ---


def test_far_population_on_a_hand_made_grid():
    # one road along y = Y0; cells 0, 500, 1500 and 2500 m north of it
    net = _line((0.0, 10.0), [60.0])
    cells = _cells(kms=(1.0, 2.0, 3.0, 4.0), pops=(10, 20, 30, 40),
                   dy=[0.0, 500.0, 1500.0, 2500.0], communes=["A", "A", "B", "B"])
    communes = pd.DataFrame({"commune_code": ["A", "B"], "commune_name": ["Aa", "Bb"]})
    t = commune_coverage(net, cells, communes).set_index("commune_code")
    assert list(t.index) == ["B", "A"]  # the farthest first
    assert t.loc["B", "population"] == 70
    assert t.loc["B", "population_beyond_1km"] == 70
    assert t.loc["B", "population_beyond_2km"] == 40
    assert t.loc["B", "share_beyond_2km"] == pytest.approx(40 / 70)
    assert t.loc["A", "population_beyond_1km"] == 0
    assert t.loc["B", "commune_name"] == "Bb"
    far = far_cells(net, cells)
    assert list(far["cell_id"]) == ["c2", "c3"]
    assert far["distance_to_network_m"].to_numpy() == pytest.approx([1500, 2500])


def test_departement_coverage_adds_france():
    cells = pd.DataFrame({"pop": [10.0, 30.0, 60.0], "departement": ["73", "73", "2A"],
                          "distance_m": [100.0, 1200.0, 2500.0]})
    t = departement_coverage(cells).set_index("departement")
    assert t.loc["73", "population_beyond_1km"] == 30
    assert t.loc["2A", "population_beyond_2km"] == 60
    assert t.loc["France", "share_beyond_1km"] == pytest.approx(0.9)
    with pytest.raises(DataError, match="same length"):
        far_population([1.0], [1.0, 2.0], ["a"])


# --- national ---


def test_shares_within_and_summary():
    minutes = np.array([5.0, 20.0, 25.0, np.inf])
    pop = np.array([50.0, 20.0, 20.0, 10.0])
    assert shares_within(minutes, pop) == {20.0: pytest.approx(0.7), 30.0: pytest.approx(0.9)}
    with pytest.raises(DataError, match="sums to zero"):
        shares_within(minutes, np.zeros(4))
    cells = pd.DataFrame({"minutes": minutes, "pop": pop,
                          "departement": ["73", "73", "2A", "2B"],
                          "distance_m": [0.0, 100.0, 200.0, 300.0]})
    s = national_summary(cells).set_index("area")
    assert list(s.index) == ["France", "mainland", "Corsica"]
    assert s.loc["France", "share_within_20_min"] == pytest.approx(0.7)
    assert s.loc["France", "ministry_within_20_min"] == 0.92
    assert s.loc["mainland", "mean_min"] == pytest.approx((250 + 400) / 70)
    assert s.loc["Corsica", "share_within_30_min"] == pytest.approx(20 / 30)
    assert s.loc["Corsica", "unreached_population"] == 10


# --- the reliability paragraph ---


def test_reliability_text_carries_the_measured_band(comparison):
    routes = pd.DataFrame({"difference_pct": [-20.0, 5.0, np.nan]})
    far = pd.DataFrame({"population": [100.0, 300.0], "population_beyond_1km": [10.0, 30.0],
                        "population_beyond_2km": [0.0, 4.0]})
    r = reliability(comparison=comparison, routes=routes, communes_far=far)
    assert r["band_pct"] == pytest.approx((-30.0, 100.0))
    assert "de \u221230 % à +100 %" in r["text"]
    assert "Sur 2 itinéraires connus" in r["text"] and "de \u221220 % à +5 %" in r["text"]
    assert "40 habitants (10,0\u00a0%)" in r["text"]
    empty = reliability()
    assert "pas encore été mesurée" in empty["text"]


# --- the page, rendered from hand-made tables ---


def test_page_escapes_data_and_shows_the_heldout_table(tmp_path, paths):
    from accessibility.outputs.validation_report import Validation, write_validation

    f = tmp_path / "heldout.csv"
    f.write_text(HELDOUT_CSV, encoding="utf-8")
    routes = pd.DataFrame({
        "name": ["Col <script>alert(1)</script> $\\nocommand$"], "from": ["a"], "to": ["b"],
        "published_km": [10.0], "model_km": [12.0], "difference_km": [2.0],
        "difference_pct": [20.0], "model_min": [15.0], "snap_from_m": [3.0],
        "snap_to_m": [4.0], "status": ["ok"], "source": ["https://example.org/?a=1&b=2"],
        "measures": ["climb"],
    })
    far = pd.DataFrame({"commune_code": ["73001"], "commune_name": ["Aa & Bb"],
                        "population": [100.0], "population_beyond_1km": [10.0],
                        "population_beyond_2km": [1.0], "share_beyond_1km": [0.1],
                        "share_beyond_2km": [0.01]})
    v = Validation(territory=load_territory("maurienne", paths), population=100.0,
                   routes=routes, communes_far=far, coverage_network="Travel Mapping",
                   heldout=read_heldout(f))
    written = write_validation(v, html_dir=tmp_path / "maps", csv_dir=tmp_path / "out")
    html = written["html"].read_text(encoding="utf-8")
    assert "<script>alert" not in html and "Col &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="fig-routes"' in html  # the "$" did not start matplotlib's math mode
    assert 'href="https://example.org/?a=1&amp;b=2"' in html
    assert "Aa &amp; Bb" in html
    assert html.count("<tr><td>0-5</td>") == 1 and "+24,0&nbsp;% (0,8&nbsp;min)" in html
    assert "±3,0&nbsp;pt" in html
    assert set(written) == {"html", "validation_routes", "validation_far_population_communes",
                            "validation_calibration_heldout"}
    assert pd.read_csv(written["validation_routes"]).loc[0, "model_km"] == 12.0


def test_cell_density_looks_up_the_1km_cell():
    from accessibility.validation.national import cell_density

    # two populated cells (centres at +500 m), EPSG:3035
    cells = gpd.GeoDataFrame({"pop": [120.0, 7.0]},
                             geometry=[Point(4_000_500, 2_500_500), Point(4_001_500, 2_500_500)],
                             crs=3035)
    pts = gpd.GeoDataFrame(geometry=[Point(4_000_010, 2_500_990), Point(4_001_999, 2_500_001),
                                     Point(4_005_000, 2_500_500)], crs=3035)
    assert cell_density(cells, pts).tolist() == [120.0, 7.0, 0.0]
