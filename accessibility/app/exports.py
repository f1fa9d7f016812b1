"""A scenario's exports, built in memory and sent as the response (never written to a
path a request names).

Owns: :func:`export_scenario` (CSV of the communes' before/after figures, GeoJSON of the
sites and cells, the printable « fiche » in HTML, and in PDF when WeasyPrint is
installed, as the report does) and :func:`fiche_html`.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd

from accessibility.app.models import SEASONS
from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.escape import html_text
from accessibility.planning.project import ProjectSheet
from accessibility.planning.sites import ScenarioEvaluation

#: Export formats: media type and file suffix.
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "geojson": ("application/geo+json", "geojson"),
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
}

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
    "color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em;border-bottom:1px "
    "solid #ccc}table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .6em;"
    "border-bottom:1px solid #ddd;text-align:left}.source{color:#666;font-size:.85em}"
)


class ExportUnavailable(RuntimeError):
    """The format cannot be produced here (PDF without WeasyPrint)."""


def _epci_table(ev: ScenarioEvaluation) -> pd.DataFrame:
    e = ev.epci
    return pd.DataFrame({
        "EPCI": e[C.EPCI_NAME],
        "Temps moyen avant": [_fr.minutes(v) for v in e["mean_before_min"]],
        "Temps moyen après": [_fr.minutes(v) for v in e["mean_after_min"]],
        f"Nouveaux habitants à {ev.threshold_min:g}{_fr.NBSP}min": [
            _fr.num(v) for v in e["newly_within"]],
    })  # fmt: skip


def fiche_html(
    ev: ScenarioEvaluation, sheet: ProjectSheet | None, season: str, territory: str
) -> str:
    """The printable page of a scenario: summary, before/after, by EPCI, the sites and,
    for one added site, its « fiche projet » (rendered by the sheet itself)."""
    title = f"Scénario : {ev.category_label} — {territory} ({SEASONS.get(season, season)})"
    res = ev.scenario_result()
    body = [f"<h1>{html_text(title)}</h1>", f"<p>{html_text(ev.summary_fr)}</p>",
            "<h2>Avant / après</h2>", res.table.to_html(index=False, border=0, escape=True),
            "<h2>Par intercommunalité</h2>",
            _epci_table(ev).to_html(index=False, border=0, escape=True)]  # fmt: skip
    sites = [("Site ajouté", r) for r in ev.added.itertuples(index=False)]
    sites += [("Site fermé", r) for r in ev.removed.itertuples(index=False)]
    if sites:
        body.append("<h2>Sites</h2><ul>")
        body += [f"<li>{html_text(k)} : {html_text(getattr(r, C.LABEL))}</li>" for k, r in sites]
        body.append("</ul>")
    if sheet is not None:
        inner = re.search(r"<body>(.*)</body>", sheet.to_html(), flags=re.S)
        body.append(inner.group(1) if inner else "")  # the sheet escapes its own strings
    body.append(f'<p class="source">{html_text(res.source)}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html_text(title)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _geojson(ev: ScenarioEvaluation) -> str:
    parts = []
    for role, gdf in (("ajout", ev.added), ("fermeture", ev.removed)):
        if len(gdf):
            keep = [c for c in (C.SITE_ID, C.LABEL, C.COMMUNE_CODE) if c in gdf.columns]
            parts.append(gdf[[*keep, "geometry"]].assign(role=role).to_crs(4326))
    cols = [C.CELL_ID, C.COMMUNE_CODE, C.POP_TOTAL, "time_before_min", "time_after_min"]
    cells = ev.cells[[*cols, "geometry"]].assign(role="carreau").to_crs(4326)
    parts.append(cells)
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326).to_json(drop_id=True)


def export_scenario(
    ev: ScenarioEvaluation, sheet: ProjectSheet | None, fmt: str, season: str, territory: str
) -> bytes:
    """The scenario as ``fmt`` (a key of :data:`FORMATS`), as bytes."""
    if fmt == "csv":
        return ev.communes.to_csv(index=False).encode("utf-8")
    if fmt == "geojson":
        return _geojson(ev).encode("utf-8")
    page = fiche_html(ev, sheet, season, territory)
    if fmt == "html":
        return page.encode("utf-8")
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExportUnavailable(
            "le PDF demande WeasyPrint, absent de cette installation : exportez la fiche en "
            "HTML et imprimez-la depuis le navigateur"
        ) from exc
    return weasyprint.HTML(string=page).write_pdf()
