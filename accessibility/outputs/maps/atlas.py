"""The steering committee's atlas: interactive folium maps that work offline, and their index.

One function per map (``m=None`` adds the layers to an existing map, as in geopandas'
``explore``); :func:`save_map` writes a self-contained HTML file (Leaflet and jQuery
inlined, see :mod:`accessibility.outputs.maps._assets`); :func:`build_atlas` writes every map and
an ``index.html``. Background tiles (OpenStreetMap) are an optional layer, off by default:
without internet the maps stay readable from their own data (commune outlines, labels of
the main towns).
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from branca.utilities import color_brewer
from jinja2 import Template

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.files import atomic_write
from accessibility.core.validate import require_columns, require_crs
from accessibility.inputs.services import load_categories
from accessibility.outputs.maps._assets import inline_assets, keep_only_offline_resources

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic

log = logging.getLogger(__name__)

#: Class edges of access times (minutes). Every category threshold in use (7, 15, 20,
#: 30 min) is an edge, so the legend can mark it exactly.
TIME_BINS_MIN = (0.0, 7.0, 15.0, 20.0, 30.0, 45.0, 60.0)
#: ColorBrewer YlOrRd (sequential, colour-blind safe), one colour per class.
TIME_COLORS = tuple(color_brewer("YlOrRd", len(TIME_BINS_MIN)))
NO_ACCESS_COLOR = "#636363"
GAIN_BINS_MIN = (0.0, 1.0, 5.0, 10.0, 20.0)
GAIN_COLORS = tuple(color_brewer("Greens", len(GAIN_BINS_MIN)))
LOSS_COLORS = tuple(color_brewer("Oranges", len(GAIN_BINS_MIN)))
#: Okabe-Ito palette (colour-blind safe), cycled over the service categories.
CATEGORY_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                   "#000000", "#F0E442")
DEFAULT_CATEGORY = "france_services"
DEFAULT_SERVICE_LAYERS = ("france_services", "hospital", "emergency", "post_office_bureau")
N_TOWN_LABELS = 10

#: French names of the publishers of each catalogued service source (attribution line).
SOURCE_NAMES_FR = {
    "services/liste-fs-20240801.csv": "ANCT France Services",
    "services/france_services_2020-10.geojson": "ANCT France Services",
    "services/gisco_healthcare_FR.csv": "FINESS (via Eurostat GISCO)",
    "services/laposte_poincont2_2016.csv": "La Poste, points de contact",
    "services/bpe2013.xlsx": "INSEE BPE",
    "services/bpe18_enseignement.csv": "INSEE BPE enseignement",
}

MAP_CAPTIONS_FR = {
    "acces": "Temps d'accès en voiture au service le plus proche, par catégorie, "
    "carreaux de 1 km et communes.",
    "services": "Tous les services recensés, une couche par catégorie, avec leur source.",
    "priorites": "Communes prioritaires, colorées par score, avec leur rang et leurs raisons.",
    "isochrones": "Zones à 10, 20 et 30 minutes des France Services et des hôpitaux.",
    "scenarios": "Scénario d'implantation : temps avant et après, gain par carreau.",
}
MAP_TITLES_FR = {
    "acces": "Temps d'accès aux services",
    "services": "Services publics et équipements",
    "priorites": "Communes prioritaires",
    "isochrones": "Isochrones 10, 20 et 30 minutes",
    "scenarios": "Scénario d'implantation",
}


# --- small helpers ---------------------------------------------------------------------


def _wgs84(gdf: gpd.GeoDataFrame, *, where: str, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    require_crs(gdf, where=where)
    out = gdf
    if simplify_m > 0:
        out = out.set_geometry(out.geometry.simplify(simplify_m, preserve_topology=True))
    out = out.to_crs(4326)
    # about 1 m: smaller files, nothing visible lost
    return out.set_geometry(shapely.set_precision(out.geometry.array, 1e-5))


def _text(value: Any) -> str:
    """A value for a popup or tooltip, HTML-escaped (folium inserts them as HTML)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return "—"
    return html.escape(str(value))


def _classify(values: Any, bins: Sequence[float], colors: Sequence[str]) -> list[str]:
    v = np.asarray(values, dtype=float)
    idx = np.clip(np.searchsorted(np.asarray(bins), v, side="right") - 1, 0, len(colors) - 1)
    return [NO_ACCESS_COLOR if np.isnan(x) else colors[i] for x, i in zip(v, idx, strict=True)]


def time_color(minutes: Any) -> list[str]:
    """Colour of each access time (classes :data:`TIME_BINS_MIN`; NaN: unreachable)."""
    return _classify(minutes, TIME_BINS_MIN, TIME_COLORS)


class _Snippet(MacroElement):
    """A piece of JavaScript run once the map exists (``{{map}}`` is its variable)."""

    def __init__(self, js: str, **context: Any) -> None:
        super().__init__()
        self._name = "AtlasSnippet"
        self.js = js
        self.context = context
        self._template = Template(
            "{% macro script(this, kwargs) %}"
            "(function(){ var map = {{ this._parent.get_name() }};\n"
            "{{ this.js }}\n})();"
            "{% endmacro %}"
        )


def _add_js(m: folium.Map, js: str) -> None:
    m.add_child(_Snippet(js))


def add_legend(
    m: folium.Map, title: str, rows: Sequence[tuple[str, str]], *,
    note: str = "", layers: Sequence[folium.map.Layer] = (),
    row_layers: Sequence[folium.map.Layer | None] = (),
) -> None:
    """A legend box (bottom right): ``rows`` of (colour, label), a title with its unit.

    With ``layers``, the legend shows only while one of them is on the map (for layer
    switchers: each category keeps its own legend and threshold). ``row_layers`` (one
    per row, or None) shows a row only while its layer is on the map.
    """
    items = "".join(
        f'<div class="atlas-row"><span class="atlas-swatch" style="background:{c}"></span>'
        f"{html.escape(lab)}</div>"
        if not lab.startswith("<") else lab
        for c, lab in rows
    )
    body = f'<div class="atlas-legend-title">{html.escape(title)}</div>{items}'
    if note:
        body += f'<div class="atlas-legend-note">{html.escape(note)}</div>'
    names = [lyr.get_name() for lyr in layers]
    js = (
        "var c = L.control({position: 'bottomright'});\n"
        "c.onAdd = function(){ var d = L.DomUtil.create('div', 'atlas-legend');"
        f" d.innerHTML = {_js_string(body)}; return d; }};\n"
        "c.addTo(map); var el = c.getContainer();\n"
    )
    if names:
        js += (
            f"var lyrs = [{', '.join(names)}];\n"
            "function sync(){ el.style.display = lyrs.some(function(l){ return map.hasLayer(l); })"
            " ? '' : 'none'; }\n"
            "map.on('layeradd layerremove', sync); sync();\n"
        )
    linked = [(i, lyr.get_name()) for i, lyr in enumerate(row_layers) if lyr is not None]
    if linked:
        pairs = ", ".join(f"[{i}, {n}]" for i, n in linked)
        js += (
            f"var rows = el.querySelectorAll('.atlas-row'), links = [{pairs}];\n"
            "function syncRows(){ links.forEach(function(p){ rows[p[0]].style.display ="
            " map.hasLayer(p[1]) ? '' : 'none'; }); }\n"
            "map.on('layeradd layerremove', syncRows); syncRows();\n"
        )
    _add_js(m, js)


def _js_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/")


_CSS = """
<style>
.atlas-legend, .atlas-title { background: rgba(255,255,255,0.92); padding: 6px 9px;
  border-radius: 4px; box-shadow: 0 0 6px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; }
.atlas-legend { max-width: 240px; }
.atlas-legend-title { font-weight: bold; margin-bottom: 4px; }
.atlas-legend-note { margin-top: 4px; font-style: italic; }
.atlas-swatch { display: inline-block; width: 16px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #777; }
.atlas-threshold { border-top: 3px solid #000; margin: 2px 0; font-weight: bold; }
.atlas-title h1 { font-size: 15px; margin: 0; } .atlas-title p { margin: 2px 0 0; }
.atlas-label { font: bold 11px sans-serif; color: #222; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.leaflet-container { background: #f4f1ea; }
</style>
"""


def new_map(bounds_from: gpd.GeoDataFrame, *, title: str, caption: str = "",
            attribution: str = "") -> folium.Map:
    """An empty atlas map: fitted to ``bounds_from``, no tiles shown, title and sources.

    OpenStreetMap tiles are an optional overlay, off by default (they need internet).
    """
    m = folium.Map(tiles=None, control_scale=True, zoom_start=10)
    keep_only_offline_resources(m)
    folium.TileLayer(
        "OpenStreetMap", name="Fond de carte OpenStreetMap (internet requis)",
        overlay=True, show=False,
    ).add_to(m)
    w, s, e, n = _wgs84(bounds_from, where="map extent").total_bounds
    m.fit_bounds([[s, w], [n, e]])
    m.get_root().header.add_child(folium.Element(_CSS), name="atlas_css")
    m.get_root().title = title
    box = f"<h1>{html.escape(title)}</h1>"
    if caption:
        box += f"<p>{html.escape(caption)}</p>"
    _add_js(
        m,
        "var t = L.control({position: 'topleft'});\n"
        "t.onAdd = function(){ var d = L.DomUtil.create('div', 'atlas-title');"
        f" d.innerHTML = {_js_string(box)}; return d; }}; t.addTo(map);\n",
    )
    if attribution:
        text = _js_string(html.escape(attribution))
        _add_js(m, f"map.attributionControl.addAttribution({text});")
    return m


def attribution_fr(study: Study, categories: Sequence[str] | None = None) -> str:
    """« Sources : ... » with each source and its vintage (population, communes, services)."""
    meta = study.layers.meta
    parts = [
        "INSEE / Eurostat recensement 2021 (carroyage 1 km)"
        if meta.get("grid") == "census1km"
        else str(meta.get("grid_vintage_fr", meta.get("grid_vintage", "population"))),
        "IGN Admin Express 2018, COG 2026 (communes)",
    ]
    svc = study.layers.services
    if categories is not None:
        svc = svc[svc[C.CATEGORY].isin(list(categories))]
    pairs = svc[[C.SOURCE, C.VINTAGE]].drop_duplicates().sort_values([C.SOURCE, C.VINTAGE])
    for src, vintage in pairs.itertuples(index=False):
        parts.append(f"{SOURCE_NAMES_FR.get(src, src)} {vintage}")
    net = study.layers.territory.sources.get("network", {})
    if isinstance(net, Mapping) and net.get("reader") == "travelmapping":
        parts.append("réseau routier TravelMapping (points OpenStreetMap)")
    elif isinstance(net, Mapping) and net.get("reader"):
        parts.append("réseau routier OpenStreetMap")
    return "Sources : " + ", ".join(dict.fromkeys(parts))


def _commune_layer_props(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = communes[[C.COMMUNE_CODE, C.COMMUNE_NAME, "geometry"]].copy()
    out[C.COMMUNE_NAME] = [_text(v) for v in out[C.COMMUNE_NAME]]
    return out


def add_town_labels(m: folium.Map, communes: gpd.GeoDataFrame, *, n: int = N_TOWN_LABELS,
                    name: str = "Noms des principales communes") -> folium.FeatureGroup:
    """Permanent labels (DivIcon) of the ``n`` most populated communes, drawn from data."""
    require_columns(communes, [C.COMMUNE_NAME, C.POPULATION], where="communes")
    top = communes.nlargest(n, C.POPULATION)
    pts = _wgs84(top.set_geometry(top.geometry.representative_point()), where="communes")
    fg = folium.FeatureGroup(name=name, overlay=True, show=True)
    for name_, p in zip(pts[C.COMMUNE_NAME], pts.geometry, strict=True):
        folium.Marker(
            [p.y, p.x],
            icon=folium.DivIcon(html=html.escape(str(name_)), class_name="atlas-label",
                                icon_size=(0, 0), icon_anchor=(0, 0)),
            tooltip=str(name_),
        ).add_to(fg)
    fg.add_to(m)
    return fg


def add_outlines(m: folium.Map, communes: gpd.GeoDataFrame, *, epci: bool = True,
                 show: bool = True) -> list[folium.FeatureGroup]:
    """Commune outlines (tooltip: the commune's name) and, if asked, EPCI outlines."""
    out = []
    fg = folium.FeatureGroup(name="Limites des communes", overlay=True, show=show)
    g = _wgs84(_commune_layer_props(communes), where="communes", simplify_m=20)
    folium.GeoJson(
        g.to_json(), name="communes",
        style_function=lambda f: {"color": "#555", "weight": 1, "fillOpacity": 0.0},
        tooltip=folium.GeoJsonTooltip([C.COMMUNE_NAME], aliases=["Commune"]),
    ).add_to(fg)
    fg.add_to(m)
    out.append(fg)
    if epci and C.EPCI_CODE in communes.columns:
        e = communes.dissolve(by=[C.EPCI_CODE, C.EPCI_NAME], as_index=False)
        e = _wgs84(e[[C.EPCI_CODE, C.EPCI_NAME, "geometry"]], where="EPCI", simplify_m=20)
        fe = folium.FeatureGroup(name="Limites des intercommunalités (EPCI)", overlay=True,
                                 show=show)
        folium.GeoJson(
            e.to_json(), name="epci",
            style_function=lambda f: {"color": "#000", "weight": 3, "fill": False},
        ).add_to(fe)
        fe.add_to(m)
        out.append(fe)
    return out


def _time_legend_rows(threshold_min: float | None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    edges = [*TIME_BINS_MIN, math.inf]
    for i, col in enumerate(TIME_COLORS):
        lo, hi = edges[i], edges[i + 1]
        if threshold_min is not None and lo == threshold_min:
            rows.append(("", f'<div class="atlas-threshold">seuil : {_fr.num(lo)} min</div>'))
        label = (f"{_fr.num(lo)} à {_fr.num(hi)} min" if math.isfinite(hi)
                 else f"{_fr.num(lo)} min et plus")
        rows.append((col, label))
    rows.append((NO_ACCESS_COLOR, "inaccessible par la route"))
    return rows


# --- 1. access times --------------------------------------------------------------------


def access_map(
    diagnostic: Diagnostic, *, categories: Sequence[str] | None = None,
    default: str = DEFAULT_CATEGORY, m: folium.Map | None = None, attribution: str = "",
) -> folium.Map:
    """Minutes to the nearest service of each category: 1 km cells over communes.

    One switchable layer per category (radio buttons), ``default`` shown first; each
    has its legend (classes :data:`TIME_BINS_MIN`, the category's threshold marked).
    Communes are coloured by their population-weighted mean time, cells by their own.
    """
    ind = diagnostic.indicators.set_index("indicator")
    cells, communes = diagnostic.cells, diagnostic.communes
    keys = list(categories) if categories is not None else [
        c[len("time_"):-len("_min")] for c in ind.index if c.startswith("time_")
    ]
    if default not in keys:
        default = keys[0]
    new = m is None
    if m is None:
        m = new_map(communes, title=MAP_TITLES_FR["acces"], caption=MAP_CAPTIONS_FR["acces"],
                    attribution=attribution)
        add_town_labels(m, communes)
    gc = _wgs84(_commune_layer_props(communes), where="communes", simplify_m=20)
    gx = _wgs84(cells[[C.POP_TOTAL, "geometry"]], where="cells")
    names = cells[C.COMMUNE_CODE].map(communes.set_index(C.COMMUNE_CODE)[C.COMMUNE_NAME])
    gx[C.COMMUNE_NAME] = [_text(v) for v in names.fillna("")]
    gx["habitants"] = [_fr.num(v) for v in cells[C.POP_TOTAL]]
    for key in keys:
        col = f"time_{key}_min"
        require_columns(communes, [col], where="diagnostic.communes")
        require_columns(cells, [col], where="diagnostic.cells")
        label = str(ind.loc[col, "label_fr"]).removeprefix("Temps d'accès : ")
        threshold = float(ind.loc[col, "threshold_min"])
        fg = folium.FeatureGroup(name=label, overlay=False, show=key == default)
        a = gc.assign(_color=time_color(communes[col]),
                      temps=[_fr.minutes(v) for v in communes[col]])
        folium.GeoJson(
            a.to_json(), name=f"communes {key}",
            style_function=lambda f: {"color": "#444", "weight": 1.2, "fillOpacity": 0.45,
                                      "fillColor": f["properties"]["_color"]},
            tooltip=folium.GeoJsonTooltip([C.COMMUNE_NAME, "temps"],
                                          aliases=["Commune", "Temps moyen (pondéré)"]),
        ).add_to(fg)
        b = gx.assign(_color=time_color(cells[col]), temps=[_fr.minutes(v) for v in cells[col]])
        folium.GeoJson(
            b.to_json(), name=f"carreaux {key}",
            style_function=lambda f: {"color": "#fff", "weight": 0.3, "fillOpacity": 0.8,
                                      "fillColor": f["properties"]["_color"]},
            tooltip=folium.GeoJsonTooltip([C.COMMUNE_NAME, "temps", "habitants"],
                                          aliases=["Commune", "Temps d'accès", "Habitants"]),
        ).add_to(fg)
        fg.add_to(m)
        add_legend(m, f"{label} : minutes en voiture", _time_legend_rows(threshold),
                   note="Carreaux de 1 km habités ; communes : moyenne pondérée par "
                   "la population.", layers=[fg])
    if new:  # 28 categories: a collapsed switcher keeps the map visible
        folium.LayerControl(collapsed=True).add_to(m)
    return m


# --- 2. services ------------------------------------------------------------------------


def services_map(
    services: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *,
    show: Sequence[str] = DEFAULT_SERVICE_LAYERS, m: folium.Map | None = None,
    attribution: str = "",
) -> folium.Map:
    """Every service as a circle marker, one layer per category; commune and EPCI outlines.

    The popup gives the name, address, hours, operator, source and vintage.
    """
    require_columns(services, [C.SERVICE_ID, C.CATEGORY, C.LABEL, C.ADDRESS, C.HOURS,
                               C.OPERATOR, C.SOURCE, C.VINTAGE], where="services")
    cats = load_categories()
    new = m is None
    if m is None:
        m = new_map(communes, title=MAP_TITLES_FR["services"],
                    caption=MAP_CAPTIONS_FR["services"], attribution=attribution)
        add_outlines(m, communes)
        add_town_labels(m, communes)
    g = _wgs84(services, where="services")
    rows: list[tuple[str, str]] = []
    row_layers: list[folium.map.Layer | None] = []
    order = [k for k in cats if k in set(g[C.CATEGORY])]
    order += sorted(set(g[C.CATEGORY]) - set(order))
    for i, key in enumerate(order):
        part = g[g[C.CATEGORY] == key]
        color = CATEGORY_COLORS[i % len(CATEGORY_COLORS)]
        label = cats[key].label if key in cats else key
        swatch = f'<span style="color:{color}">&#9679;</span> '
        fg = folium.FeatureGroup(name=f"{swatch}{html.escape(label)} ({len(part)})",
                                 overlay=True, show=key in show)
        props = gpd.GeoDataFrame(
            {
                "nom": [_text(v) for v in part[C.LABEL]],
                "categorie": _text(label),
                "adresse": [_text(v) for v in part[C.ADDRESS]],
                "horaires": [_text(v) for v in part[C.HOURS]],
                "gestionnaire": [_text(v) for v in part[C.OPERATOR]],
                "source": [_text(f"{SOURCE_NAMES_FR.get(s, s)} ({s})") for s in part[C.SOURCE]],
                "millesime": [_text(v) for v in part[C.VINTAGE]],
            },
            geometry=part.geometry.to_numpy(), crs=4326,
        )
        folium.GeoJson(
            props.to_json(), name=key,
            marker=folium.CircleMarker(radius=5, weight=1, color="#222", fill=True,
                                       fill_color=color, fill_opacity=0.9),
            tooltip=folium.GeoJsonTooltip(["nom"], labels=False),
            popup=folium.GeoJsonPopup(
                ["nom", "categorie", "adresse", "horaires", "gestionnaire", "source",
                 "millesime"],
                aliases=["Nom", "Catégorie", "Adresse", "Horaires", "Gestionnaire", "Source",
                         "Millésime"],
            ),
        ).add_to(fg)
        fg.add_to(m)
        rows.append((color, label))
        row_layers.append(fg)
    add_legend(m, "Services affichés", rows, row_layers=row_layers,
               note="Autres catégories : sélecteur de couches (en haut à droite).")
    if new:
        folium.LayerControl(collapsed=True).add_to(m)
    return m


# --- 3. priorities ----------------------------------------------------------------------


def priority_map(diagnostic: Diagnostic, *, m: folium.Map | None = None,
                 attribution: str = "") -> folium.Map:
    """Priority communes coloured by score; popup with rank, score and reasons."""
    communes = diagnostic.communes
    require_columns(communes, [C.COMMUNE_CODE, C.COMMUNE_NAME, "priority_score", "reasons"],
                    where="diagnostic.communes")
    rank = diagnostic.priority.set_index(C.COMMUNE_CODE)["rank"]
    if m is None:
        m = new_map(communes, title=MAP_TITLES_FR["priorites"],
                    caption=MAP_CAPTIONS_FR["priorites"], attribution=attribution)
        add_town_labels(m, communes)
    score = communes["priority_score"].astype(float)
    top = max(float(score.max()), 1.0)
    edges = np.unique(np.ceil(np.linspace(0, top, 6)))[1:]  # >0 classes, in points
    colors = color_brewer("PuRd", max(len(edges) + 1, 3))[-len(edges):]  # drop the palest
    g = _wgs84(communes[[C.COMMUNE_CODE, C.COMMUNE_NAME, "geometry"]], where="communes",
               simplify_m=20)
    fg = folium.FeatureGroup(name="Score de priorité", overlay=True, show=True)
    for row, sc, reasons in zip(g.itertuples(index=False), score, communes["reasons"],
                                strict=True):
        r = rank.get(row.commune_code)
        if sc > 0 and r is not None:
            fill = colors[int(np.searchsorted(edges, sc, side="left").clip(0, len(colors) - 1))]
            items = "".join(f"<li>{html.escape(x.strip())}</li>"
                            for x in str(reasons).split(";") if x.strip())
            popup = (f"<b>{html.escape(row.commune_name)}</b><br>Rang : {int(r)}"
                     f"<br>Score : {_fr.num(sc)} points<ul>{items}</ul>")
        else:
            fill = "#ffffff"
            popup = f"<b>{html.escape(row.commune_name)}</b><br>Non prioritaire (score 0)"
        folium.GeoJson(
            shapely.to_geojson(row.geometry), name=row.commune_code,
            style_function=lambda f, c=fill: {"color": "#444", "weight": 1,
                                              "fillColor": c, "fillOpacity": 0.8},
            tooltip=_text(row.commune_name),
            popup=folium.Popup(popup, max_width=360),
        ).add_to(fg)
    fg.add_to(m)
    lo = [0.0, *edges[:-1].tolist()]
    rows = [(c, f"{_fr.num(a + 1 if a else 1)} à {_fr.num(b)} points")
            for c, a, b in zip(colors, lo, edges, strict=True)]
    rows.insert(0, ("#ffffff", "non prioritaire (0 point)"))
    add_legend(m, "Score de priorité (points)", rows,
               note="Cliquer une commune : rang et raisons.")
    return m


# --- 4. isochrones ----------------------------------------------------------------------


def isochrones_map(
    study: Study, *, categories: Sequence[str] = ("france_services", "hospital"),
    minutes: Sequence[float] = (10, 20, 30), m: folium.Map | None = None,
    attribution: str = "",
) -> folium.Map:
    """Areas within each number of ``minutes`` of the nearest site of each category."""
    from accessibility.engine.isochrones import isochrones

    cats = load_categories()
    communes = study.layers.communes
    if m is None:
        m = new_map(communes, title=MAP_TITLES_FR["isochrones"],
                    caption=MAP_CAPTIONS_FR["isochrones"], attribution=attribution)
        add_outlines(m, communes, epci=False)
        add_town_labels(m, communes)
    colors = color_brewer("YlGnBu", max(len(minutes), 3))[::-1][: len(minutes)]
    svc = study.layers.services
    for i, key in enumerate(categories):
        sites = svc[svc[C.CATEGORY] == key]
        if sites.empty:
            log.warning("isochrones: no site of category %s", key)
            continue
        bands = isochrones(study.network, sites, site_id=None, minutes=minutes, snap=study.snap)
        bands = _wgs84(bands, where="isochrones").sort_values(C.MINUTES, ascending=False)
        label = cats[key].label if key in cats else key
        fg = folium.FeatureGroup(name=f"{label} : isochrones", overlay=True, show=i == 0)
        for mins, geom in zip(bands[C.MINUTES], bands.geometry, strict=True):
            c = colors[sorted(minutes).index(mins)]
            folium.GeoJson(
                shapely.to_geojson(geom), name=f"{key} {mins:g} min",
                style_function=lambda f, c=c: {"color": c, "weight": 1, "fillColor": c,
                                               "fillOpacity": 0.45},
                tooltip=f"{label} à moins de {_fr.num(mins)} min",
            ).add_to(fg)
        pts = _wgs84(sites, where="services")
        for lab, p in zip(pts[C.LABEL], pts.geometry, strict=True):
            folium.CircleMarker([p.y, p.x], radius=5, color="#000", weight=1.5,
                                fill_color=CATEGORY_COLORS[i % len(CATEGORY_COLORS)],
                                fill_opacity=1, tooltip=_text(lab)).add_to(fg)
        fg.add_to(m)
    rows = [(c, f"moins de {_fr.num(mn)} min") for c, mn in
            zip(colors, sorted(minutes), strict=True)]
    rows += [(CATEGORY_COLORS[i % len(CATEGORY_COLORS)],
              f"site : {cats[k].label if k in cats else k}") for i, k in enumerate(categories)]
    add_legend(m, "Temps en voiture jusqu'au site le plus proche (min)", rows)
    return m


# --- 5. scenarios -----------------------------------------------------------------------

SCENARIO_COLUMNS = ("time_before_min", "time_after_min")


def scenario_map(
    cells_before_after: gpd.GeoDataFrame, sites_existing: gpd.GeoDataFrame,
    sites_new: gpd.GeoDataFrame, *, communes: gpd.GeoDataFrame | None = None,
    label: str = "Nouveau site", threshold_min: float | None = None,
    m: folium.Map | None = None, attribution: str = "",
    title: str | None = None, caption: str | None = None, change: str = "gain",
) -> folium.Map:
    """Before / after access times of a scenario, and the time gained (or lost) per cell.

    ``change="gain"`` (a siting scenario) maps before − after in greens; ``"loss"`` (a
    winter scenario, say) maps after − before in oranges, with ``title``/``caption``.

    Parameters
    ----------
    cells_before_after
        Polygons (any CRS) with ``time_before_min`` and ``time_after_min`` (NaN:
        unreachable); an optional ``pop_total`` column is shown in the tooltip.
    sites_existing, sites_new
        Points: the sites already there, and those the scenario adds (a ``label``
        column, when present, names them).
    communes
        Optional commune polygons for the outlines and labels.
    label
        Name of the new sites in the legend.
    threshold_min
        Threshold marked in the time legend.
    """
    require_columns(cells_before_after, [*SCENARIO_COLUMNS, "geometry"],
                    where="scenario cells (cells_before_after)")
    for name, s in (("sites_existing", sites_existing), ("sites_new", sites_new)):
        require_crs(s, where=name)
        if len(s) and not (s.geom_type == "Point").all():
            raise ValueError(f"{name}: expected Point geometries, got "
                             f"{sorted(set(s.geom_type))}")
    if change not in ("gain", "loss"):
        raise ValueError(f"change must be 'gain' or 'loss', got {change!r}")
    before = cells_before_after["time_before_min"].astype(float)
    after = cells_before_after["time_after_min"].astype(float)
    gain = before - after if change == "gain" else after - before
    word = "Gain" if change == "gain" else "Allongement"
    change_colors = GAIN_COLORS if change == "gain" else LOSS_COLORS
    if m is None:
        m = new_map(cells_before_after if communes is None else communes,
                    title=title or MAP_TITLES_FR["scenarios"],
                    caption=caption or MAP_CAPTIONS_FR["scenarios"],
                    attribution=attribution)
        if communes is not None:
            add_outlines(m, communes, epci=False)
            if C.POPULATION in communes.columns:
                add_town_labels(m, communes)
    g = _wgs84(cells_before_after[["geometry"]], where="scenario cells")
    pop = cells_before_after.get(C.POP_TOTAL)
    g["avant"] = [_fr.minutes(v) for v in before]
    g["apres"] = [_fr.minutes(v) for v in after]
    g["gain"] = [_fr.minutes(v) if np.isfinite(v) else "—" for v in gain]
    g["habitants"] = [_fr.num(v) for v in pop] if pop is not None else "—"
    tooltip_fields = (["avant", "apres", "gain", "habitants"],
                      ["Avant", "Après", word, "Habitants"])
    layers = {}
    for key, name, colors, show in (
        ("gain", "Gain de temps (min)" if change == "gain" else "Allongement du temps (min)",
         _classify(gain, GAIN_BINS_MIN, change_colors), True),
        ("avant", "Temps d'accès avant", time_color(before), False),
        ("apres", "Temps d'accès après", time_color(after), False),
    ):
        fg = folium.FeatureGroup(name=name, overlay=False, show=show)
        folium.GeoJson(
            g.assign(_color=colors).to_json(), name=key,
            style_function=lambda f: {"color": "#fff", "weight": 0.3, "fillOpacity": 0.8,
                                      "fillColor": f["properties"]["_color"]},
            tooltip=folium.GeoJsonTooltip(*tooltip_fields),
        ).add_to(fg)
        fg.add_to(m)
        layers[key] = fg
    sites = folium.FeatureGroup(name="Sites", overlay=True, show=True)
    for s, color, radius, what in ((sites_existing, "#999999", 5, "Site existant"),
                                   (sites_new, "#0072B2", 8, label)):
        pts = _wgs84(s, where="sites")
        names = pts["label"] if "label" in pts.columns else pd.Series([what] * len(pts))
        for nm, p in zip(names, pts.geometry, strict=True):
            folium.CircleMarker([p.y, p.x], radius=radius, color="#000", weight=1.5,
                                fill_color=color, fill_opacity=1,
                                tooltip=f"{what} : {_text(nm)}").add_to(sites)
    sites.add_to(m)
    edges = [*GAIN_BINS_MIN, math.inf]
    gain_rows = [(c, f"{_fr.num(edges[i])} à {_fr.num(edges[i + 1])} min"
                  if math.isfinite(edges[i + 1]) else f"{_fr.num(edges[i])} min et plus")
                 for i, c in enumerate(change_colors)]
    gain_rows += [("#999999", "site existant")]
    if len(sites_new):
        gain_rows.append(("#0072B2", label.lower()))
    legend_title = (
        "Gain de temps d'accès (minutes)" if change == "gain"
        else "Allongement du temps d'accès (minutes)"
    )
    add_legend(m, legend_title, gain_rows, layers=[layers["gain"]])
    add_legend(m, "Temps d'accès (minutes en voiture)", _time_legend_rows(threshold_min),
               layers=[layers["avant"], layers["apres"]])
    return m


# --- writing ----------------------------------------------------------------------------


def render_offline(m: folium.Map) -> str:
    """The map as one self-contained HTML page (layer control added if missing)."""
    if not any(isinstance(c, folium.LayerControl) for c in m._children.values()):
        folium.LayerControl(collapsed=False).add_to(m)
    urls = {u: n for n, u in (*m.default_js, *m.default_css)}
    page = m.get_root().render()
    return inline_assets(page, urls)


def save_map(m: folium.Map, path: Path | str) -> Path:
    """Write ``m`` as a self-contained HTML file, atomically."""
    page = render_offline(m)
    return atomic_write(Path(path), lambda p: p.write_text(page, encoding="utf-8"))


def write_index(maps: Mapping[str, Path], out_dir: Path | str, *, territory_name: str,
                attribution: str = "", titles: Mapping[str, str] | None = None,
                captions: Mapping[str, str] | None = None) -> Path:
    """``index.html``: a link to each map with its one-line French caption.

    ``titles`` and ``captions`` add to (or override) the standard maps' ones.
    """
    out_dir = Path(out_dir)
    titles = {**MAP_TITLES_FR, **(titles or {})}
    captions = {**MAP_CAPTIONS_FR, **(captions or {})}
    items = "\n".join(
        f'<li><a href="{html.escape(Path(p).name)}">{html.escape(titles.get(k, k))}</a>'
        f" : {html.escape(captions.get(k, ''))}</li>"
        for k, p in maps.items()
    )
    page = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Atlas de l'accessibilité : {html.escape(territory_name)}</title>
<style>body {{ font: 15px/1.5 sans-serif; max-width: 46em; margin: 2em auto; }}</style>
</head><body>
<h1>Atlas de l'accessibilité aux services : {html.escape(territory_name)}</h1>
<p>Cartes interactives, utilisables hors ligne (le fond de carte OpenStreetMap, facultatif,
demande une connexion).</p>
<ul>
{items}
</ul>
<p><small>{html.escape(attribution)}</small></p>
</body></html>
"""
    return atomic_write(out_dir / "index.html",
                        lambda p: p.write_text(page, encoding="utf-8"))


def build_atlas(study: Study, diagnostic: Diagnostic, out_dir: Path | str, *,
                scenario: gpd.GeoDataFrame | None = None,
                scenario_sites: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None,
                comparison_cells: Mapping[str, gpd.GeoDataFrame] | None = None,
                comparison_label: str = "été / hiver",
                ) -> dict[str, Path]:
    """Write every map and ``index.html`` to ``out_dir``; return ``{name: path}``.

    The scenario map is written only when a ``scenario`` table (see
    :func:`scenario_map`) and its ``scenario_sites`` (existing, new) are given.
    """
    out_dir = Path(out_dir)
    layers = study.layers
    attr_all = attribution_fr(study)
    attr_iso = attribution_fr(study, ["france_services", "hospital"])
    maps = {
        "acces": access_map(diagnostic, attribution=attr_all),
        "services": services_map(layers.services, diagnostic.communes,
                                 attribution=attr_all),
        "priorites": priority_map(diagnostic, attribution=attr_all),
        "isochrones": isochrones_map(study, attribution=attr_iso),
    }
    if scenario is not None and scenario_sites is not None:
        maps["scenarios"] = scenario_map(scenario, *scenario_sites,
                                         communes=diagnostic.communes, attribution=attr_all)
    titles: dict[str, str] = {}
    captions: dict[str, str] = {}
    for key, cells in (comparison_cells or {}).items():
        svc = layers.services[layers.services[C.CATEGORY] == key]
        cats = load_categories()
        label = cats[key].label if key in cats else key
        empty = svc.iloc[0:0]
        name = f"comparaison_{key}"
        titles[name] = f"Comparaison {comparison_label} : {label}"
        captions[name] = (f"Temps d'accès à « {label} » dans les deux scénarios, et "
                          "allongement par carreau (gris : inaccessible).")
        maps[name] = scenario_map(
            cells, svc, empty, communes=diagnostic.communes, attribution=attr_all,
            change="loss", title=titles[name], caption=captions[name],
        )
    paths = {k: save_map(m, out_dir / f"{k}.html") for k, m in maps.items()}
    paths["index"] = write_index(paths, out_dir, territory_name=str(layers.territory.name),
                                 attribution=attr_all, titles=titles, captions=captions)
    log.info("atlas written to %s (%d maps)", out_dir, len(maps))
    return paths
