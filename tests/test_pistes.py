"""« Pistes d'implantation »: a hand-made valley, the Maurienne against `accessibility site`,
and the report in Chromium.

The hand-made valley is one straight road at 60 km/h (one minute a kilometre) with four
communes whose town halls stand on it, every 10 km; the only general practitioner is in
the first. With the category's 7 minute threshold the answer can be worked out by hand
(see :data:`CELLS`).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.paths import default_paths
from accessibility.engine.study import Study
from accessibility.inputs.layers import Layers
from accessibility.inputs.territory import Territory
from accessibility.network.graph import RoadNetwork
from accessibility.planning.pistes import siting_options

X0, Y0 = 960_000.0, 6_470_000.0
KM = 1000.0
TO_LONLAT = Transformer.from_crs(2154, 4326, always_xy=True)

#: (x km, commune, population, 65+, under 15). Before: the one doctor is at km 0, so
#: only the first cell is within 7 min (cells at 10, 20, 30, 33 min).
#: One new site: at km 10 brings 50 within, at km 20 300, at km 30 200 + 10 = 210:
#: best is km 20 (C), +300, 65+ +100, under 15 +50.
#: Two new sites: C + D bring 300 + 210 = 510 (B + C 350, B + D 260): best is C and D,
#: 65+ 100 + 20 + 5 = 125, under 15 50 + 60 + 1 = 111.
#: Mean time (population 660): before (0·100 + 10·50 + 20·300 + 30·200 + 33·10) / 660
#: = 12 830 / 660; after C: (10·50 + 10·200 + 13·10) / 660 = 2 630 / 660; after C and
#: D: (10·50 + 3·10) / 660 = 530 / 660.
CELLS = [(0, "A", 100, 30, 10), (10, "B", 50, 10, 10), (20, "C", 300, 100, 50),
         (30, "D", 200, 20, 60), (33, "D", 10, 5, 1)]
COMMUNES = {"A": 0, "B": 10, "C": 20, "D": 30}  # town hall at this km


def _valley_study(tmp_path: Path) -> Study:
    xs = [X0 + i * KM for i in range(0, 41)]
    nodes = gpd.GeoDataFrame({"x": xs, "y": [Y0] * len(xs)},
                             geometry=[shapely.Point(x, Y0) for x in xs], crs=2154)
    nodes.index.name = C.NODE_ID
    rows = []
    for i in range(len(xs) - 1):
        for u, v in ((i, i + 1), (i + 1, i)):
            rows.append({C.U: u, C.V: v, C.LENGTH_M: KM, C.SPEED_KPH: 60.0,
                         C.TRAVEL_TIME_S: 60.0, C.ROAD_CLASS: "departementale", "ref": "D1",
                         "geometry": shapely.LineString([(xs[u], Y0), (xs[v], Y0)])})
    net = RoadNetwork(nodes, gpd.GeoDataFrame(rows, geometry="geometry", crs=2154))
    lon_lat = {k: TO_LONLAT.transform(X0 + km * KM, Y0) for k, km in COMMUNES.items()}
    communes = gpd.GeoDataFrame({
        C.COMMUNE_CODE: [f"9900{i}" for i in range(4)],
        C.COMMUNE_NAME: [f"Commune {k} <b>&" for k in COMMUNES],
        C.EPCI_CODE: "999999999", C.EPCI_NAME: "CC de la vallée",
        C.POPULATION: [sum(c[2] for c in CELLS if c[1] == k) for k in COMMUNES],
        C.TOWN_HALL_LON: [lon_lat[k][0] for k in COMMUNES],
        C.TOWN_HALL_LAT: [lon_lat[k][1] for k in COMMUNES],
    }, geometry=[shapely.box(X0 + (km - 5) * KM, Y0 - 5 * KM, X0 + (km + 5) * KM, Y0 + 5 * KM)
                 for km in COMMUNES.values()], crs=2154)
    code = dict(zip(COMMUNES, communes[C.COMMUNE_CODE], strict=True))
    cells = gpd.GeoDataFrame({
        C.CELL_ID: [f"cell{km}" for km, *_ in CELLS],
        C.COMMUNE_CODE: [code[c] for _, c, *_ in CELLS],
        C.POP_TOTAL: [float(p) for _, _, p, _, _ in CELLS],
        C.POP_65PLUS: [float(a) for *_, a, _ in CELLS],
        C.POP_UNDER15: [float(u) for *_, u in CELLS],
        "x": [X0 + km * KM for km, *_ in CELLS], "y": [Y0] * len(CELLS),
    }, geometry=[shapely.box(X0 + km * KM - 500, Y0 - 500, X0 + km * KM + 500, Y0 + 500)
                 for km, *_ in CELLS], crs=2154)
    services = gpd.GeoDataFrame({
        C.SERVICE_ID: ["general_practitioner/doc:1"], C.CATEGORY: ["general_practitioner"],
        C.LABEL: ["Cabinet médical"], C.COMMUNE_CODE: [code["A"]], C.IN_TERRITORY: [True],
    }, geometry=[shapely.Point(X0, Y0)], crs=2154)
    terr = Territory(slug="vallee", name="Vallée", file=tmp_path / "vallee.toml",
                     selectors={"insee": tuple(code.values())})
    return Study(layers=Layers(terr, communes, cells, services), network=net,
                 paths=default_paths())


def _priority(study: Study) -> SimpleNamespace:
    """C is a « Priorité 1 » commune, B « À surveiller », A and D have score 0."""
    codes = study.layers.communes[C.COMMUNE_CODE].tolist()
    names = study.layers.communes[C.COMMUNE_NAME].tolist()
    priority = pd.DataFrame({
        "rank": [1, 2, 3, 4], C.COMMUNE_CODE: [codes[2], codes[1], codes[0], codes[3]],
        C.COMMUNE_NAME: [names[2], names[1], names[0], names[3]],
        "priority_score": [6.0, 3.0, 0.0, 0.0],
        "priority_tier": ["Priorité 1", "À surveiller", None, None],
    })
    return SimpleNamespace(priority=priority)


@pytest.fixture
def valley(tmp_path):
    return _valley_study(tmp_path)


def test_best_one_and_two_sites_by_hand(valley):
    result = siting_options(valley, _priority(valley), categories=["general_practitioner"])
    assert result.skipped == ()
    one, two = result.options
    assert (one.new, two.new) == (1, 2)
    assert one.threshold_min == 7
    assert list(one.sites[C.COMMUNE_NAME]) == ["Commune C <b>&"]
    assert sorted(two.sites[C.COMMUNE_NAME]) == ["Commune C <b>&", "Commune D <b>&"]
    assert (one.newly_within, one.newly_within_65plus, one.newly_within_under15) == (300, 100, 50)
    assert (two.newly_within, two.newly_within_65plus, two.newly_within_under15) == (510, 125, 111)
    assert one.mean_before_min == pytest.approx(12_830 / 660, abs=1e-6)
    assert one.mean_after_min == pytest.approx(2_630 / 660, abs=1e-6)
    assert two.mean_after_min == pytest.approx(530 / 660, abs=1e-6)
    # priority communes that gain: C only (B gains nothing, D is not a priority)
    assert one.priority[C.COMMUNE_NAME].tolist() == ["Commune C <b>&"]
    assert one.priority["priority_tier"].tolist() == ["Priorité 1"]
    assert one.priority["newly_within"].tolist() == [300]
    assert two.priority[C.COMMUNE_NAME].tolist() == ["Commune C <b>&"]
    assert int(two.cells["newly_within"].sum()) == 3  # cells at km 20, 30 and 33
    assert one.command.endswith("--category general_practitioner --new 1")


def test_a_question_without_candidates_enough_is_reported_not_dropped(valley):
    result = siting_options(valley, _priority(valley), categories=["general_practitioner"],
                            new=(1, 5))
    assert [o.new for o in result.options] == [1]
    assert result.skipped and result.skipped[0][0] == "general_practitioner"
    assert "5 new site(s) asked for but there are only 4" in result.skipped[0][1]


def test_bad_model_is_refused(valley):
    with pytest.raises(DataError, match="model must be one of"):
        siting_options(valley, _priority(valley), model="lscp")


def test_section_renders_escaped_in_french(valley, tmp_path):
    from accessibility.outputs.report import _figure, template_environment
    from accessibility.outputs.report_pistes import pistes_context

    result = siting_options(valley, _priority(valley), categories=["general_practitioner"])
    ctx = pistes_context(result, valley, tmp_path, None, _figure)
    html = template_environment().get_template("pistes.html.j2").render(pistes=ctx)
    assert "Pistes d'implantation" in html
    assert "Où installer une maison de santé (médecins généralistes) ?" in html
    assert "Commune C &lt;b&gt;&amp;" in html and "<b>&" not in html
    assert "+510" in html and "+125" in html and "+111" in html
    assert (tmp_path / "figures" / "pistes_general_practitioner.png").stat().st_size > 10_000


# --- the Maurienne ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def maurienne_pistes(maurienne_study, maurienne_diagnostic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return siting_options(maurienne_study, maurienne_diagnostic)


def _site_cli(tmp_path: Path, category: str, new: int) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    from accessibility.cli import main

    out = tmp_path / f"{category}-{new}"
    args = ["-q", "site", "--territory", "maurienne", "--category", category, "--new",
            str(new), "--out", str(out), "--no-map"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    stem = f"scenario_{category}_mclp"
    return (res.output, pd.read_csv(out / f"{stem}_sites.csv", dtype=str),
            pd.read_csv(out / f"{stem}_cells.csv", dtype={C.CELL_ID: str}))


@pytest.mark.integration
@pytest.mark.parametrize("category", ["france_services", "general_practitioner"])
def test_maurienne_figures_equal_the_site_command(maurienne_pistes, category, tmp_path):
    options = {o.new: o for o in maurienne_pistes.options if o.category == category}
    assert sorted(options) == [1, 2]
    for new, o in options.items():
        assert o.command == (f"accessibility site --territory maurienne --category {category} "
                             f"--new {new}")
        output, sites, cells = _site_cli(tmp_path, category, new)
        assert sorted(sites[C.SITE_ID]) == sorted(o.sites[C.SITE_ID])
        after, before = (cells[c].fillna(float("inf")) for c in ("time_after_min",
                                                                 "time_before_min"))
        newly = (after <= o.threshold_min) & ~(before <= o.threshold_min)
        assert cells.loc[newly, C.POP_TOTAL].sum() == pytest.approx(o.newly_within)
        assert cells.loc[newly, C.POP_65PLUS].sum() == pytest.approx(o.newly_within_65plus)
        assert cells.loc[newly, C.POP_UNDER15].sum() == pytest.approx(o.newly_within_under15)
        # the command's one-line summary carries the same gain and mean times
        summary = re.search(r"([+−]\d+(?:\s\d{3})*) habitants .* \(temps moyen pondéré "
                            r"(\S+)\smin → (\S+)\smin\)", output)
        assert summary is not None, output
        assert summary[1].replace("\u202f", "").replace("\xa0", "").replace(" ", "") \
            == f"+{o.newly_within:.0f}"
        assert summary[2] == f"{o.mean_before_min:.1f}".replace(".", ",")
        assert summary[3] == f"{o.mean_after_min:.1f}".replace(".", ",")
        assert o.newly_within > 0 and o.mean_after_min < o.mean_before_min


@pytest.mark.integration
def test_maurienne_report_has_the_section_in_chromium(maurienne_study, maurienne_diagnostic,
                                                      maurienne_pistes, browser, tmp_path):
    from accessibility.outputs.report import build_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = build_report(maurienne_study, maurienne_diagnostic, tmp_path, pdf=False,
                            pistes=maurienne_pistes)
    ctx, blocked = browser
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    section = page.locator("section#pistes")
    assert section.locator("h2").inner_text() == "Pistes d'implantation"
    assert section.locator("h3").all_inner_texts() == [
        "Où ouvrir une nouvelle France Services ?",
        "Où installer une maison de santé (médecins généralistes) ?"]
    assert "Aucun scénario d'implantation" not in page.content()
    fs = {o.new: o for o in maurienne_pistes.options if o.category == "france_services"}
    table = section.locator("table.pistes").first
    assert table.locator("thead th").all_inner_texts()[1:] == ["1 nouveau site",
                                                               "2 nouveaux sites"]
    where = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert where[1] == ", ".join(fs[2].sites[C.COMMUNE_NAME])
    gain = table.locator("tbody tr").nth(1).locator("td").all_inner_texts()
    assert [g.replace("\u202f", "").replace("\xa0", "") for g in gain] == [
        f"+{fs[1].newly_within:.0f}", f"+{fs[2].newly_within:.0f}"]
    assert section.locator("code", has_text="accessibility serve --territory maurienne").count()
    # the maps are images that loaded (natural width > 0), with their French caption
    widths = section.locator("figure img").evaluate_all("els => els.map(e => e.naturalWidth)")
    assert len(widths) == 2 and min(widths) > 500
    caption = section.locator("figcaption").first.inner_text()
    assert caption.startswith("France Services : emplacements choisis parmi les mairies")
    assert "amenés à 30" in caption
    page.close()
    assert errors == [] and blocked == []
