"""The roads context layer: hand-made networks, the Maurienne's roads, and Chromium.

The hand-made cases have answers worked out by hand (lengths of straight segments in
Lambert-93, a clip at a known margin); the Maurienne checks name the roads a reader of
the valley knows (the A43 motorway and the D1006, the former N6, along the Arc); the
browser test draws the access map in Chromium with the OpenStreetMap background off and
checks that the roads are there and under the cells.
"""

from __future__ import annotations

import re
import warnings

import folium
import geopandas as gpd
import pytest
import shapely

from accessibility.core import columns as C
from accessibility.core.errors import SnapWarning
from accessibility.network.graph import RoadNetwork
from accessibility.outputs.maps import access_map, save_map
from accessibility.outputs.maps.roads import (
    LAYER_NAME,
    PANE,
    PANE_Z_INDEX,
    add_roads,
    draw_roads,
    road_lines,
)

X0, Y0 = 960_000.0, 6_470_000.0  # Lambert-93, in the Maurienne


def _network(links: list[tuple[int, int, str, str, bool]],
             xy: list[tuple[float, float]]) -> RoadNetwork:
    """Nodes at ``xy`` (metres from X0, Y0); ``links`` = (u, v, class, ref, two_way)."""
    pts = [(X0 + x, Y0 + y) for x, y in xy]
    nodes = gpd.GeoDataFrame({"x": [p[0] for p in pts], "y": [p[1] for p in pts]},
                             geometry=[shapely.Point(p) for p in pts], crs=2154)
    nodes.index.name = C.NODE_ID
    rows = []
    for u, v, cls, ref, two_way in links:
        for a, b in ((u, v), (v, u)) if two_way else ((u, v),):
            line = shapely.LineString([pts[a], pts[b]])
            rows.append({C.U: a, C.V: b, C.LENGTH_M: line.length, C.SPEED_KPH: 50.0,
                         C.TRAVEL_TIME_S: line.length / (50 / 3.6), C.ROAD_CLASS: cls,
                         "ref": ref, "geometry": line})
    return RoadNetwork(nodes, gpd.GeoDataFrame(rows, geometry="geometry", crs=2154))


XY = [(0, 0), (1000, 0), (2000, 0), (0, 1000), (2000, 1000), (100_000, 0)]


def _area() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)], crs=2154)


def _lengths(roads: gpd.GeoDataFrame) -> dict[tuple[str, str], float]:
    metric = roads.to_crs(2154)
    return {(t, r): g.length for t, r, g in zip(metric["tier"], metric["ref"].fillna(""),
                                                  metric.geometry, strict=True)}


def test_one_line_per_road_two_way_once_local_streets_out_and_clipped():
    net = _network([(0, 1, "autoroute", "A1", True), (1, 2, "autoroute", "A1", True),
                    (0, 3, "departementale", "D5", False), (2, 4, "departementale", "D7", True),
                    (2, 5, "departementale", "D9", True)], XY)
    roads = road_lines(net, _area(), margin_m=5000)
    assert roads.crs.to_epsg() == 4326
    got = _lengths(roads)
    assert set(got) == {("autoroute", "A1"), ("departementale", "D5"),
                        ("departementale", "D7"), ("departementale", "D9")}
    # A1: two segments of 1 km joined, each once although two-way
    assert got[("autoroute", "A1")] == pytest.approx(2000, abs=5)
    assert roads.loc[roads["ref"] == "A1"].geometry.iloc[0].geom_type == "LineString"
    assert got[("departementale", "D5")] == pytest.approx(1000, abs=5)
    # D9 runs 98 km east; kept up to the margin: x from 2 000 to 2 000 + 5 000 m
    assert got[("departementale", "D9")] == pytest.approx(5000, abs=5)
    # main roads last (drawn on top), labels in French
    assert list(roads["tier"])[-1] == "autoroute"
    assert set(roads["label_fr"]) == {"Autoroute", "Route départementale"}


def test_osm_classes_grouped_and_local_streets_left_out():
    net = _network([(0, 1, "motorway", "A1", False), (1, 2, "primary", "N1", True),
                    (2, 4, "residential", "", True), (0, 3, "tertiary", "", True)], XY)
    roads = road_lines(net)
    assert sorted(roads["tier"]) == ["autoroute", "departementale", "nationale"]
    labels = dict(zip(roads["tier"], roads["label_fr"], strict=True))
    assert labels == {"autoroute": "Autoroute", "nationale": "Route nationale ou principale",
                      "departementale": "Route secondaire"}
    assert roads.loc[roads["tier"] == "departementale", "ref"].isna().all()


def test_folium_layer_in_its_pane_named_routes_and_escaped():
    hostile = "<img src=x onerror=alert(1)>`${alert(2)}`"
    net = _network([(0, 1, "autoroute", hostile, True), (1, 2, "nationale", "N6", True)], XY)
    roads = road_lines(net)
    m = folium.Map(tiles=None)
    fg = add_roads(m, roads)
    folium.LayerControl().add_to(m)
    page = m.get_root().render()
    assert fg.layer_name == LAYER_NAME
    assert f'"{LAYER_NAME}"' in page  # in the layer switcher
    assert re.search(rf'createPane\(\s*"{PANE}"\);\s*\S+\.style\.zIndex = {PANE_Z_INDEX};', page)
    assert re.search(rf'"pane":\s*"{PANE}"', page)  # the roads' GeoJSON option
    assert "Route nationale" in page and "Autoroute" in page  # legend
    assert hostile not in page and "<img src=x" not in page


def test_report_drawing_returns_the_legend_of_the_tiers_drawn():
    from matplotlib.figure import Figure

    net = _network([(0, 1, "autoroute", "A1", True), (0, 3, "departementale", "D5", True)], XY)
    ax = Figure().add_subplot()
    legend = draw_roads(ax, road_lines(net), 2154)
    assert [h.get_label() for h in legend] == ["Autoroute", "Route départementale"]
    assert legend[0].get_linewidth() > legend[1].get_linewidth()  # motorway drawn wider
    assert draw_roads(ax, None, 2154) == []


# --- the Maurienne ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def maurienne_roads(maurienne_study):
    return road_lines(maurienne_study.network, maurienne_study.layers.communes)


@pytest.mark.integration
def test_maurienne_main_roads(maurienne_study, maurienne_roads):
    roads = maurienne_roads.to_crs(2154)
    by_ref = roads.set_index("ref")
    # Travel Mapping names the valley road by its current number: the N6 became the
    # D1006 in Savoie (2006); the motorway is the A43 (Autoroute de la Maurienne)
    assert by_ref.loc["A43", "tier"] == "autoroute"
    assert by_ref.loc["D1006", "tier"] == "departementale"
    assert "N6" not in by_ref.index
    # both run the length of the valley: Aiton to Modane is about 70 km by the A43
    assert by_ref.loc["A43"].geometry.length > 60_000
    assert by_ref.loc["D1006"].geometry.length > 80_000
    # and through Saint-Jean-de-Maurienne (73248): its town hall within 1.5 km of both
    communes = maurienne_study.layers.communes.to_crs(2154)
    sjm = communes.loc[communes[C.COMMUNE_CODE] == "73248"].geometry.iloc[0]
    for ref in ("A43", "D1006"):
        assert by_ref.loc[ref].geometry.distance(sjm) < 1_500
    # small: a few hundred lines, well under the cells' weight in a page
    assert len(maurienne_roads) < 400
    assert len(maurienne_roads.to_json()) < 150_000


@pytest.mark.integration
def test_roads_under_the_cells_in_chromium(maurienne_diagnostic, maurienne_roads, browser,
                                           tmp_path):
    ctx, blocked = browser
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        m = access_map(maurienne_diagnostic, categories=["france_services"],
                       roads=maurienne_roads)
    path = save_map(m, tmp_path / "acces.html")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector(f".leaflet-{PANE}-pane path", timeout=15_000)
    # the background is off: no tile requested, none shown
    assert page.locator(".leaflet-tile").count() == 0
    n_roads = page.locator(f".leaflet-{PANE}-pane path").count()
    assert n_roads == len(maurienne_roads)
    z = page.evaluate(
        f"""() => [getComputedStyle(document.querySelector('.leaflet-{PANE}-pane')).zIndex,
                   getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"""
    )
    assert int(z[0]) < int(z[1])
    # where a road crosses a cell, the cell is what the reader sees (and clicks) first
    stacks = page.evaluate(_STACKS_JS, PANE)
    crossing = [s for s in stacks if "road" in s and "overlay" in s]
    assert len(crossing) >= 20
    assert all(s.index("overlay") < s.index("road") for s in crossing)
    # the layer switcher has « Routes », on; switching it off hides them, on again
    # puts them back under the cells
    box = page.locator(".leaflet-control-layers-overlays label", has_text=LAYER_NAME)
    assert box.locator("input").is_checked()
    page.locator(".leaflet-control-layers").hover()
    box.locator("input").uncheck()
    assert page.locator(f".leaflet-{PANE}-pane path").count() == 0
    assert page.locator(".atlas-roads:visible").count() == 0
    box.locator("input").check()
    assert page.locator(f".leaflet-{PANE}-pane path").count() == n_roads
    assert page.locator(".atlas-roads:visible", has_text="Autoroute").count() == 1
    page.screenshot(path=str(tmp_path / "roads.png"))
    page.close()
    assert errors == [] and blocked == []


#: For sample points along each road path: what lies at that point of the screen, top
#: first ("overlay": a data path, "road": a road path).
_STACKS_JS = """(pane) => {
  const out = [];
  for (const p of document.querySelectorAll(`.leaflet-${pane}-pane path`)) {
    const n = p.getTotalLength(), ctm = p.getScreenCTM();
    for (let i = 1; i < 10; i++) {
      const q = p.getPointAtLength(n * i / 10);
      const x = ctm.a * q.x + ctm.c * q.y + ctm.e, y = ctm.b * q.x + ctm.d * q.y + ctm.f;
      if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
      out.push(document.elementsFromPoint(x, y).map(e =>
        e.closest(`.leaflet-${pane}-pane`) ? 'road'
        : e.closest('.leaflet-overlay-pane') && e.tagName === 'path' ? 'overlay' : 'other'));
    }
  }
  return out;
}"""


def test_road_lines_needs_a_crs_for_its_area():
    net = _network([(0, 1, "autoroute", "A1", True)], XY)
    area = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(Exception, match="CRS|crs"):
        road_lines(net, area)


def test_empty_selection_gives_an_empty_layer():
    net = _network([(2, 4, "residential", "", True)], XY)
    roads = road_lines(net)
    assert roads.empty and roads.crs.to_epsg() == 4326
    m = folium.Map(tiles=None)
    add_roads(m, roads)  # no legend, no error
    page = m.get_root().render()
    assert "atlas-roads" not in page  # no legend for no road
