"""Interactive maps of the diagnostic (folium), self-contained so they work offline.

Modules: :mod:`.kinds` (classes, colours and labels of each map kind, shared with the
report), :mod:`.base` (empty map, legends, outlines, labels), :mod:`.atlas` (one
function per map, :func:`build_atlas`), :mod:`.pages` (writing: assets inlined,
deterministic element ids), :mod:`.roads` (the roads context layer, under the data),
:mod:`._assets` (offline Leaflet and jQuery).
"""

from accessibility.outputs.maps.atlas import (
    access_map,
    add_legend,
    add_outlines,
    add_town_labels,
    attribution_fr,
    build_atlas,
    isochrones_map,
    new_map,
    priority_map,
    render_offline,
    save_map,
    scenario_map,
    services_map,
    write_index,
)
from accessibility.outputs.maps.roads import add_roads, road_lines

__all__ = [
    "access_map",
    "add_legend",
    "add_outlines",
    "add_roads",
    "add_town_labels",
    "attribution_fr",
    "build_atlas",
    "isochrones_map",
    "new_map",
    "priority_map",
    "render_offline",
    "road_lines",
    "save_map",
    "scenario_map",
    "services_map",
    "write_index",
]
