"""The atlas map « Accès aux France Services ouvertes le samedi matin », in headless
Chromium offline (as tests/test_maps_browser.py), and its HTML."""

from __future__ import annotations

import json
import warnings

import pytest

from accessibility.core import columns as C
from accessibility.core.errors import DataWarning
from accessibility.indicators.windows import load_windows, open_during
from accessibility.outputs.maps.atlas import N_TOWN_LABELS
from accessibility.outputs.maps.pages import save_map
from accessibility.outputs.maps.windows import CLOSED_COLOR, OPEN_COLOR, windows_map

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def window_page(maurienne_study, maurienne_diagnostic, tmp_path_factory):
    svc = maurienne_study.layers.services
    fs = svc[svc[C.CATEGORY] == "france_services"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        m = windows_map(maurienne_diagnostic, svc)
        is_open = open_during(fs, load_windows().windows["samedi_matin"])
    path = save_map(m, tmp_path_factory.mktemp("horaires") / "horaires.html")
    return path, fs, is_open


def test_window_map_html(window_page):
    path, fs, is_open = window_page
    html = path.read_text(encoding="utf-8")
    assert "Accès aux France Services ouvertes le samedi matin" in html
    for label in ("le samedi matin", "après 17 h 30 en semaine", "à la pause de midi"):
        # the layer names are written as JSON strings (non-ASCII escaped)
        assert json.dumps(f"France Services, ouvert(e)s {label}")[1:-1] in html
    assert html.count(f'"fillColor": "{OPEN_COLOR}"') == int(is_open.sum())
    assert html.count(f'"fillColor": "{CLOSED_COLOR}"') == int((~is_open).sum())
    assert 0 < is_open.sum() < len(fs)


def test_window_map_renders_offline(window_page, browser, maurienne_diagnostic):
    path, fs, _ = window_page
    ctx, blocked = browser
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    d = maurienne_diagnostic
    # the default layer (Saturday morning): every cell and commune, and one marker a site
    n = page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
    assert n == len(d.cells) + len(d.communes) + len(fs)
    assert page.locator(".leaflet-marker-icon.atlas-label").count() == N_TOWN_LABELS
    title = page.locator(".atlas-title").inner_text()
    assert "Accès aux France Services ouvertes le samedi matin" in title
    legend = page.locator(".atlas-legend:visible")
    assert "le samedi matin" in legend.first.inner_text()
    switcher = page.locator(".leaflet-control-layers").inner_text()
    for w in load_windows().windows.values():
        assert f"France Services, ouvert(e)s {w.label}" in switcher
    page.close()
    assert errors == [] and blocked == []
