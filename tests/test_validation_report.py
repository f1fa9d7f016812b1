"""``accessibility validate`` end to end on the Maurienne, and its page in real Chromium.

The national check is skipped (``--no-national``: 15-30 s and 1 GB); its parts are
tested on hand-made inputs in ``test_validation.py``. The page is opened offline (every
non-file request blocked), as in ``test_maps_browser.py``.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from click.testing import CliRunner

from accessibility.cli import main
from accessibility.outputs.validation_report import reliability_for_study
from accessibility.validation.compare import heldout_summary, read_heldout
from accessibility.validation.routes import load_routes

pytestmark = pytest.mark.integration



@pytest.fixture(scope="module")
def validated(paths, tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # known, reported data warnings of the real data
        result = CliRunner().invoke(
            main, ["-q", "validate", "--territory", "maurienne", "--out", str(out),
                   "--no-national"]
        )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_command_writes_the_page_and_tables(validated, maurienne):
    out, output = validated
    assert (out / "validation.html").is_file()
    assert "Report: " in output and "itinéraires connus" in output
    routes = pd.read_csv(out / "validation_routes.csv")
    assert len(routes) == len(load_routes())
    # every Maurienne route has both end points within 2 km of the study's network
    assert (routes["status"] == "ok").all()
    # a sanity bound, far wider than the measured −20 % to +59 %
    published = routes["published_km"]
    assert routes["model_km"].between(0.5 * published, 2 * published).all()
    far = pd.read_csv(out / "validation_far_population_communes.csv", dtype={"commune_code": str})
    assert set(far["commune_code"]) == set(maurienne.cells["commune_code"])
    assert far["population"].sum() == pytest.approx(maurienne.cells["pop_total"].sum())
    assert (far["population_beyond_2km"] <= far["population_beyond_1km"]).all()
    assert not (out / "validation_national_france_services.csv").exists()  # --no-national




def test_page_in_chromium_shows_tables_and_figures(validated, browser, tmp_path_factory):
    out, _ = validated
    ctx, blocked = browser
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((out / "validation.html").as_uri())
    assert page.locator("h1").inner_text() == "Validation des temps de trajet — Pays de Maurienne"
    assert page.locator("table#routes tbody tr").count() == len(load_routes())
    assert "Col du Galibier" in page.locator("table#routes").inner_text()
    assert page.locator("table#routes a[href^='http']").count() == len(load_routes())
    assert page.locator("table#far-communes tbody tr").count() == 20
    img = page.locator("#fig-routes img")
    assert img.evaluate("i => i.complete && i.naturalWidth") > 300
    section = page.locator("#reseau-complet").inner_text()
    assert "Aucun réseau routier complet ne couvre ce territoire" in section
    heldout = read_heldout()
    if heldout is None:
        assert "La calibration n'a pas encore été exécutée" in section
    else:
        summary = heldout_summary(heldout)
        rows = len(heldout) if summary is None else len(summary.signed_pct)
        assert page.locator("table#heldout tbody tr").count() == rows
    assert "--no-national" in page.locator("#national").inner_text()
    assert "itinéraires connus" in page.locator("#resume").inner_text()
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "validation.png"), full_page=True)
    page.close()
    assert errors == []
    assert blocked == []  # the source links are there, never requested


def test_reliability_paragraph_of_the_main_report(maurienne_study):
    r = reliability_for_study(maurienne_study)
    assert r["routes_pct"] is not None
    lo, hi = r["routes_pct"]
    assert lo < 0 < hi  # the model is both too short and too long on some routes
    assert 0 < r["far_2km"] <= r["far_1km"] < maurienne_study.layers.cells["pop_total"].sum()
    assert "itinéraires connus" in r["text"]
