"""The national atlas page on hand-made summary tables: classes, links, escaping, and the
page rendered in headless Chromium, offline (the ``browser`` fixture of conftest)."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from accessibility.core.errors import DataError
from accessibility.outputs.maps.kinds import TIME_COLORS
from accessibility.outputs.maps.national import (
    NO_DATA_COLOR,
    SHARE_COLORS,
    indicator_classes,
    national_atlas,
)

EVIL = '<img src=x onerror="window.pwned=1"> & </script>'


def test_indicator_classes_by_hand():
    colors, rows = indicator_classes([0.0, 6.9, 7.0, 25.0, 60.0, math.nan], "minutes")
    assert colors == [TIME_COLORS[0], TIME_COLORS[0], TIME_COLORS[1], TIME_COLORS[3],
                      TIME_COLORS[6], NO_DATA_COLOR]
    assert rows[-1] == (NO_DATA_COLOR, "non calculé")
    # shares in 0..1, classes in percent: 0-1, 1-2, 2-5, 5-10, 10-20, 20-40, 40+
    colors, rows = indicator_classes([0.005, 0.02, 0.07, 0.5], "share")
    assert colors == [SHARE_COLORS[0], SHARE_COLORS[2], SHARE_COLORS[3], SHARE_COLORS[6]]
    assert rows[3][1] == "5 à 10\u00a0%"
    with pytest.raises(DataError, match="expected 'minutes' or 'share'"):
        indicator_classes([1.0], "score")


def _communes():
    """Five hand-made communes in EPSG:2154: two in 38 (one EPCI), one in 73, two in 2A."""
    rows = [
        ("38001", "38", "200000001", box(900_000, 6_450_000, 910_000, 6_460_000)),
        ("38002", "38", "200000001", box(910_000, 6_450_000, 920_000, 6_460_000)),
        ("73001", "73", "200000002", box(920_000, 6_450_000, 930_000, 6_470_000)),
        ("2A001", "2A", "200000003", box(1_180_000, 6_100_000, 1_190_000, 6_110_000)),
        ("2A002", "2A", "200000003", box(1_190_000, 6_100_000, 1_200_000, 6_110_000)),
    ]
    code, dep, epci, geom = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"insee": code, "dep": dep, "epci": epci}, geometry=list(geom),
                            crs=2154)


def _tables():
    deps = pd.DataFrame(
        {
            "dep": ["38", "73", "2A"],
            "nom": [EVIL, "Savoie", "Corse-du-Sud"],
            "population": [1_000, 2_000, 3_000],
            "france_services_mean_min": [25.0, 6.0, math.nan],
            "france_services_share_over_30": [0.07, 0.0, 0.5],
        }
    )
    epcis = pd.DataFrame(
        {
            "epci": ["200000001", "200000002", "200000003"],
            "nom": ["CC A", "CC B", "CC C"],
            "dep": ["38", "73", "2A"],
            "france_services_mean_min": [12.0, 50.0, 3.0],
            "france_services_share_over_30": [0.0, 0.3, 0.0],
        }
    )
    return deps, epcis


def test_bad_tables_are_one_line_errors(tmp_path):
    deps, epcis = _tables()
    with pytest.raises(DataError, match="column dep has '99'; expected département codes"):
        national_atlas(deps.assign(dep=["38", "99", "2A"]), None, tmp_path, geometry=_communes())
    with pytest.raises(DataError, match="no indicator column; expected at least one of"):
        national_atlas(deps[["dep", "nom"]], None, tmp_path, geometry=_communes())
    with pytest.raises(DataError, match="expected the 9-digit SIREN"):
        national_atlas(deps, epcis.assign(epci=["1", "2", "3"]), tmp_path, geometry=_communes())
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_page_source_escapes_names(tmp_path):
    deps, epcis = _tables()
    page = national_atlas(deps, epcis, tmp_path / "france", geometry=_communes())
    text = page.read_text(encoding="utf-8")
    assert "<img" not in text  # the name never appears as markup
    assert "\\u0026lt;/script\\u0026gt;" in text  # nor closes the script that holds it


@pytest.fixture(scope="module")
def national_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("maps")
    (root / "dep-73").mkdir()
    (root / "dep-73" / "index.html").write_text("<p>atlas 73</p>", encoding="utf-8")
    deps, epcis = _tables()
    return national_atlas(deps, epcis, root / "france", geometry=_communes())


def _open(ctx, path):  # type: ignore[no-untyped-def]
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector("path.nat-dep", timeout=15_000)
    return page, errors


def _open_popup(page, dep):  # type: ignore[no-untyped-def]
    page.evaluate("() => nationalAtlas.map.closePopup()")
    page.wait_for_selector(".leaflet-popup-content", state="detached")
    page.evaluate(
        "d => nationalAtlas.layers.dep.eachLayer(function(l){"
        " if (l.feature.properties.dep === d) l.openPopup(); })",
        dep,
    )
    return page.locator(".leaflet-popup-content")


@pytest.mark.integration
def test_national_page_in_a_browser(national_page, browser, tmp_path_factory):
    ctx, blocked = browser
    page, errors = _open(ctx, national_page)
    assert page.locator("path.nat-dep").count() == 3
    # France Services mean time: 25 min is the 20-30 class, 6 min the first, NaN grey
    fill = "c => document.querySelector('path.nat-dep-' + c).getAttribute('fill')"
    assert page.evaluate(fill, "38") == TIME_COLORS[3]
    assert page.evaluate(fill, "73") == TIME_COLORS[0]
    assert page.evaluate(fill, "2A") == NO_DATA_COLOR
    page.select_option("select.nat-indicator", "france_services_share_over_30")
    assert page.evaluate(fill, "38") == SHARE_COLORS[3]  # 7 %: the 5-10 % class
    assert page.evaluate(fill, "2A") == SHARE_COLORS[6]  # 50 %
    assert "part de la population" in page.locator(".atlas-legend").last.inner_text()
    # links to the département atlas; the command where it is not built yet
    popup = _open_popup(page, "38")
    assert popup.locator("a.nat-link").get_attribute("href") == "../dep-38/index.html"
    assert "accessibility run --territory dep:38" in popup.inner_text()
    assert EVIL in popup.inner_text()  # the name shown as text, never as markup
    assert page.evaluate("window.pwned") is None
    popup = _open_popup(page, "73")
    assert popup.locator("a.nat-link").get_attribute("href") == "../dep-73/index.html"
    assert popup.locator(".nat-todo").count() == 0  # dep-73/index.html exists
    popup.locator("a.nat-link").click()
    page.wait_for_url("**/dep-73/index.html")
    assert page.inner_text("p") == "atlas 73"
    page.go_back()
    page.wait_for_selector("path.nat-dep")
    # back on the page: the selector shows the indicator drawn (no restored form state)
    assert page.input_value("select.nat-indicator") == "france_services_mean_min"
    # EPCI level
    page.check("input[name=nat-level][value=epci]")
    assert page.locator("path.nat-epci").count() == 3
    assert page.locator("path.nat-dep").count() == 0
    assert page.evaluate(
        "() => document.querySelector('path.nat-epci-200000002').getAttribute('fill')"
    ) == TIME_COLORS[5]  # 50 min (45-60), the default indicator again after reload
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "national.png"))
    page.close()
    assert errors == []
    assert blocked == []
