"""The roads context layer: the territory's main roads, drawn offline under the data.

Owns: :func:`road_lines` (the study's road network reduced to a small EPSG:4326 layer:
one direction of each road, main classes only, merged per road number, clipped to the
map area and simplified), :func:`add_roads` (that layer on a folium map, in its own
pane *under* the data panes, switchable as « Routes », with a French legend in line
widths) and :func:`draw_roads` (the same layer on a matplotlib map of the report).

The layer comes from the road network the times are computed on (no tiles, no
internet): with the OpenStreetMap background off, a reader still sees where the valley
road runs. Road classes are grouped into three tiers (:data:`TIERS`): motorways,
national (or main) roads, departmental (or secondary) roads; local streets of an
OpenStreetMap network are left out to keep the maps light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.escape import html_attr, html_text, js_string
from accessibility.core.validate import require_columns, require_crs
from accessibility.outputs.maps.base import _add_js, _text, _wgs84

if TYPE_CHECKING:
    from accessibility.network.graph import RoadNetwork

#: Name of the layer in the layer switcher.
LAYER_NAME = "Routes"
#: Leaflet pane of the roads: below ``overlayPane`` (400, where every data layer is
#: drawn), above ``tilePane`` (200, the optional OpenStreetMap background).
PANE = "routes"
PANE_Z_INDEX = 350
#: Map area around the communes kept in the layer (metres): roads just outside the
#: territory give context when the reader pans, the rest of the network's buffer is
#: left out.
DEFAULT_MARGIN_M = 5_000.0
#: Douglas-Peucker tolerance (metres): invisible at the zoom levels of a territory map.
DEFAULT_SIMPLIFY_M = 30.0


@dataclass(frozen=True)
class RoadTier:
    """How one group of road classes is drawn and named."""

    key: str
    label_fr: str
    color: str
    weight: float
    """Line width in pixels (folium); the report scales it."""


#: Display tiers, most important first (drawn last, on top of the others).
TIERS = (
    RoadTier("autoroute", "Autoroute", "#1a1a1a", 4.5),
    RoadTier("nationale", "Route nationale", "#3d3d3d", 3.0),
    RoadTier("departementale", "Route départementale", "#6b6b6b", 1.5),
)
#: Labels used instead when the network's classes are OpenStreetMap ones (a
#: ``primary`` road may be a national or a departmental road).
OSM_LABELS_FR = {
    "nationale": "Route nationale ou principale",
    "departementale": "Route secondaire",
}
#: Road class (Travel Mapping, or OpenStreetMap ``highway``) -> tier key; a class not
#: listed (local streets, tracks) is left out of the layer.
CLASS_TIERS: Mapping[str, str] = {
    "autoroute": "autoroute",
    "nationale": "nationale",
    "departementale": "departementale",
    "mountain_pass": "departementale",
    "motorway": "autoroute",
    "motorway_link": "autoroute",
    "trunk": "nationale",
    "trunk_link": "nationale",
    "primary": "nationale",
    "primary_link": "nationale",
    "secondary": "departementale",
    "secondary_link": "departementale",
    "tertiary": "departementale",
}
_TRAVEL_MAPPING_CLASSES = frozenset({"autoroute", "nationale", "departementale",
                                     "mountain_pass"})
_TIER_RANK = {t.key: i for i, t in enumerate(TIERS)}
#: The roads legend looks like the atlas' legends (``.atlas-legend``) but is a class of
#: its own: it is context, not one of the data legends a page or a test looks for.
_CSS = """<style>
.atlas-roads { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 0 6px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; max-width: 240px; }
</style>"""


def road_lines(
    network: RoadNetwork,
    area: gpd.GeoDataFrame | None = None,
    *,
    margin_m: float = DEFAULT_MARGIN_M,
    simplify_m: float = DEFAULT_SIMPLIFY_M,
) -> gpd.GeoDataFrame:
    """The network's main roads as a small display layer (EPSG:4326).

    Parameters
    ----------
    network
        The study's road network (edges with ``road_class`` and a LineString each).
    area
        Polygons (any CRS) whose bounding box, grown by ``margin_m``, clips the roads;
        None keeps the whole network.
    margin_m, simplify_m
        Margin around ``area`` and simplification tolerance, metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per tier and road number: ``tier`` (:data:`TIERS` key), ``label_fr``
        (the tier's French name), ``ref`` (road number, « — » when none), ``weight``,
        ``color`` and a (Multi)LineString geometry, sorted so the main roads come last.
    """
    edges = network.edges
    require_columns(edges, [C.U, C.V, C.ROAD_CLASS, "geometry"], where="road network edges")
    tier = edges[C.ROAD_CLASS].astype(str).map(dict(CLASS_TIERS))
    keep = tier.notna().to_numpy() & (edges[C.U] != edges[C.V]).to_numpy()
    # a two-way road is two directed edges with the same line: keep one
    a = np.minimum(edges[C.U].to_numpy(), edges[C.V].to_numpy())
    b = np.maximum(edges[C.U].to_numpy(), edges[C.V].to_numpy())
    first = ~pd.DataFrame({"a": a, "b": b}).duplicated().to_numpy()
    sub = edges.loc[keep & first, ["geometry"]].copy()
    sub["tier"] = tier[keep & first].to_numpy()
    ref = edges["ref"] if "ref" in edges.columns else pd.Series("", index=edges.index)
    sub["ref"] = ref[keep & first].fillna("").astype(str).str.strip().to_numpy()
    if area is not None and len(sub):
        require_crs(area, where="road layer area")
        box = shapely.box(*area.to_crs(network.crs).total_bounds).buffer(margin_m)
        sub = sub[sub.intersects(box)]
        sub = sub.set_geometry(sub.geometry.intersection(box))
    classes = set(edges.loc[keep, C.ROAD_CLASS].astype(str))
    merged = _merge_by_ref(sub, network.crs, osm=not classes <= _TRAVEL_MAPPING_CLASSES)
    merged = _wgs84(merged, where="road layer", simplify_m=simplify_m)
    return merged[~merged.geometry.is_empty].reset_index(drop=True)


def _merge_by_ref(sub: gpd.GeoDataFrame, crs: Any, *, osm: bool) -> gpd.GeoDataFrame:
    """One (Multi)LineString per tier and road number, segments joined end to end;
    ``osm``: the classes are OpenStreetMap ones (broader tier labels)."""
    rows: list[dict[str, Any]] = []
    for (key, ref), part in sub.groupby(["tier", "ref"], sort=True):
        geom = shapely.line_merge(shapely.union_all(part.geometry.to_numpy()))
        tier = TIERS[_TIER_RANK[str(key)]]
        rows.append({"tier": tier.key, "label_fr": tier.label_fr, "ref": ref or None,
                     "weight": tier.weight, "color": tier.color, "geometry": geom})
    out = gpd.GeoDataFrame(rows, columns=["tier", "label_fr", "ref", "weight", "color",
                                          "geometry"], geometry="geometry", crs=crs)
    if osm:
        labels = {t.key: OSM_LABELS_FR.get(t.key, t.label_fr) for t in TIERS}
        out["label_fr"] = out["tier"].map(labels)
    order = out["tier"].map(_TIER_RANK)
    return out.iloc[np.argsort(-order.to_numpy(), kind="stable")]


def add_roads(m: folium.Map, roads: gpd.GeoDataFrame, *, name: str = LAYER_NAME,
              show: bool = True, legend: bool = True) -> folium.FeatureGroup:
    """Add the roads (:func:`road_lines`) to ``m`` as the switchable layer « Routes ».

    The lines go in their own pane (z-index :data:`PANE_Z_INDEX`), under every data
    layer whatever the order layers are added or switched in, and above the optional
    background tiles. Call it before the map's layer switcher is added. With
    ``legend``, a legend of the tiers shown (line widths) appears while the layer is on.
    """
    require_columns(roads, ["tier", "label_fr", "ref", "weight", "color", "geometry"],
                    where="road layer")
    if PANE not in m._children:
        m.add_child(folium.map.CustomPane(PANE, z_index=PANE_Z_INDEX, pointer_events=True),
                    name=PANE)
    fg = folium.FeatureGroup(name=name, overlay=True, show=show)
    g = roads[["tier", "label_fr", "weight", "color", "geometry"]].copy()
    g["route"] = [_text(r) for r in roads["ref"]]
    g["classe"] = [_text(v) for v in roads["label_fr"]]
    folium.GeoJson(
        g.drop(columns="label_fr").to_json(), name="routes", pane=PANE,
        style_function=lambda f: {"color": f["properties"]["color"], "opacity": 0.9,
                                  "weight": f["properties"]["weight"], "lineCap": "round"},
        tooltip=folium.GeoJsonTooltip(["route", "classe"], aliases=["Route", "Classe"])
        if len(g) else None,
    ).add_to(fg)
    fg.add_to(m)
    if legend and len(roads):
        _roads_legend(m, roads, fg)
    return fg


def _roads_legend(m: folium.Map, roads: gpd.GeoDataFrame, fg: folium.FeatureGroup) -> None:
    """A legend box (bottom left): one line sample per tier present, in its width."""
    present = roads.drop_duplicates("tier").set_index("tier")
    rows = "".join(
        f'<div class="atlas-row"><span style="display:inline-block;width:22px;'
        f"margin-right:6px;vertical-align:middle;border-top:{html_attr(t.weight)}px solid "
        f'{html_attr(t.color)}"></span>{html_text(present.loc[t.key, "label_fr"])}</div>'
        for t in TIERS if t.key in present.index
    )
    body = f'<div class="atlas-legend-title">{html_text(LAYER_NAME)}</div>{rows}'
    m.get_root().header.add_child(folium.Element(_CSS), name="atlas_roads_css")
    _add_js(
        m,
        "var c = L.control({position: 'bottomleft'});\n"
        "c.onAdd = function(){ var d = L.DomUtil.create('div', 'atlas-roads');"
        f" d.innerHTML = {js_string(body)}; return d; }};\n"
        f"c.addTo(map); var el = c.getContainer(), lyr = {fg.get_name()};\n"
        "function sync(){ el.style.display = map.hasLayer(lyr) ? '' : 'none'; }\n"
        "map.on('layeradd layerremove', sync); sync();\n",
    )


def draw_roads(ax: Any, roads: gpd.GeoDataFrame | None, crs: Any, *,
               scale: float = 0.45) -> list[Any]:
    """Draw the roads on a matplotlib axes whose coordinates are in ``crs`` (under the
    markers, over the commune fills: z-order 1.5), keeping the axes' extent (draw the
    communes first); return the legend handles (``Line2D``, French label, line width) of
    the tiers drawn, main roads first."""
    from matplotlib.lines import Line2D

    if roads is None or roads.empty:
        return []
    g = roads.to_crs(crs)
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    drawn = []
    for t in reversed(TIERS):
        part = g[g["tier"] == t.key]
        if part.empty:
            continue
        part.plot(ax=ax, color=t.color, linewidth=t.weight * scale, zorder=1.5)
        drawn.append(Line2D([], [], color=t.color, linewidth=t.weight * scale,
                            label=str(part["label_fr"].iloc[0])))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return drawn[::-1]


__all__ = ["CLASS_TIERS", "LAYER_NAME", "TIERS", "add_roads", "draw_roads", "road_lines"]
