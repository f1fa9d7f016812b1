"""The planner's app in a real browser: uvicorn on a free local port, Debian's Chromium
driven by Playwright, every request outside the app's own address blocked.

The Maurienne is served with hostile names (communes, EPCI, services, territory): the
page must show them as text. The figures shown after a click are checked against the
planning functions run on their own.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest

from accessibility.app.api import create_app
from accessibility.app.state import AppState
from accessibility.core.errors import SnapWarning
from accessibility.planning.candidates import existing_sites
from accessibility.planning.project import project_sheet
from accessibility.planning.sites import evaluate_scenario

pytestmark = pytest.mark.integration

FS = "france_services"
#: Would set the sentinel if put in the page as HTML.
HOSTILE = '<img src=x onerror="window.__pwned=1">'
#: Near Bessans, far from every France Services.
TARGET = (6.99, 45.318)


@pytest.fixture(scope="module")
def hostile(maurienne_study, maurienne_diagnostic):
    """The Maurienne with a hostile name for every commune, EPCI and service."""
    study, d = maurienne_study, maurienne_diagnostic
    names = {c: f"C{i} {HOSTILE}" for i, c in enumerate(study.layers.communes["commune_code"])}
    communes = study.layers.communes.copy()
    communes["commune_name"] = communes["commune_code"].map(names)
    communes["epci_name"] = "EPCI " + HOSTILE
    svc = study.layers.services.copy()
    svc["label"] = [f"S{i} {HOSTILE}" for i in range(len(svc))]
    terr = dataclasses.replace(study.layers.territory, name=f"Territoire {HOSTILE}")
    layers = dataclasses.replace(study.layers, communes=communes, services=svc, territory=terr)
    prio = d.priority.copy()
    prio["commune_name"] = prio["commune_code"].map(names)
    diag = dataclasses.replace(d, priority=prio)
    return dataclasses.replace(study, layers=layers), diag


@pytest.fixture(scope="module")
def server(hostile):
    """uvicorn serving the app on a free port of 127.0.0.1, in a thread."""
    import uvicorn

    study, diag = hostile
    state = AppState(study, diag)
    state.warm()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port,
                                        log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    from conftest import offline_chromium

    with offline_chromium(tmp_path_factory.mktemp("chromium-app"),
                          (server + "/", "data:", "blob:"),
                          {"width": 1400, "height": 900}) as (ctx, blocked):
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(server + "/")
        pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
        yield pg, errors, blocked


def _click_lonlat(pg, lon: float, lat: float) -> None:  # type: ignore[no-untyped-def]
    """Click the map at a WGS84 point (its pixel from Leaflet)."""
    xy = pg.evaluate(f"(() => {{ const p = window.appMap.latLngToContainerPoint([{lat}, {lon}]);"
                     "return [p.x, p.y]; })()")  # fmt: skip
    box = pg.locator("#map").bounding_box()
    pg.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def test_page_draws_the_access_map_offline(page, hostile):
    pg, errors, blocked = page
    study, _ = hostile
    n_cells, n_communes = len(study.layers.cells), len(study.layers.communes)
    assert pg.locator(".leaflet-overlay-pane path").count() >= n_cells + n_communes
    assert pg.locator("#legend").inner_text().startswith("France Services")
    # the roads, from the road network, in their own pane under the data
    n_roads = len(pg.evaluate("fetch('/api/roads').then(r => r.json())")["features"])
    pg.wait_for_selector(".leaflet-routes-pane path", timeout=15_000)
    assert pg.locator(".leaflet-routes-pane path").count() == n_roads > 0
    z = pg.evaluate("getComputedStyle(document.querySelector('.leaflet-routes-pane')).zIndex")
    assert int(z) < 400  # overlayPane, where the cells are
    assert errors == [] and blocked == []


def test_click_shows_the_planning_functions_figures(page, hostile, tmp_path_factory):
    pg, errors, _ = page
    study, diag = hostile
    pg.locator("input[name=mode][value=add]").check()
    _click_lonlat(pg, *TARGET)
    pg.wait_for_selector("#figures:not([hidden]) #sheet:not([hidden])", timeout=20_000)
    li = pg.locator("#changes li").first
    lon, lat = float(li.get_attribute("data-lon")), float(li.get_attribute("data-lat"))
    assert abs(lon - TARGET[0]) < 0.01 and abs(lat - TARGET[1]) < 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        sheet = project_sheet(study, diag, FS, f"{lon},{lat}")
    shown = float(pg.locator("#sheet-nearest").get_attribute("data-newly"))
    assert shown == sheet.nearest["newly_within"] > 0
    assert float(pg.locator("#newly-total").get_attribute("data-value")) == shown
    assert pg.locator("#newly-total").inner_text().replace("\u202f", " ") == (
        f"{sheet.nearest['newly_within']:,.0f}".replace(",", " ")
    )
    rows = pg.locator("#catchment tbody tr")
    assert rows.count() == len(sheet.catchment)
    for i, c in enumerate(sheet.catchment.itertuples(index=False)):
        assert float(rows.nth(i).locator(".pop-total").get_attribute("data-value")) == c.pop_total
    assert int(pg.locator("#sheet-rank").get_attribute("data-rank")) == sheet.rank
    pg.screenshot(path=str(tmp_path_factory.getbasetemp() / "app_fiche.png"), full_page=True)
    assert errors == []


def test_click_a_site_to_close_it(page, hostile):
    pg, errors, _ = page
    study, _ = hostile
    pg.locator("#clear").click()
    pg.wait_for_selector("#figures[hidden]", state="attached")
    sites = pg.evaluate("fetch('/api/access?category=france_services').then(r => r.json())"
                        ".then(j => j.sites)")  # fmt: skip
    ex = existing_sites(study, FS)
    inside = set(ex.loc[ex["in_territory"], "site_id"])
    i = next(k for k, s in enumerate(sites) if s["site_id"] in inside)
    pg.locator("input[name=mode][value=remove]").check()
    pg.locator(f".site-{i}").click()
    pg.wait_for_selector("#figures:not([hidden])", timeout=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        ev = evaluate_scenario(study, FS, removed=[sites[i]["site_id"]])
    assert float(pg.locator("#no-longer").get_attribute("data-value")) == (
        ev.territory.iloc[0]["no_longer_within"]
    )
    # the hostile service label is shown as text in the list of changes
    assert HOSTILE in pg.locator("#changes li").first.inner_text()
    assert errors == []


def test_hostile_names_are_text(page):
    pg, errors, blocked = page
    assert HOSTILE in pg.locator("#territory").inner_text()
    assert HOSTILE in pg.locator("#priorities li").first.inner_text()
    assert HOSTILE in pg.locator("#commune option").first.inner_text()
    assert pg.locator("#panel img, #map img[src='x']").count() == 0
    assert pg.evaluate("window.__pwned") is None
    assert errors == [] and blocked == []


def test_bad_input_shows_a_french_message(page):
    pg, _, _ = page
    pg.locator("#clear").click()
    pg.locator("input[name=mode][value=add]").check()
    pg.evaluate("window.appMap.setView([45.9, 5.2], 10, {animate: false})")
    _click_lonlat(pg, 5.2, 45.9)  # far outside the Maurienne
    msg = pg.locator("#message")
    msg.wait_for(state="visible", timeout=10_000)
    assert "hors du territoire" in msg.inner_text()
    assert pg.locator("#changes li").count() == 0


def test_export_and_tour_from_the_page(page, tmp_path_factory):
    pg, errors, blocked = page
    pg.locator("#clear").click()
    pg.locator("input[name=mode][value=add]").check()
    pg.locator("#commune").select_option(index=0)
    pg.locator("#add-commune").click()
    pg.wait_for_selector("#figures:not([hidden])", timeout=20_000)
    with pg.expect_download() as dl:
        pg.locator("[data-export=html]").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Fiche projet" in text and HOSTILE not in text  # names escaped in the fiche
    assert "&lt;img src=x" in text
    # an itinerant tour from the first commune, drawn one line a day
    pg.locator("#depot").select_option(index=1)
    pg.locator("#days").fill("2")
    pg.locator("#tour").click()
    pg.wait_for_selector("#tour-stops li", timeout=60_000)
    days = {t.split(",")[0] for t in pg.locator("#tour-stops li").all_inner_texts()}
    assert pg.locator("path.tour-line").count() == len(days) >= 1
    assert pg.locator("#tour-summary").inner_text().startswith("Tournée de 2 jours")
    pg.screenshot(path=str(tmp_path_factory.getbasetemp() / "app_tour.png"))
    assert errors == [] and blocked == []
