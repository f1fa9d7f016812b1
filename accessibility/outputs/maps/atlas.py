"""The steering committee's atlas: interactive folium maps that work offline, and their index.

Owns: one function per map (``m=None`` adds the layers to an existing map, as in
geopandas' ``explore``): :func:`access_map`, :func:`services_map`, :func:`priority_map`,
:func:`isochrones_map`, :func:`scenario_map`; and :func:`build_atlas`, which writes every
map and an ``index.html``. The common parts (classes, legends, outlines) are in
:mod:`accessibility.outputs.maps.base`, what a map kind shows (shared with the report)
in :mod:`accessibility.outputs.maps.kinds`, the writing in
:mod:`accessibility.outputs.maps.pages`. Background tiles (OpenStreetMap) are an optional
layer, off by default: without internet the maps stay readable from their own data.
"""

from __future__ import annotations

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
from branca.utilities import color_brewer

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.escape import html_text, js_template_html
from accessibility.core.validate import require_columns, require_crs
from accessibility.inputs.services import load_categories
from accessibility.outputs.maps.base import (  # noqa: F401 (re-exported names)
    DEFAULT_CATEGORY,
    DEFAULT_SERVICE_LAYERS,
    GAIN_BINS_MIN,
    GAIN_COLORS,
    LOSS_COLORS,
    MAP_CAPTIONS_FR,
    MAP_TITLES_FR,
    N_TOWN_LABELS,
    SOURCE_NAMES_FR,
    _classify,
    _commune_layer_props,
    _text,
    _time_legend_rows,
    _tooltip,
    _wgs84,
    add_legend,
    add_outlines,
    add_town_labels,
    attribution_fr,
    new_map,
    time_color,
)
from accessibility.outputs.maps.kinds import (  # noqa: F401 (re-exported names)
    CATEGORY_COLORS,
    NO_ACCESS_COLOR,
    TIME_BINS_MIN,
    TIME_COLORS,
    priority_classes,
    service_order,
    service_styles,
)
from accessibility.outputs.maps.pages import render_offline, save_map, write_index  # noqa: F401
from accessibility.outputs.maps.roads import add_roads, road_lines

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic

log = logging.getLogger(__name__)


def _roads(m: folium.Map, roads: gpd.GeoDataFrame | None) -> None:
    """The roads context layer, when given, on a new map (under the data)."""
    if roads is not None:
        add_roads(m, roads)


# --- 1. access times --------------------------------------------------------------------


def access_map(
    diagnostic: Diagnostic, *, categories: Sequence[str] | None = None,
    default: str = DEFAULT_CATEGORY, m: folium.Map | None = None, attribution: str = "",
    far: gpd.GeoDataFrame | None = None, roads: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Minutes to the nearest service of each category: 1 km cells over communes.

    ``far``: cells far from the road network, drawn as the reliability overlay
    (:func:`add_reliability_layer`). ``roads``: the roads context layer
    (:func:`~accessibility.outputs.maps.roads.road_lines`), drawn under the data.

    One switchable layer per category (radio buttons), ``default`` shown first; each
    has its legend (classes :data:`TIME_BINS_MIN`, the category's threshold marked).
    Communes are coloured by their population-weighted mean time, cells by their own.
    """
    ind = diagnostic.indicators.set_index("indicator")
    cells, communes = diagnostic.cells, diagnostic.communes
    keys = list(categories) if categories is not None else [
        c[len("time_"):-len("_min")] for c in ind.index
        if c.startswith("time_") and "_at_" not in c  # time windows: their own map
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
        fg = folium.FeatureGroup(name=html_text(label), overlay=False, show=key == default)
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
    if far is not None:
        add_reliability_layer(m, far)
    if new:  # 28 categories: a collapsed switcher keeps the map visible
        # the roads (own pane: under the data whatever the order) listed last, so the
        # switcher's reliability line stays above the legend on a small screen
        _roads(m, roads)
        folium.LayerControl(collapsed=True).add_to(m)
    return m


def add_reliability_layer(m: folium.Map, far: gpd.GeoDataFrame) -> folium.Map:
    """Add a warning overlay (hidden at first; add it before the layer switcher, whose
    script names every layer): the cells whose centre lies more than 1 km from the road
    network, where the times rest most on the access model (docs/network-calibration.md)."""
    from accessibility.validation.coverage import DISTANCE_M

    if far.empty:
        return m
    g = _wgs84(far[[C.POP_TOTAL, DISTANCE_M, "geometry"]], where="far cells")
    g["distance"] = [f"{_fr.num(v / 1000, 1)} km" for v in far[DISTANCE_M]]
    g["habitants"] = [_fr.num(v) for v in far[C.POP_TOTAL]]
    fg = folium.FeatureGroup(name="Fiabilité : carreaux à plus de 1 km du réseau routier",
                             overlay=True, show=False)
    folium.GeoJson(
        g[["distance", "habitants", "geometry"]].to_json(), name="fiabilite",
        style_function=lambda f: {"color": "#b2182b", "weight": 2, "dashArray": "4 3",
                                  "fillOpacity": 0.0},
        tooltip=folium.GeoJsonTooltip(["distance", "habitants"],
                                      aliases=["Distance au réseau", "Habitants"]),
    ).add_to(fg)
    fg.add_to(m)
    return m


# --- 2. services ------------------------------------------------------------------------


def services_map(
    services: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *,
    show: Sequence[str] = DEFAULT_SERVICE_LAYERS, m: folium.Map | None = None,
    attribution: str = "", roads: gpd.GeoDataFrame | None = None,
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
        _roads(m, roads)
        add_outlines(m, communes)
        add_town_labels(m, communes)
    g = _wgs84(services, where="services")
    rows: list[tuple[str, str]] = []
    row_layers: list[folium.map.Layer | None] = []
    styles = service_styles(service_order(g[C.CATEGORY], list(cats)))
    for key, (color, _marker) in styles.items():
        part = g[g[C.CATEGORY] == key]
        label = cats[key].label if key in cats else key
        swatch = f'<span style="color:{color}">&#9679;</span> '
        fg = folium.FeatureGroup(name=f"{swatch}{html_text(label)} ({len(part)})",
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
                 attribution: str = "", roads: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Priority communes coloured by score; popup with rank, score and reasons."""
    communes = diagnostic.communes
    require_columns(communes, [C.COMMUNE_CODE, C.COMMUNE_NAME, "priority_score", "reasons"],
                    where="diagnostic.communes")
    rank = diagnostic.priority.set_index(C.COMMUNE_CODE)["rank"]
    if m is None:
        m = new_map(communes, title=MAP_TITLES_FR["priorites"],
                    caption=MAP_CAPTIONS_FR["priorites"], attribution=attribution)
        _roads(m, roads)
        add_town_labels(m, communes)
    score = communes["priority_score"].astype(float)
    classes = priority_classes(score)
    g = _wgs84(communes[[C.COMMUNE_CODE, C.COMMUNE_NAME, "geometry"]], where="communes",
               simplify_m=20)
    fg = folium.FeatureGroup(name="Score de priorité", overlay=True, show=True)
    for row, sc, k, reasons in zip(g.itertuples(index=False), score, classes.index,
                                   communes["reasons"], strict=True):
        r = rank.get(row.commune_code)
        name = f"<b>{html_text(row.commune_name)}</b>"
        if sc > 0 and r is not None:
            items = "".join(f"<li>{html_text(x.strip())}</li>"
                            for x in str(reasons).split(";") if x.strip())
            popup = f"{name}<br>Rang : {int(r)}<br>Score : {_fr.num(sc)} points<ul>{items}</ul>"
        else:
            k = 0
            popup = f"{name}<br>Non prioritaire (score 0)"
        folium.GeoJson(
            shapely.to_geojson(row.geometry), name=row.commune_code,
            style_function=lambda f, c=classes.colors[k]: {
                "color": "#444", "weight": 1, "fillColor": c, "fillOpacity": 0.8},
            tooltip=_tooltip(row.commune_name),
            # folium puts the popup's HTML in a template literal
            popup=folium.Popup(js_template_html(popup), max_width=360),
        ).add_to(fg)
    fg.add_to(m)
    add_legend(m, "Score de priorité (points)", list(zip(classes.colors, classes.labels,
                                                         strict=True)),
               note="Cliquer une commune : rang et raisons.")
    return m


# --- 4. isochrones ----------------------------------------------------------------------


def isochrones_map(
    study: Study, *, categories: Sequence[str] = ("france_services", "hospital"),
    minutes: Sequence[float] = (10, 20, 30), m: folium.Map | None = None,
    attribution: str = "", roads: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Areas within each number of ``minutes`` of the nearest site of each category."""
    from accessibility.engine.isochrones import isochrones

    cats = load_categories()
    communes = study.layers.communes
    if m is None:
        m = new_map(communes, title=MAP_TITLES_FR["isochrones"],
                    caption=MAP_CAPTIONS_FR["isochrones"], attribution=attribution)
        _roads(m, roads)
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
        fg = folium.FeatureGroup(name=f"{html_text(label)} : isochrones", overlay=True,
                                 show=i == 0)
        for mins, geom in zip(bands[C.MINUTES], bands.geometry, strict=True):
            c = colors[sorted(minutes).index(mins)]
            folium.GeoJson(
                shapely.to_geojson(geom), name=f"{key} {mins:g} min",
                style_function=lambda f, c=c: {"color": c, "weight": 1, "fillColor": c,
                                               "fillOpacity": 0.45},
                tooltip=_tooltip(f"{label} à moins de {_fr.num(mins)} min"),
            ).add_to(fg)
        pts = _wgs84(sites, where="services")
        for lab, p in zip(pts[C.LABEL], pts.geometry, strict=True):
            folium.CircleMarker([p.y, p.x], radius=5, color="#000", weight=1.5,
                                fill_color=CATEGORY_COLORS[i % len(CATEGORY_COLORS)],
                                fill_opacity=1, tooltip=_tooltip(lab)).add_to(fg)
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
    roads: gpd.GeoDataFrame | None = None,
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
    roads
        The roads context layer (:func:`~accessibility.outputs.maps.roads.road_lines`).
    """
    _check_scenario_input(cells_before_after, sites_existing, sites_new, change)
    before = cells_before_after["time_before_min"].astype(float)
    after = cells_before_after["time_after_min"].astype(float)
    gain = before - after if change == "gain" else after - before
    change_colors = GAIN_COLORS if change == "gain" else LOSS_COLORS
    if m is None:
        m = new_map(cells_before_after if communes is None else communes,
                    title=title or MAP_TITLES_FR["scenarios"],
                    caption=caption or MAP_CAPTIONS_FR["scenarios"],
                    attribution=attribution)
        _roads(m, roads)
        if communes is not None:
            add_outlines(m, communes, epci=False)
            if C.POPULATION in communes.columns:
                add_town_labels(m, communes)
    layers = _scenario_cell_layers(m, cells_before_after, before, after, gain, change)
    _scenario_sites(m, sites_existing, sites_new, label)
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


def _check_scenario_input(cells: gpd.GeoDataFrame, existing: gpd.GeoDataFrame,
                          new: gpd.GeoDataFrame, change: str) -> None:
    require_columns(cells, [*SCENARIO_COLUMNS, "geometry"],
                    where="scenario cells (cells_before_after)")
    for name, s in (("sites_existing", existing), ("sites_new", new)):
        require_crs(s, where=name)
        if len(s) and not (s.geom_type == "Point").all():
            raise ValueError(f"{name}: expected Point geometries, got "
                             f"{sorted(set(s.geom_type))}")
    if change not in ("gain", "loss"):
        raise ValueError(f"change must be 'gain' or 'loss', got {change!r}")


def _scenario_cell_layers(m: folium.Map, cells: gpd.GeoDataFrame, before: pd.Series,
                          after: pd.Series, gain: pd.Series, change: str) -> dict[str, Any]:
    """The three switchable cell layers (change, before, after) of a scenario map."""
    g = _wgs84(cells[["geometry"]], where="scenario cells")
    pop = cells.get(C.POP_TOTAL)
    g["avant"] = [_fr.minutes(v) for v in before]
    g["apres"] = [_fr.minutes(v) for v in after]
    g["gain"] = [_fr.minutes(v) if np.isfinite(v) else "—" for v in gain]
    g["habitants"] = [_fr.num(v) for v in pop] if pop is not None else "—"
    word = "Gain" if change == "gain" else "Allongement"
    tooltip_fields = (["avant", "apres", "gain", "habitants"],
                      ["Avant", "Après", word, "Habitants"])
    layers = {}
    for key, name, colors, show in (
        ("gain", "Gain de temps (min)" if change == "gain" else "Allongement du temps (min)",
         _classify(gain, GAIN_BINS_MIN, GAIN_COLORS if change == "gain" else LOSS_COLORS),
         True),
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
    return layers


def _scenario_sites(m: folium.Map, existing: gpd.GeoDataFrame, new: gpd.GeoDataFrame,
                    label: str) -> None:
    sites = folium.FeatureGroup(name="Sites", overlay=True, show=True)
    for s, color, radius, what in ((existing, "#999999", 5, "Site existant"),
                                   (new, "#0072B2", 8, label)):
        pts = _wgs84(s, where="sites")
        names = pts["label"] if "label" in pts.columns else pd.Series([what] * len(pts))
        for nm, p in zip(names, pts.geometry, strict=True):
            folium.CircleMarker([p.y, p.x], radius=radius, color="#000", weight=1.5,
                                fill_color=color, fill_opacity=1,
                                tooltip=_tooltip(f"{what} : {nm}")).add_to(sites)
    sites.add_to(m)


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
    from accessibility.validation.coverage import far_cells

    roads = road_lines(study.network, layers.communes)
    maps = {
        "acces": access_map(diagnostic, attribution=attr_all,
                            far=far_cells(study.network, layers.cells), roads=roads),
        "services": services_map(layers.services, diagnostic.communes,
                                 attribution=attr_all, roads=roads),
        "priorites": priority_map(diagnostic, attribution=attr_all, roads=roads),
        "isochrones": isochrones_map(study, attribution=attr_iso, roads=roads),
    }
    if scenario is not None and scenario_sites is not None:
        maps["scenarios"] = scenario_map(scenario, *scenario_sites, roads=roads,
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
            change="loss", title=titles[name], caption=captions[name], roads=roads,
        )
    _add_windows_map(maps, titles, captions, study, diagnostic, attr_all)
    paths = {k: save_map(m, out_dir / f"{k}.html") for k, m in maps.items()}
    paths["index"] = write_index(paths, out_dir, territory_name=str(layers.territory.name),
                                 attribution=attr_all, titles=titles, captions=captions)
    log.info("atlas written to %s (%d maps)", out_dir, len(maps))
    return paths


def _add_windows_map(maps: dict, titles: dict, captions: dict, study: Study,
                     diagnostic: Diagnostic, attribution: str) -> None:
    """The time-window map (:mod:`accessibility.outputs.maps.windows`), when the
    diagnostic has France Services window columns."""
    from accessibility.indicators.windows import window_column
    from accessibility.outputs.maps.windows import MAP_NAME, windows_map, windows_title

    if window_column("france_services", "samedi_matin") not in set(
        diagnostic.indicators["indicator"]
    ):
        return
    maps[MAP_NAME] = windows_map(diagnostic, study.layers.services, attribution=attribution)
    titles[MAP_NAME] = windows_title("France Services", "le samedi matin")
    captions[MAP_NAME] = ("Temps d'accès aux France Services ouvertes pendant chaque plage "
                          "horaire (horaires publiés au 2024-08-01).")
