"""The atlas map of time windows: « Accès aux France Services ouvertes le samedi matin ».

Owns: :func:`windows_map` (one map: the time to the nearest service of a category open in
each window, a layer per window, beside the time with every service; the services as
markers, open or closed in the window) and its title and caption
(:data:`WINDOWS_TITLE_FR`). The layers reuse :func:`accessibility.outputs.maps.atlas.
access_map` on the window columns of the diagnostic
(:mod:`accessibility.indicators.windows`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd

from accessibility.core import columns as C
from accessibility.core.escape import html_text
from accessibility.indicators.windows import load_windows, open_during, window_column
from accessibility.outputs.maps.base import (
    _tooltip,
    _wgs84,
    add_legend,
    add_town_labels,
    new_map,
)

if TYPE_CHECKING:
    from accessibility.indicators.diagnostic import Diagnostic

#: The map's name in the atlas (``horaires.html``).
MAP_NAME = "horaires"
OPEN_COLOR, CLOSED_COLOR = "#1a9641", "#bdbdbd"


def windows_title(label: str, window_label: str) -> str:
    return f"Accès aux {label} ouvertes {window_label}"


def windows_map(
    diagnostic: Diagnostic,
    services: gpd.GeoDataFrame,
    *,
    category: str = "france_services",
    window: str = "samedi_matin",
    label: str = "France Services",
    m: folium.Map | None = None,
    attribution: str = "",
) -> folium.Map:
    """Minutes to the nearest service of ``category`` open in each window (``window``
    shown first), and with every service for comparison; markers: the services, green
    when open in ``window``, grey otherwise (hours as published by the source)."""
    from accessibility.outputs.maps.atlas import access_map

    settings = load_windows()
    w = settings.windows[window]
    communes = diagnostic.communes
    new = m is None
    if m is None:
        m = new_map(
            communes,
            title=windows_title(label, w.label),
            caption=(f"Temps en voiture jusqu'au plus proche des {label} ouvertes pendant "
                     "chaque plage horaire (au moins "
                     f"{w.min_open_min:g} min), d'après les horaires publiés ; gris : aucune "
                     "ouverte à portée."),
            attribution=attribution,
        )
        add_town_labels(m, communes)
    present = set(diagnostic.indicators["indicator"])
    keys = [window_column(category, k)[len("time_"):-len("_min")] for k in settings.windows
            if window_column(category, k) in present]
    keys.append(category)
    access_map(diagnostic, categories=keys, default=keys[0] if window in settings.windows
               else category, m=m)
    svc = services[services[C.CATEGORY] == category]
    if len(svc):
        is_open = open_during(svc, w, settings)
        pts = _wgs84(svc[[C.ADDRESS, C.HOURS, "geometry"]], where="services")
        fg = folium.FeatureGroup(name=html_text(f"{label} (vert : ouvertes {w.label})"),
                                 overlay=True, show=True)
        for where, hours, p, ok in zip(pts[C.ADDRESS], pts[C.HOURS], pts.geometry, is_open,
                                       strict=True):
            state = "ouverte" if ok else "fermée"
            text = f"{where} — {state} {w.label} — {hours or 'horaires inconnus'}"
            folium.CircleMarker(
                [p.y, p.x], radius=6, color="#000", weight=1.5,
                fill_color=OPEN_COLOR if ok else CLOSED_COLOR, fill_opacity=1,
                tooltip=_tooltip(text),
            ).add_to(fg)
        fg.add_to(m)
        add_legend(m, label, [(OPEN_COLOR, f"ouverte {w.label}"),
                              (CLOSED_COLOR, "fermée ou horaires inconnus")])
    if new:
        folium.LayerControl(collapsed=False).add_to(m)
    return m


__all__ = ["MAP_NAME", "windows_map", "windows_title"]
