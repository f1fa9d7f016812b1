"""Hostile names in every page we write, loaded in headless Chromium (issue 12, item 2).

The Maurienne's commune, EPCI, service, category, candidate and scenario names are
replaced by strings that would run ``window.__pwned = 1`` if any of them reached the
page unescaped (HTML text, attribute, JavaScript string or template literal). The atlas
pages and the report are loaded offline, every tooltip and popup is opened, and the
sentinel must still be undefined; the names must read as written (escaped, not lost).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from accessibility.core.errors import SnapWarning

pytestmark = pytest.mark.integration


#: Each would set the sentinel in one context if not escaped for it.
HOSTILE = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "<img src=x onerror=window.__pwned=1>",
    "`+(window.__pwned=1)+`",
    "${window.__pwned=1}",
    "</script><script>window.__pwned=1</script>",
    "\\`;window.__pwned=1;//",
    "'-(window.__pwned=1)-'",
    "<svg onload=window.__pwned=1>",
]


def _hostile(i: int) -> str:
    return f"N{i} {HOSTILE[i % len(HOSTILE)]}"


@pytest.fixture(scope="module")
def hostile_pages(maurienne_study, maurienne_diagnostic, tmp_path_factory):
    """The atlas (with a scenario and a seasonal comparison map) and the report, built
    with hostile names everywhere a name from data or a user file can go."""
    from accessibility.outputs.maps import build_atlas
    from accessibility.outputs.report import build_report
    from accessibility.planning.results import ScenarioResult

    study, d = maurienne_study, maurienne_diagnostic
    names = {c: _hostile(i) for i, c in enumerate(d.communes["commune_code"])}
    epci = {c: _hostile(i + 3) for i, c in enumerate(d.communes["epci_code"].unique())}

    def rename(df):
        out = df.copy()
        if "commune_name" in out and "commune_code" in out:
            out["commune_name"] = out["commune_code"].map(names)
        if "epci_name" in out and "epci_code" in out:
            out["epci_name"] = out["epci_code"].map(epci)
        return out

    svc = study.layers.services.copy()
    svc["label"] = [_hostile(i) for i in range(len(svc))]
    svc["address"] = [_hostile(i + 1) for i in range(len(svc))]
    terr = dataclasses.replace(study.layers.territory, name=f"Territoire {HOSTILE[1]}")
    layers = dataclasses.replace(study.layers, services=svc, territory=terr,
                                 communes=rename(study.layers.communes))
    hstudy = dataclasses.replace(study, layers=layers)
    ind = d.indicators.copy()
    ind.loc[ind["indicator"] == "time_france_services_min", "label_fr"] = (
        f"Temps d'accès : FS {HOSTILE[3]}")
    prio = rename(d.priority)
    prio["reasons"] = [f"{HOSTILE[4]} ; {HOSTILE[0]}"] * len(prio)
    communes = rename(d.communes)
    communes["reasons"] = f"{HOSTILE[5]} ; {HOSTILE[2]}"
    hd = dataclasses.replace(d, communes=communes, priority=prio, indicators=ind,
                             epci=rename(d.epci))
    before = d.cells["time_france_services_min"]
    cells = d.cells[["geometry", "pop_total"]].assign(
        time_before_min=before, time_after_min=np.fmin(before, 12.0))
    fs = svc[svc["category"] == "france_services"]
    new = communes.nlargest(2, "priority_score")
    new = new.set_geometry(new.representative_point()).assign(
        label=[f"Candidat {HOSTILE[3]}", f"Candidat {HOSTILE[6]}"])
    out = tmp_path_factory.mktemp("hostile")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)  # far sites: reported by the diagnostic
        paths = build_atlas(hstudy, hd, out, scenario=cells, scenario_sites=(fs, new),
                            comparison_cells={"france_services": cells},
                            comparison_label=f"scénario {HOSTILE[4]}")
    scenario = ScenarioResult(
        title=f"Scénario {HOSTILE[0]}", summary_fr=f"Résumé {HOSTILE[3]}",
        table=prio[["commune_name", "priority_score"]].head(3), source=HOSTILE[1])
    paths["rapport"] = build_report(hstudy, hd, out, scenarios=[scenario], pdf=False)
    return paths




#: Open every tooltip and popup of every Leaflet map of the page (their HTML is only
#: inserted when shown); return how many were opened.
OPEN_ALL = """() => {
  let n = 0;
  for (const k of Object.keys(window)) {
    const m = window[k];
    if (!k.startsWith('map_') || !m || typeof m.eachLayer !== 'function') continue;
    m.eachLayer(l => {
      for (const [get, open] of [['getTooltip', 'openTooltip'], ['getPopup', 'openPopup']]) {
        if (!l[get] || !l[get]()) continue;
        try {
          if (l.eachLayer) { l.eachLayer(s => { l[open](s); n++; }); }
          else { l[open](); n++; }
        } catch (e) { /* a layer without a position */ }
      }
    });
  }
  return n;
}"""


@pytest.mark.parametrize(
    "name", ["acces", "services", "priorites", "isochrones", "scenarios",
             "comparaison_france_services", "index", "rapport"])
def test_hostile_names_run_no_script(hostile_pages, browser, name):
    ctx, blocked = browser
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(hostile_pages[name].as_uri())
    page.wait_for_load_state("load")
    opened = page.evaluate(OPEN_ALL)
    page.wait_for_timeout(300)
    pwned = page.evaluate("() => window.__pwned")
    text = page.locator("body").inner_text()
    page.close()
    assert pwned is None
    assert errors == []
    assert blocked == []
    if name not in ("index", "rapport"):
        assert opened > 0
    # the names are shown as written, not dropped
    shown = {"index": f"Territoire {HOSTILE[1]}", "rapport": HOSTILE[1],
             "priorites": "N0 <script>", "acces": "FS `+(window.__pwned=1)+`",
             "scenarios": "Candidat `+(window.__pwned=1)+`"}
    if name in shown:
        assert shown[name] in text
