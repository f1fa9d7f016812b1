"""Unit tests of accessibility.outputs.maps on tiny hand-made layers (rendered HTML, no browser)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from accessibility.core.errors import MissingColumnError
from accessibility.outputs.maps import (
    access_map,
    priority_map,
    render_offline,
    save_map,
    scenario_map,
    services_map,
    write_index,
)
from accessibility.outputs.maps._assets import asset_text, inline_assets
from accessibility.outputs.maps.atlas import TIME_COLORS, time_color

# Two 1 km communes side by side near Saint-Jean-de-Maurienne (Lambert-93), one cell each.
X0, Y0 = 965_000.0, 6_470_000.0
COMMUNES = gpd.GeoDataFrame(
    {
        "commune_code": ["73001", "73002"],
        "commune_name": ["Alpha", "Béta"],
        "epci_code": ["200000001", "200000001"],
        "epci_name": ["CC Test", "CC Test"],
        "population": [1200.0, 80.0],
        "time_france_services_min": [5.0, 42.0],
        "priority_score": [0.0, 4.0],
        "n_criteria": [0, 2],
        "reasons": ["", "France Services à 42 min (seuil 30 min) ; 31 % de 65 ans et plus"],
    },
    geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
    crs=2154,
)
CELLS = gpd.GeoDataFrame(
    {
        "cell_id": ["c1", "c2", "c3"],
        "commune_code": ["73001", "73002", "73002"],
        "pop_total": [1200.0, 60.0, 20.0],
        "time_france_services_min": [5.0, 42.0, np.nan],  # c3 unreachable
    },
    geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 500),
              box(X0 + 1000, Y0 + 500, X0 + 2000, Y0 + 1000)],
    crs=2154,
)
DIAG = SimpleNamespace(
    cells=CELLS,
    communes=COMMUNES,
    indicators=pd.DataFrame({
        "indicator": ["time_france_services_min"],
        "label_fr": ["Temps d'accès : France Services"],
        "threshold_min": [30.0],
        "threshold_policy": ["test"],
    }),
    priority=pd.DataFrame({"rank": [1], "commune_code": ["73002"], "priority_score": [4.0]}),
)
SERVICES = gpd.GeoDataFrame(
    {
        "service_id": ["fs:1", "h:1"],
        "category": ["france_services", "hospital"],
        "label": ["France Services d'Alpha", "Hôpital <Béta>"],
        "operator": ["Commune", None],
        "source": ["services/liste-fs-20240801.csv", "services/gisco_healthcare_FR.csv"],
        "vintage": ["2024-08", "2020-03"],
        "address": ["1 place de la Mairie", ""],
        "hours": ["lundi 9h-12h", None],
    },
    geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 500)],
    crs=2154,
)


def _page(m: folium.Map) -> str:
    """The rendered page with JSON's \\uXXXX escapes and the ``<\\/`` of template literals
    decoded (folium writes JSON and template literals)."""
    page = render_offline(m).replace("<\\/", "</")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda x: chr(int(x.group(1), 16)), page)


def test_time_colours_follow_the_class_edges():
    # classes [0,7) [7,15) [15,20) [20,30) [30,45) [45,60) [60,inf): 5 -> 1st, 7 -> 2nd,
    # 30 -> 5th (a threshold belongs to the class above it), 75 -> last; NaN -> grey.
    got = time_color([5.0, 7.0, 30.0, 75.0, np.nan])
    assert got[:4] == [TIME_COLORS[0], TIME_COLORS[1], TIME_COLORS[4], TIME_COLORS[6]]
    assert got[4] not in TIME_COLORS


def test_access_map_is_self_contained_and_has_legend_and_threshold():
    page = render_offline(access_map(DIAG, attribution="Sources : test 2024"))
    # no script or stylesheet fetched online (Leaflet's own "leafletjs.com" link is text)
    assert not re.search(r"""<(script|link)[^>]*(src|href)=["']https?:""", page)
    assert "L.map(" in page and "jQuery" in page  # Leaflet and jQuery are inlined
    assert "seuil : 30 min" in page
    assert "France Services : minutes en voiture" in page
    assert "Sources : test 2024" in page
    assert "Béta" in page and "inaccessible" in page  # commune name, NaN cell


def test_services_map_popup_fields_and_escaping():
    page = _page(services_map(SERVICES, COMMUNES))
    for alias in ("Adresse", "Horaires", "Gestionnaire", "Source", "Millésime"):
        assert alias in page
    # folium's popups insert values as HTML: names are escaped, never markup
    assert "Hôpital &lt;Béta&gt;" in page and "<Béta>" not in page
    assert "Limites des intercommunalités (EPCI)" in page


def test_priority_popup_has_rank_and_reasons():
    page = _page(priority_map(DIAG))
    assert "Rang : 1" in page
    assert "<li>31 % de 65 ans et plus</li>" in page
    assert "Non prioritaire" in page  # Alpha (score 0)


def test_functions_add_to_an_existing_map():
    m = folium.Map(tiles=None)
    assert access_map(DIAG, m=m) is m
    assert services_map(SERVICES, COMMUNES, m=m) is m
    names = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert "France Services" in names and any("Hôpital" in n for n in names)


def test_scenario_map_checks_its_input():
    with pytest.raises(MissingColumnError, match="time_after_min"):
        scenario_map(CELLS.assign(time_before_min=1.0), SERVICES, SERVICES)


def test_scenario_map_shows_gain(tmp_path):
    # synthetic "after": c2 goes from 42 to 12 min (gain 30 min, class "20 min et plus")
    cells = CELLS.assign(time_before_min=CELLS["time_france_services_min"],
                         time_after_min=[5.0, 12.0, np.nan])
    m = scenario_map(cells, SERVICES.iloc[:1], SERVICES.iloc[1:], communes=COMMUNES,
                     threshold_min=30)
    page = _page(m)
    assert '"gain": "30\u00a0min"' in page  # 42 - 12, French format (no-break space)
    assert "20 min et plus" in page and "seuil : 30 min" in page
    assert "Gain de temps d'accès (minutes)" in page
    out = save_map(m, tmp_path / "scenarios.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["scenarios.html"]  # no temp file left


def test_inline_assets_refuses_unknown_online_resources():
    with pytest.raises(ValueError, match="cdn.example.org"):
        inline_assets('<script src="https://cdn.example.org/x.js"></script>', {})


def test_leaflet_css_images_are_embedded():
    css = asset_text("leaflet_css")
    assert "url(images/" not in css and "data:image/png;base64," in css


def test_index_links_every_map(tmp_path):
    maps = {"acces": tmp_path / "acces.html", "priorites": tmp_path / "priorites.html"}
    page = write_index(maps, tmp_path, territory_name="Test").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+)"', page) == ["acces.html", "priorites.html"]
    assert "Communes prioritaires" in page


def test_element_ids_renumbered_by_hand():
    from accessibility.outputs.maps.pages import deterministic_ids

    a, b, sha = "a" * 32, "0123456789abcdef" * 2, "f" * 64
    page = f"var map_{a} = 1; map_{a}.x; function geo_json_{b}_styler() {{}} _{sha}"
    assert deterministic_ids(page) == (
        f"var map_{1:032x} = 1; map_{1:032x}.x; function geo_json_{2:032x}_styler() {{}} _{sha}"
    )


def test_same_map_same_bytes():
    assert render_offline(priority_map(DIAG)) == render_offline(priority_map(DIAG))
    assert render_offline(services_map(SERVICES, COMMUNES)) == render_offline(
        services_map(SERVICES, COMMUNES))


# --- what each map kind shows, shared by the atlas and the report ---------------------------


def test_priority_classes_by_hand():
    from accessibility.outputs.maps.kinds import priority_classes

    # top score 11: ceil(linspace(0, 11, 6)) = 0, 3, 5, 7, 9, 11 -> limits 3, 5, 7, 9, 11
    c = priority_classes([0, 2, 4, 11, float("nan")])
    assert c.index.tolist() == [0, 1, 2, 5, 0]
    assert c.labels == ("non prioritaire (0 point)", "1 à 3 points", "4 à 5 points",
                        "6 à 7 points", "8 à 9 points", "10 à 11 points")
    assert c.colors[0] == "#ffffff" and len(set(c.colors)) == 6


def test_time_classes_by_hand():
    from accessibility.outputs.maps.kinds import time_classes

    c = time_classes([5.0, 7.0, 30.0, 75.0, float("nan")])
    assert c.index.tolist() == [0, 1, 4, 6, -1]  # a threshold belongs to the class above
    assert c.labels[0] == "moins de 7\u00a0min" and c.labels[-1] == "60\u00a0min et plus"
    assert c.colors == TIME_COLORS


def test_service_styles_follow_the_categories_file():
    from accessibility.outputs.maps.kinds import CATEGORY_COLORS, service_order, service_styles

    order = service_order(["zzz", "hospital", "france_services", "hospital"],
                          ["france_services", "emergency", "hospital"])
    assert order == ["france_services", "hospital", "zzz"]
    assert service_styles(order) == {"france_services": (CATEGORY_COLORS[0], "o"),
                                     "hospital": (CATEGORY_COLORS[1], "P"),
                                     "zzz": (CATEGORY_COLORS[2], "s")}


def test_atlas_and_report_priority_maps_share_classes():
    from accessibility.outputs import report
    from accessibility.outputs.maps.kinds import priority_classes

    classes = priority_classes(COMMUNES["priority_score"])
    page = _page(priority_map(DIAG))
    assert all(label in page for label in classes.labels)
    fig = report.priority_map(COMMUNES, DIAG.priority)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["non prioritaire (0 point)", "4 points"]  # scores 0 and 4


def test_reliability_layer_lists_far_cells_hidden_at_first():
    far = CELLS.iloc[[1]].assign(distance_to_network_m=[1500.0])  # 60 people, 1.5 km out
    m = access_map(DIAG, far=far)
    page = _page(m)
    assert "Fiabilité : carreaux à plus de 1 km du réseau routier" in page
    assert "1,5\u00a0km" in page or "1,5 km" in page
    # hidden at first: the group is not added to the map until the switcher shows it
    names = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    far_group = [g for g in names if g.layer_name.startswith("Fiabilité")]
    assert len(far_group) == 1 and far_group[0].show is False
    # no far cell, no layer
    m2 = access_map(DIAG, far=far.iloc[0:0])
    assert "Fiabilité" not in _page(m2)
