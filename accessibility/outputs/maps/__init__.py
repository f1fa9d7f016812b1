"""Interactive maps of the diagnostic (folium), self-contained so they work offline."""

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

__all__ = [
    "access_map",
    "add_legend",
    "add_outlines",
    "add_town_labels",
    "attribution_fr",
    "build_atlas",
    "isochrones_map",
    "new_map",
    "priority_map",
    "render_offline",
    "save_map",
    "scenario_map",
    "services_map",
    "write_index",
]
