"""The Maurienne atlas rendered in headless Chromium, offline (every non-file request blocked).

Needs Debian's ``chromium`` (``make test`` installs it); in CI (``CI`` set) a missing
browser is a failure, never a skip. Screenshots go to pytest's temporary folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from accessibility.core.errors import SnapWarning
from accessibility.outputs.maps import build_atlas
from accessibility.outputs.maps.atlas import DEFAULT_SERVICE_LAYERS, N_TOWN_LABELS

pytestmark = pytest.mark.integration



@pytest.fixture(scope="module")
def atlas(maurienne_study, maurienne_diagnostic, tmp_path_factory):
    """The atlas, with a synthetic scenario: two new France Services bringing every cell
    within 12 min of one (after = min(before, 12))."""
    study, d = maurienne_study, maurienne_diagnostic
    before = d.cells["time_france_services_min"]
    cells = d.cells[["geometry", "pop_total"]].assign(
        time_before_min=before, time_after_min=np.fmin(before, 12.0)
    )
    svc = study.layers.services
    fs = svc[svc["category"] == "france_services"]
    new = d.communes.nlargest(2, "priority_score").set_geometry(
        d.communes.nlargest(2, "priority_score").representative_point()
    )
    out = tmp_path_factory.mktemp("atlas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)  # far sites: reported by the diagnostic
        paths = build_atlas(study, d, out, scenario=cells, scenario_sites=(fs, new))
    expected = {
        # default category (France Services) shown: every cell and every commune
        "acces": len(d.cells) + len(d.communes),
        "services": int(svc["category"].isin(DEFAULT_SERVICE_LAYERS).sum())
        + len(d.communes) + d.communes["epci_code"].nunique(),
        "priorites": len(d.communes),
        # France Services shown: 3 bands (one path each), one marker a site, outlines
        "isochrones": 3 + len(fs) + len(d.communes),
        "scenarios": len(d.cells) + len(fs) + len(new) + len(d.communes),
    }
    return paths, expected




def _open(ctx, path: Path):  # type: ignore[no-untyped-def]
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
    return page, errors


@pytest.mark.parametrize("name", ["acces", "services", "priorites", "isochrones", "scenarios"])
def test_map_renders_offline(atlas, browser, name, tmp_path_factory):
    paths, expected = atlas
    ctx, blocked = browser
    page, errors = _open(ctx, paths[name])
    n_paths = page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
    assert n_paths == expected[name]
    assert page.locator(".leaflet-marker-icon.atlas-label").count() == N_TOWN_LABELS
    assert page.locator(".atlas-legend:visible").count() >= 1
    assert page.locator(".leaflet-control-layers").count() == 1
    assert "Sources : " in page.locator(".leaflet-control-attribution").inner_text()
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / f"map_{name}.png"))
    page.close()
    assert errors == []
    assert blocked == []  # nothing outside the file was even requested


def test_access_legend_follows_the_category_switch(atlas, browser):
    paths, _ = atlas
    ctx, _ = browser
    page, errors = _open(ctx, paths["acces"])
    # the time legend of the category shown (the « Routes » layer has its own legend)
    legend = page.locator(".atlas-legend:visible").filter(has_text="minutes en voiture")
    assert legend.count() == 1 and "France Services" in legend.inner_text()
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("Médecin généraliste").check()
    assert "Médecin généraliste" in legend.inner_text()
    assert "seuil : 7 min" in legend.inner_text()
    # the reliability warning: Maurienne cells more than 1 km from the network, hidden
    # until ticked, then drawn as dashed outlines
    far = page.get_by_label("Fiabilité : carreaux à plus de 1 km du réseau routier")
    assert far.count() == 1 and not far.is_checked()
    before = page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
    far.check()
    after = page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()
    assert after > before
    page.close()
    assert errors == []


def test_index_links_every_map(atlas, browser):
    paths, _ = atlas
    ctx, blocked = browser
    page = ctx.new_page()
    page.goto(paths["index"].as_uri())
    links = page.locator("a")
    names = sorted(Path(h).stem for h in links.evaluate_all("els => els.map(e => e.href)"))
    assert names == sorted(k for k in paths if k != "index")
    for i in range(links.count()):
        page.goto(paths["index"].as_uri())
        page.locator("a").nth(i).click()
        page.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)
        assert page.locator(".atlas-title").count() == 1
    page.close()
    assert blocked == []
