"""The planner's app through its JSON API (FastAPI's TestClient) on the Maurienne.

Each answer is checked against the planning functions run on their own (no shared
matrix), or against a case whose answer is known by hand (a site where one already
is changes nothing).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from accessibility.app.api import create_app
from accessibility.app.state import AppState
from accessibility.core.errors import SnapWarning
from accessibility.planning.candidates import existing_sites
from accessibility.planning.project import project_sheet
from accessibility.planning.sites import choose_sites, evaluate_scenario

with warnings.catch_warnings():  # starlette asks for httpx2 (not installed); httpx works
    warnings.filterwarnings("ignore", message="Using `httpx`")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

FS = "france_services"
#: Bessans, at the top of the Haute Maurienne: far from every France Services (38 min).
FAR = (6.99, 45.318)


@pytest.fixture(scope="module")
def app(maurienne_study, maurienne_diagnostic):
    state = AppState(maurienne_study, maurienne_diagnostic)
    return state, TestClient(create_app(state))


@contextlib.contextmanager
def _quiet():
    """Far points' snapping warnings: the figures show them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        yield


def _inside_site(study):
    ex = existing_sites(study, FS)
    ex = ex[ex["in_territory"]].to_crs(4326).iloc[0]
    return ex["site_id"], round(ex.geometry.x, 5), round(ex.geometry.y, 5)


def test_a_site_where_one_already_is_changes_nothing(app, maurienne_study):
    _, client = app
    _, lon, lat = _inside_site(maurienne_study)
    # a point rounded to 1e-5° (about a metre) from the existing site: same road, same times
    access = client.get("/api/access", params={"category": FS}).json()
    r = client.post("/api/scenario", json={"category": FS, "added": [{"lon": lon, "lat": lat}]})
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["newly_within"] == {"total": 0.0, "age_65plus": 0.0, "under_15": 0.0}
    assert f["no_longer_within"] == 0
    assert f["mean_after_min"] == pytest.approx(f["mean_before_min"], abs=1e-3)
    assert np.allclose(
        np.array(f["times_after"], float),
        np.array(access["times"], float),
        atol=0.02,
        equal_nan=True,
    )
    assert all(e["change_mean_min"] == pytest.approx(0, abs=1e-3) for e in f["epci"])
    assert f["priority_served"] == []


def test_a_far_site_gains_what_the_planning_functions_compute(
    app, maurienne_study, maurienne_diagnostic
):
    _, client = app
    r = client.post(
        "/api/scenario", json={"category": FS, "added": [{"lon": FAR[0], "lat": FAR[1]}]}
    )
    assert r.status_code == 200, r.text
    f = r.json()
    with _quiet():
        sheet = project_sheet(maurienne_study, maurienne_diagnostic, FS, f"{FAR[0]},{FAR[1]}")
        site = gpd.GeoDataFrame(
            {"site_id": ["n"], "label": ["n"]}, geometry=[Point(*FAR)], crs=4326
        )
        ev = evaluate_scenario(maurienne_study, FS, added=site.to_crs(2154))
    # the fiche projet: the same figures as project_sheet run alone
    assert f["sheet"]["nearest"] == pytest.approx(sheet.nearest)
    assert f["sheet"]["rank"] == sheet.rank and f["sheet"]["n_ranked"] == len(sheet.ranking)
    assert [c["pop_total"] for c in f["sheet"]["catchment"]] == sheet.catchment[
        "pop_total"
    ].tolist()
    assert {p["commune_code"] for p in f["sheet"]["priority"]} == set(
        sheet.priority["commune_code"]
    )
    # the scenario: evaluate_scenario run alone; newly within by age from its cells
    t = ev.territory.iloc[0]
    assert f["newly_within"]["total"] == t["newly_within"] == sheet.nearest["newly_within"] > 0
    c = ev.cells
    newly = (c["time_after_min"] <= 30) & ~(c["time_before_min"] <= 30)
    assert f["newly_within"]["age_65plus"] == c.loc[newly, "pop_65plus"].sum()
    assert f["newly_within"]["under_15"] == c.loc[newly, "pop_under15"].sum()
    by_epci = ev.epci.set_index("epci_code")["change_mean_min"]
    for e in f["epci"]:
        assert e["change_mean_min"] == pytest.approx(by_epci[e["epci_code"]])
    # Bessans is the first priority commune and is served
    assert "73040" in {p["commune_code"] for p in f["priority_served"]}


def test_closing_a_site_matches_evaluate_scenario(app, maurienne_study):
    _, client = app
    sid, _, _ = _inside_site(maurienne_study)
    f = client.post("/api/scenario", json={"category": FS, "removed": [sid]}).json()
    with _quiet():
        ev = evaluate_scenario(maurienne_study, FS, removed=[sid])
    t = ev.territory.iloc[0]
    assert f["newly_within"]["total"] == 0
    assert f["no_longer_within"] == t["no_longer_within"]
    assert f["mean_after_min"] == pytest.approx(t["mean_after_min"])
    assert [s["site_id"] for s in f["removed"]] == [sid]


@pytest.mark.parametrize("model", ["mclp", "p-median"])
def test_optimiser_chooses_what_choose_sites_chooses(app, maurienne_study, model):
    _, client = app
    r = client.post("/api/optimise", json={"category": FS, "k": 2, "model": model})
    assert r.status_code == 200, r.text
    with _quiet():
        choice = choose_sites(maurienne_study, FS, new=2, model=model)
    assert [s["site_id"] for s in r.json()["chosen"]] == list(choice.chosen["site_id"])
    t = choice.evaluation.territory.iloc[0]
    assert r.json()["scenario"]["newly_within"]["total"] == t["newly_within"]


@pytest.mark.parametrize(
    "path,body,message",
    [
        ("/api/scenario", {"added": [{"lon": 2.35, "lat": 48.85}]}, "hors du territoire"),
        (
            "/api/scenario",
            {"added": [{"lon": 195, "lat": 45}]},
            "longitude : doit être au plus 180",
        ),
        ("/api/scenario", {"added": [{"lon": 6.5}]}, "soit lon et lat, soit commune"),
        ("/api/scenario", {"added": [{"commune": "75056"}]}, "pas une commune du territoire"),
        ("/api/scenario", {"category": "cinema"}, "catégorie inconnue : 'cinema'"),
        ("/api/scenario", {"removed": ["fs:nope"]}, "pas des sites existants"),
        ("/api/scenario", {"added": [{"lon": 6.5, "lat": 45.3}] * 6}, "trop long (au plus 5)"),
        ("/api/scenario", {"season": "summer"}, "saison : valeur inconnue"),
        ("/api/optimise", {"k": 4}, "nombre de nouveaux sites : doit être au plus 3"),
        ("/api/optimise", {"k": 0}, "doit être au moins 1"),
        ("/api/optimise", {"k": "deux"}, "un nombre entier est attendu"),
        ("/api/tour", {"depot": "73306", "days": 9}, "jours : doit être au plus 5"),
        ("/api/tour", {"depot": "../../etc"}, "format inattendu"),
        ("/api/compare", {"scenarios": [{}] * 4}, "trop long (au plus 3)"),
        ("/api/scenario", {"path": "/etc/passwd"}, "champ inconnu"),
    ],
)
def test_bad_requests_get_a_422_with_a_french_message(app, path, body, message):
    _, client = app
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert message in r.json()["message"], r.json()
    assert r.json()["detail"] and all("msg" in d for d in r.json()["detail"])


def test_bad_query_and_format(app):
    _, client = app
    r = client.get("/api/access", params={"category": "x<b>"})
    assert r.status_code == 422 and "catégorie inconnue" in r.json()["message"]
    r = client.post("/api/export/..%2F..%2Fetc%2Fpasswd", json={})
    assert r.status_code in (404, 422)
    r = client.post("/api/export/exe", json={})
    assert r.status_code == 422 and "valeur inconnue" in r.json()["message"]


def test_exports_are_responses(app, maurienne_study):
    _, client = app
    body = {"category": FS, "added": [{"lon": FAR[0], "lat": FAR[1]}]}
    csv = client.post("/api/export/csv", json=body)
    table = pd.read_csv(io.StringIO(csv.text), dtype={"commune_code": str})
    assert len(table) == len(maurienne_study.layers.communes)
    assert (
        table["newly_within"].sum()
        == client.post("/api/scenario", json=body).json()["newly_within"]["total"]
    )
    geo = client.post("/api/export/geojson", json=body).json()
    roles = pd.Series([f["properties"]["role"] for f in geo["features"]]).value_counts()
    assert roles["ajout"] == 1 and roles["carreau"] == len(maurienne_study.layers.cells)
    page = client.post("/api/export/html", json=body)
    assert page.headers["content-type"].startswith("text/html")
    assert "Fiche projet" in page.text and "Par intercommunalité" in page.text
    pdf = client.post("/api/export/pdf", json=body)
    assert pdf.content[:5] == b"%PDF-"
    assert 'filename="scenario_france-services_base.pdf"' in pdf.headers["content-disposition"]


def test_compare_three_scenarios(app, maurienne_study):
    _, client = app
    sid, _, _ = _inside_site(maurienne_study)
    scenarios = [{"added": [{"lon": FAR[0], "lat": FAR[1]}]}, {"removed": [sid]},
                 {"added": [{"commune": "73306"}]}]  # fmt: skip
    r = client.post("/api/compare", json={"scenarios": scenarios})
    assert r.status_code == 200
    out = r.json()
    assert len(out) == 3
    for s, one in zip(scenarios, out, strict=True):
        alone = client.post("/api/scenario", json=s).json()
        assert one["newly_within"] == alone["newly_within"]
        assert one["no_longer_within"] == alone["no_longer_within"]


def test_tour_is_drawn_from_the_depot(app):
    _, client = app
    r = client.post("/api/tour", json={"depot": "73248", "days": 2, "stop_minutes": 120,
                                       "time_limit_s": 2})  # fmt: skip
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["depot"]["commune_code"] == "73248"
    assert t["stops"] and {s["day"] for s in t["stops"]} <= {1, 2}
    assert "73248" not in {s["commune_code"] for s in t["stops"]}
    assert set(t["returns"]) == {str(s["day"]) for s in t["stops"]}
    # each day drawn on the roads from the depot back to it, through its stops
    depot = (t["depot"]["lon"], t["depot"]["lat"])
    for day, path in t["paths"].items():
        assert len(path) > 2 + sum(s["day"] == int(day) for s in t["stops"])
        for end in (path[0], path[-1]):
            assert abs(end[0] - depot[0]) < 0.02 and abs(end[1] - depot[1]) < 0.02
    assert all(44.9 < s["lat"] < 45.6 and 5.9 < s["lon"] < 7.2 for s in t["stops"])


def test_openapi_documents_the_questions(app):
    _, client = app
    spec = client.get("/openapi.json").json()
    assert {"/api/scenario", "/api/optimise", "/api/compare", "/api/tour",
            "/api/export/{fmt}", "/api/access"} <= set(spec["paths"])  # fmt: skip
    assert client.get("/").text.count("<script") == 2  # leaflet and app, both local
    assert client.get("/vendor/leaflet.js").status_code == 200


def test_openapi_page_is_offline(app):
    """/docs loads Swagger UI from the app itself (FastAPI's default is a CDN)."""
    import re

    _, client = app
    page = client.get("/docs").text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page)
    assert "/openapi.json" in urls and "/swagger/swagger-ui-bundle.js" in urls
    assert not [u for u in urls if "//" in u], urls  # no http(s):// nor //host
    js = client.get("/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_serve_warns_off_loopback(monkeypatch):
    import accessibility.app.server as server
    from accessibility.cli import main

    calls = []
    monkeypatch.setattr(server, "serve", lambda *a, **k: calls.append(k))
    r = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8765"])
    assert r.exit_code == 0, r.output
    assert "reachable by others" in r.output and "no authentication" in r.output
    assert calls == [{"host": "0.0.0.0", "port": 8765, "winter": True}]
    r = CliRunner().invoke(main, ["serve"])
    assert "reachable by others" not in r.output
    assert calls[-1] == {"host": "127.0.0.1", "port": 8000, "winter": True}


def test_is_loopback():
    from accessibility.app.server import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_json_errors_never_echo_html(app):
    _, client = app
    r = client.post(
        "/api/scenario", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "JSON invalide" in r.json()["message"]
    assert json.loads(r.text)["detail"][0]["type"] == "json_invalid"


def test_site_matrix_reuses_known_columns(maurienne_study):
    """``site_matrix(known=...)`` gives the columns a fresh routing gives, and routes
    only the sites the known matrix lacks."""
    from accessibility.planning.sites import site_matrix

    ex = existing_sites(maurienne_study, FS)
    new = gpd.GeoDataFrame({"site_id": ["n"]}, geometry=[Point(*FAR)], crs=4326).to_crs(ex.crs)
    both = pd.concat([ex[["site_id", "geometry"]], new], ignore_index=True)
    both = gpd.GeoDataFrame(both, geometry="geometry", crs=ex.crs)
    with _quiet():
        fresh = site_matrix(maurienne_study, both)
        known = site_matrix(maurienne_study, ex.iloc[:5])
        reused = site_matrix(maurienne_study, both.iloc[::-1], known=known)
    assert list(reused.candidate_ids) == list(both["site_id"][::-1])
    assert np.array_equal(reused.times, fresh.times[:, ::-1], equal_nan=True)
    other = known.__class__(known.times[:10], known.demand_ids[:10], known.candidate_ids)
    with pytest.raises(Exception, match="not the cells of this study"):
        site_matrix(maurienne_study, both, known=other)


def test_roads_layer_is_served(app):
    _, client = app
    roads = client.get("/api/roads").json()
    tiers = {f["properties"]["tier"] for f in roads["features"]}
    assert "departementale" in tiers and tiers <= {"autoroute", "nationale", "departementale"}
    assert all(
        f["geometry"]["type"] in ("LineString", "MultiLineString") for f in roads["features"]
    )


@pytest.mark.slow
def test_winter_season_is_the_winter_scenario(maurienne_study, maurienne_diagnostic):
    """The winter season answers on the winter study (closed passes, peak population):
    the same figures as evaluate_scenario run on scenario_of(study, "winter")."""
    from accessibility.pipeline import scenario_of

    with warnings.catch_warnings():
        # known data warnings of the seasonal sources and of the winter diagnostic,
        # reported by `run`; not what is tested here
        warnings.simplefilter("ignore")
        winter, _ = scenario_of(maurienne_study, "winter")
        state = AppState(maurienne_study, maurienne_diagnostic, winter=lambda s: winter)
        state.warm()
    client = TestClient(create_app(state))
    base = client.get("/api/access", params={"category": FS}).json()
    cold = client.get("/api/access", params={"category": FS, "season": "winter"}).json()
    assert cold["season"] == "winter"
    # more people at the winter peak, and no cell quicker with the passes closed
    assert sum(cold["population"]) > sum(base["population"])
    pairs = [(b, w) for b, w in zip(base["times"], cold["times"], strict=True) if b is not None]
    assert all(w is None or w >= b - 1e-6 for b, w in pairs)
    assert any(w is None or w > b + 1 for b, w in pairs)
    body = {"category": FS, "season": "winter", "added": [{"lon": FAR[0], "lat": FAR[1]}]}
    f = client.post("/api/scenario", json=body).json()
    site = gpd.GeoDataFrame({"site_id": ["n"], "label": ["n"]}, geometry=[Point(*FAR)], crs=4326)
    with _quiet():
        ev = evaluate_scenario(winter, FS, added=site.to_crs(2154))
    t = ev.territory.iloc[0]
    # seasonal populations are fractional: sums in another order differ in the last bit
    assert f["newly_within"]["total"] == pytest.approx(t["newly_within"], rel=1e-12)
    assert f["mean_after_min"] == pytest.approx(t["mean_after_min"])


def test_a_window_counts_only_the_sites_open_in_it(app, maurienne_study, maurienne_diagnostic):
    """With a time window, the existing sites are those open in it (fewer, so no cell is
    quicker) and the answers are the planning functions' with the same window."""
    _, client = app
    base = client.get("/api/access", params={"category": FS}).json()
    sat = client.get("/api/access", params={"category": FS, "window": "samedi_matin"}).json()
    assert 0 < len(sat["sites"]) < len(base["sites"])
    pairs = [(b, w) for b, w in zip(base["times"], sat["times"], strict=True) if b is not None]
    assert all(w is None or w >= b - 1e-9 for b, w in pairs)
    body = {"category": FS, "window": "samedi_matin", "added": [{"lon": FAR[0], "lat": FAR[1]}]}
    f = client.post("/api/scenario", json=body).json()
    site = gpd.GeoDataFrame({"site_id": ["n"], "label": ["n"]}, geometry=[Point(*FAR)], crs=4326)
    with _quiet():
        ev = evaluate_scenario(maurienne_study, FS, added=site.to_crs(2154), window="samedi_matin")
        sheet = project_sheet(
            maurienne_study, maurienne_diagnostic, FS, f"{FAR[0]},{FAR[1]}", window="samedi_matin"
        )
    assert f["newly_within"]["total"] == ev.territory.iloc[0]["newly_within"]
    assert f["sheet"]["nearest"] == pytest.approx(sheet.nearest)
    bad = client.post("/api/scenario", json={"category": FS, "window": "dimanche_soir"})
    assert bad.status_code == 422 and "créneau horaire inconnu" in bad.json()["message"]
    bad = client.post("/api/scenario", json={"category": "bakery", "window": "samedi_matin"})
    assert bad.status_code == 422 and "pas d'horaires d'ouverture publiés" in bad.json()["message"]
