"""The report's « Pistes d'implantation » section: the best new sites, what they gain.

Owns: :func:`pistes_context` (the section's French figures, tables and small maps,
from the :class:`~accessibility.planning.pistes.SitingOptions` that ``run`` computes)
and :func:`pistes_map` (one figure per question: the chosen sites for one and two new
sites, the cells they bring within the threshold, the roads). The section's template
is ``templates/pistes.html.j2``, included by the main report. Every name reaches the
page through the template's autoescaping.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from accessibility.core import columns as C
from accessibility.core.fr import NBSP, minutes, num
from accessibility.outputs.maps.roads import draw_roads

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.planning.pistes import SitingOption, SitingOptions

#: Colours of the section's maps: cells brought within the threshold, cells still
#: beyond it (ColorBrewer Greens / Oranges, as the atlas' gain and loss), sites.
NEWLY_COLOR = "#31a354"
STILL_BEYOND_COLOR = "#fdae6b"
NEW_SITE_COLOR = "#0072B2"
EXISTING_SITE_COLOR = "#999999"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + num(abs(value))


def _mean_change(o: SitingOption) -> str:
    change = o.change_mean_min
    sign = "+" if change > 0 else "−" if change < 0 else ""
    return (f"{minutes(o.mean_before_min)} → {minutes(o.mean_after_min)} "
            f"({sign}{minutes(abs(change))})")


def _priority_text(o: SitingOption) -> str:
    if o.priority.empty:
        return "aucune"
    parts = [f"{r.commune_name} (rang {r.rank}"
             + (f", {r.priority_tier}" if r.priority_tier else "")
             + f" : +{num(r.newly_within)})" for r in o.priority.itertuples(index=False)]
    return f"{len(parts)} : " + " ; ".join(parts)


def _where(o: SitingOption) -> str:
    names = [str(n if isinstance(n, str) and n else lab)
             for n, lab in zip(o.sites[C.COMMUNE_NAME], o.sites[C.LABEL], strict=True)]
    return ", ".join(names)


def option_rows(options: list[SitingOption]) -> list[tuple[str, list[str]]]:
    """The comparison table of one question: (row label, one cell per option)."""
    th = f"{num(options[0].threshold_min)}{NBSP}min"
    return [
        ("Emplacement (mairie de la commune)", [_where(o) for o in options]),
        (f"Habitants nouvellement à {th} ou moins", [_signed(o.newly_within) for o in options]),
        ("dont 65 ans et plus", [_signed(o.newly_within_65plus) for o in options]),
        ("dont moins de 15 ans", [_signed(o.newly_within_under15) for o in options]),
        ("Communes prioritaires gagnantes", [_priority_text(o) for o in options]),
        ("Temps moyen pondéré jusqu'au site le plus proche", [_mean_change(o) for o in options]),
    ]


def pistes_map(options: list[SitingOption], communes: gpd.GeoDataFrame,
               roads: gpd.GeoDataFrame | None) -> Figure:
    """One panel per option: communes, roads, cells newly within the threshold (green)
    and still beyond it (orange), existing sites (grey) and the new ones (blue stars)."""
    x0, y0, x1, y1 = communes.total_bounds
    ratio = (y1 - y0) / max(x1 - x0, 1.0)
    n = len(options)
    fig = Figure(figsize=(7.2, max(2.8, min(6.0, 7.2 / n * ratio)) + 0.9))
    axes = fig.subplots(1, n, squeeze=False)[0]
    pad = 0.04 * max(x1 - x0, y1 - y0)
    road_legend: list[Any] = []
    for ax, o in zip(axes, options, strict=True):
        ax.set_axis_off()
        ax.set_aspect("equal")
        communes.plot(ax=ax, facecolor="#f2f2f2", edgecolor="#999999", linewidth=0.3)
        road_legend = draw_roads(ax, roads, communes.crs, scale=0.35) or road_legend
        cells = o.cells.to_crs(communes.crs)
        beyond = ~(cells["time_after_min"].fillna(float("inf")) <= o.threshold_min)
        beyond &= cells[C.POP_TOTAL] > 0
        for mask, colour in ((beyond, STILL_BEYOND_COLOR), (cells["newly_within"], NEWLY_COLOR)):
            if mask.any():
                cells[mask.to_numpy()].plot(ax=ax, color=colour, linewidth=0, zorder=1.2)
        existing = o.existing.to_crs(communes.crs)
        existing.plot(ax=ax, color=EXISTING_SITE_COLOR, edgecolor="black", linewidth=0.3,
                      markersize=10, zorder=3)
        new = o.sites.to_crs(communes.crs)
        new.plot(ax=ax, color=NEW_SITE_COLOR, edgecolor="black", linewidth=0.5, marker="*",
                 markersize=140, zorder=4)
        for name, p in zip(new[C.COMMUNE_NAME], new.geometry, strict=True):
            ax.annotate(str(name), (p.x, p.y), xytext=(5, 5), textcoords="offset points",
                        fontsize=7, fontweight="bold", zorder=5)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_title(f"{o.new} nouveau{'x' if o.new > 1 else ''} site{'s' if o.new > 1 else ''}",
                     fontsize=9, y=1.0)  # y given: no costly automatic title placement
    th = f"{num(options[0].threshold_min)}{NBSP}min"
    handles: list[Any] = [
        Patch(facecolor=NEWLY_COLOR, label=f"carreaux amenés à {th} ou moins"),
        Patch(facecolor=STILL_BEYOND_COLOR, label=f"carreaux encore au-delà de {th}"),
        Line2D([], [], marker="o", linestyle="", color=EXISTING_SITE_COLOR,
               markeredgecolor="black", label="site existant"),
        Line2D([], [], marker="*", linestyle="", markersize=11, color=NEW_SITE_COLOR,
               markeredgecolor="black", label="nouveau site"),
        *road_legend,
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.2, wspace=0.04)
    return fig


def pistes_context(
    pistes: SitingOptions, study: Study, out_dir: Path, roads: gpd.GeoDataFrame | None,
    figure: Any,
) -> dict[str, Any]:
    """The template's ``pistes``: one entry per question (table, map, commands).

    ``figure(name, fig, caption, alt, out_dir)`` embeds a figure (the main report's
    :func:`~accessibility.outputs.report._figure`).
    """
    communes = study.layers.communes
    terr = pistes.territory_arg
    questions = []
    for key, options in pistes.by_category().items():
        first = options[0]
        caption = (
            f"{first.category_label} : emplacements choisis parmi les mairies du territoire "
            f"(modèle {first.model.upper()}, sites existants conservés), et carreaux de "
            f"population de 1{NBSP}km amenés à {num(first.threshold_min)}{NBSP}min ou moins."
        )
        fig = pistes_map(options, communes, roads)
        questions.append({
            "key": key,
            "question": first.question_fr,
            "label": first.category_label,
            "threshold": first.threshold_min,
            "n_existing": len(first.existing),
            "headers": [f"{o.new} nouveau{'x' if o.new > 1 else ''} site{'s' if o.new > 1 else ''}"
                        for o in options],
            "rows": option_rows(options),
            "commands": [o.command for o in options],
            "project_command": (f"accessibility project --territory {terr} --category {key} "
                                f"--at {_at(options[0])}"),
            "figure": figure(f"pistes_{key}", fig, caption,
                             f"Carte des nouveaux sites proposés : {first.category_label}",
                             out_dir),
        })
    return {
        "questions": questions,
        "skipped": [{"category": c, "reason": r} for c, r in pistes.skipped],
        "scenario": pistes.scenario,
        "serve_command": f"accessibility serve --territory {terr}",
    }


def _at(option: SitingOption) -> str:
    """The ``--at`` of the project sheet of the option's first site (its commune code)."""
    return str(option.sites[C.COMMUNE_CODE].iloc[0])

