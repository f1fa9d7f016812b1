"""The printable report: formatting helpers (by hand) and the Maurienne report (real data)."""

from __future__ import annotations

import base64
import html
import logging
import re
import struct

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from accessibility.core.errors import DataError
from accessibility.outputs.report import (
    ScenarioResult,
    build_report,
    class_labels,
    classify,
    format_cell,
    share,
    split_reasons,
    study_sources,
    time_map,
)

NNBSP = "\u202f"
NBSP = "\u00a0"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- helpers, on hand-made inputs ----------------------------------------------------------


def test_class_labels_three_limits():
    # classes [0, 10), [10, 20), [20, +inf)
    assert class_labels((0, 10, 20)) == [
        f"moins de 10{NBSP}min",
        f"10 à 20{NBSP}min",
        f"20{NBSP}min et plus",
    ]


def test_class_labels_thousands_use_narrow_space():
    assert class_labels((0, 1000), unit="") == ["moins de 1\u202f000", "1\u202f000 et plus"]


@pytest.mark.parametrize("bins", [(10,), (0, 10, 10), (0, 20, 10)])
def test_class_labels_rejects_bad_limits(bins):
    with pytest.raises(DataError, match="increasing"):
        class_labels(bins)


def test_classify_by_hand():
    # bins (0, 10, 20): 0 and 9.99 -> class 0; 10 -> 1 (left-closed); 25 -> open class 2;
    # -1 (below the first limit) -> class 0; NaN -> -1
    got = classify(np.array([0.0, 9.99, 10.0, 25.0, -1.0, np.nan]), (0, 10, 20))
    assert got.tolist() == [0, 0, 1, 2, 0, -1]


def test_share_keeps_a_decimal_under_ten_percent():
    assert share(0.0035) == f"0,4{NBSP}%"  # 152 / 43 044 people would read "0 %" otherwise
    assert share(0.274) == f"27{NBSP}%"
    assert share(0.0) == f"0{NBSP}%"
    assert share(float("nan")) == "n.d."


def test_format_cell_kinds():
    assert format_cell(12345) == f"12{NNBSP}345"
    assert format_cell(2.25, "num1") == "2,2"  # round-half-even of 2.25 -> 2,2
    assert format_cell(5.28, "min") == f"5,3{NBSP}min"
    assert format_cell(16.2, "min") == f"16{NBSP}min"
    assert format_cell(30.0, "min0") == f"30{NBSP}min"
    assert format_cell(0.5, "pct") == f"50{NBSP}%"
    assert format_cell("Avant") == "Avant"
    assert format_cell(float("nan")) == "n.d."


def test_split_reasons():
    text = "France Services à 44 min (seuil 20 min) ; Urgences à 42 min (seuil 30 min)"
    assert split_reasons(text) == [
        "France Services à 44 min (seuil 20 min)",
        "Urgences à 42 min (seuil 30 min)",
    ]
    assert split_reasons(None) == []


def test_scenario_result_checks_its_table():
    with pytest.raises(DataError, match="title"):
        ScenarioResult(" ", "x", pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(DataError, match="at least one value column"):
        ScenarioResult("t", "x", pd.DataFrame({"a": [1]}))


def test_time_map_legend_on_three_squares():
    # three 1 km squares at 4, 12 and 50 min; threshold 10 min; bins 0/10/20
    # -> classes 0, 1 and 2 present; 12 and 50 are beyond the threshold (hatched)
    communes = gpd.GeoDataFrame(
        {"t": [4.0, 12.0, 50.0]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
        crs="EPSG:2154",
    )
    fig = time_map(communes, "t", title="Essai", threshold_min=10, bins=(0, 10, 20))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == [*class_labels((0, 10, 20)), f"au-delà du seuil (10{NBSP}min)"]


# --- the Maurienne report ------------------------------------------------------------------


def _text(page: str) -> str:
    """The page's text, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report(maurienne_study, maurienne_diagnostic, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    path = build_report(maurienne_study, maurienne_diagnostic, out)
    return path


@pytest.mark.integration
def test_report_title_and_key_figures(report, maurienne_diagnostic):
    page = report.read_text(encoding="utf-8")
    title = "Diagnostic de l'accessibilité aux services — Pays de Maurienne"
    assert html.unescape(re.search(r"<title>(.*?)</title>", page).group(1)) == title
    text = _text(page)
    assert title in text
    # French thousands: the population (over 40,000) printed with a narrow no-break space
    pop = int(maurienne_diagnostic.communes["population"].sum())
    assert pop > 1000
    assert f"{pop // 1000}{NNBSP}{pop % 1000:03d}" in text
    assert "53" in text and "Chiffres clés" in text
    # the share of people beyond 30 min of a France Services, from the territory table
    t = maurienne_diagnostic.territory.set_index("indicator")
    fs = t.loc["time_france_services_min", "share_beyond"]
    assert share(fs) in text


@pytest.mark.integration
def test_report_names_every_epci_and_the_top_priority(report, maurienne_diagnostic):
    text = _text(report.read_text(encoding="utf-8"))
    names = maurienne_diagnostic.communes["epci_name"].unique()
    assert len(names) == 5  # the five EPCI of the Pays de Maurienne (MANIFEST.md)
    for name in names:
        assert name in text
    top = maurienne_diagnostic.priority.iloc[0]
    assert top["commune_name"] in text
    for reason in split_reasons(top["reasons"]):
        assert reason in text
    # the tiers: as many « Priorité 1 » as the diagnostic counts (score >= 6)
    n1 = int((maurienne_diagnostic.priority["priority_score"] >= 6).sum())
    assert 0 < n1 < len(maurienne_diagnostic.communes) / 2  # a short list: a minority
    assert f"{n1} en « Priorité 1 » (score d'au moins 6)" in text


@pytest.mark.integration
def test_report_sources_and_vintages(report, maurienne_study):
    text = _text(report.read_text(encoding="utf-8"))
    assert "Sources et millésimes" in text
    section = text[text.index("Sources et millésimes") :]
    sources = study_sources(maurienne_study)
    for row in sources.itertuples():
        assert row.vintage in section
        assert row.licence in section
    # independent of study_sources: the files this study must read, with their vintages
    # as catalogued (data/sources.toml)
    for path, vintage in [
        ("services/liste-fs-20240801.csv", "2024-08"),
        ("roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz", "2026"),
        ("communes/etalab-decoupage-administratif-6.0.0.tgz", "COG 2026"),
        ("services/gisco_healthcare_FR.csv", "2020-03"),
    ]:
        assert path in section
        assert vintage in section


@pytest.mark.integration
def test_report_figures_are_embedded_pngs(report):
    page = report.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 5  # France Services, emergency, GP, priorities, services
    for b64 in images:
        data = base64.b64decode(b64)
        w, h = _png_size(data)
        assert 500 < w < 3000 and 300 < h < 3000
    saved = sorted((report.parent / "figures").glob("*.png"))
    assert len(saved) == 5
    assert {base64.b64encode(p.read_bytes()).decode() for p in saved} == set(images)
    # every figure has a caption naming its source
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert len(captions) == 5
    assert all("Source" in c for c in captions)
    # no temporary file left behind
    assert not [p for p in report.parent.rglob(".*")]


@pytest.mark.integration
def test_report_pdf_or_logged_reason(report, caplog):
    pdf = report.parent / "rapport.pdf"
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        assert not pdf.exists()
        from accessibility.outputs.report import write_pdf

        with caplog.at_level(logging.WARNING, logger="accessibility.outputs.report"):
            assert write_pdf(report, pdf) is None
        assert "no PDF" in caplog.text
    else:
        head = pdf.read_bytes()[:5]
        assert head == b"%PDF-"
        assert pdf.stat().st_size > 50_000  # five maps at 150 dpi


@pytest.mark.integration
def test_report_scenarios_section(maurienne_study, maurienne_diagnostic, tmp_path, report):
    text = _text(report.read_text(encoding="utf-8"))
    assert "Aucun scénario d'implantation" in text
    scenario = ScenarioResult(
        title="Une France Services de plus",
        summary_fr="Une maison à Bessans réduirait l'éloignement de la Haute Maurienne.",
        table=pd.DataFrame(
            {"Indicateur": ["Habitants à plus de 30 min"], "Avant": [2625], "Après": [1300]}
        ),
        source="MCLP, seuil 30 min",
    )
    (tmp_path / "rapport.pdf").write_bytes(b"%PDF- of an earlier run")
    path = build_report(
        maurienne_study, maurienne_diagnostic, tmp_path, scenarios=[scenario], pdf=False
    )
    text = _text(path.read_text(encoding="utf-8"))
    assert "Une France Services de plus" in text
    assert f"2{NNBSP}625" in text and f"1{NNBSP}300" in text
    assert "Aucun scénario d'implantation" not in text
    assert not (tmp_path / "rapport.pdf").exists()  # the stale PDF is gone, not announced
    with pytest.raises(DataError, match="ScenarioResult"):
        build_report(maurienne_study, maurienne_diagnostic, tmp_path, scenarios=[{"a": 1}])


@pytest.mark.integration
def test_no_weasyprint_removes_the_stale_pdf(maurienne_study, maurienne_diagnostic, tmp_path,
                                             monkeypatch):
    """Without WeasyPrint write_pdf returns None: a rapport.pdf of an earlier run must
    not stay beside the new HTML (the CLI announces the PDF when it exists)."""
    import accessibility.outputs.report as report_module

    monkeypatch.setattr(report_module, "write_pdf", lambda html, pdf: None)
    (tmp_path / "rapport.pdf").write_bytes(b"%PDF- of an earlier run")
    build_report(maurienne_study, maurienne_diagnostic, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "rapport.html"]
