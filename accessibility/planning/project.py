"""The « fiche projet » of one proposed site.

Owns: :func:`project_sheet` and :class:`ProjectSheet` (catchment, who gains, the
priority communes it reaches, how it ranks against every town hall; written as
Markdown, HTML and CSV), and :func:`slug` (the ASCII file-name part of a place).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.files import atomic_write, write_table
from accessibility.inputs.places import Place, resolve_place
from accessibility.planning.candidates import (
    category_of,
    check_candidates,
    existing_sites,
    town_hall_candidates,
)
from accessibility.planning.changes import MINUTES, TIME_BEFORE, nearest_time, rank_sites, within
from accessibility.planning.sites import cells_frame, site_matrix
from accessibility.planning.siting import CostMatrix

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic

#: Number of alternatives listed in a project sheet.
TOP_ALTERNATIVES = 5


@dataclass(frozen=True, eq=False)
class ProjectSheet:
    """The « fiche projet » of one proposed site (figures in inhabitants and minutes)."""

    category: str
    category_label: str
    threshold_min: float
    place: str
    """Where the site is proposed (« Valloire (73306) »)."""
    commune_code: str | None
    territory_name: str
    catchment: pd.DataFrame
    """Per threshold (``minutes``): ``pop_total``, ``pop_65plus``, ``pop_under15``
    within that many minutes of the site."""
    nearest: Mapping[str, float]
    """``population`` for whom the site becomes the nearest of its category (strictly
    quicker than every existing one), ``mean_saved_min`` (their population-weighted
    mean saving), ``person_minutes_saved``, ``newly_within`` (brought within the
    threshold), ``unreached_before`` (cells that reached no site before and now do)."""
    cells: pd.DataFrame
    """The cells within the threshold of the site: ``cell_id``, ``commune_code``,
    ``commune_name``, populations, ``time_site_min``, ``time_before_min``,
    ``saved_min`` (0 when the site is not quicker)."""
    priority: pd.DataFrame
    """The priority communes (diagnostic) with inhabitants within the threshold:
    ``rank``, ``commune_code``, ``commune_name``, ``priority_score``, ``reasons``,
    ``population_within``, ``share_within``."""
    ranking: pd.DataFrame
    """The proposal and every alternative town hall (:func:`rank_sites`)."""
    rank: int
    """Rank of the proposal among them (1 = best)."""

    @property
    def alternatives(self) -> pd.DataFrame:
        """The :data:`TOP_ALTERNATIVES` best alternatives (the proposal left out)."""
        return self.ranking[~self.ranking["proposal"]].head(TOP_ALTERNATIVES)

    def figures(self) -> pd.DataFrame:
        """Every figure of the sheet as a long table: ``section``, ``indicator``, ``value``."""
        rows: list[tuple[str, str, Any]] = []
        for r in self.catchment.itertuples(index=False):
            for col in (C.POP_TOTAL, C.POP_65PLUS, C.POP_UNDER15):
                rows.append(("catchment", f"{col}_within_{r.minutes:g}_min", getattr(r, col)))
        rows += [("nearest", k, v) for k, v in self.nearest.items()]
        rows += [
            ("priority", f"{r.commune_code}_population_within", r.population_within)
            for r in self.priority.itertuples(index=False)
        ]
        rows.append(("ranking", "rank", self.rank))
        rows.append(("ranking", "n_sites_ranked", len(self.ranking)))
        return pd.DataFrame(rows, columns=["section", "indicator", "value"])

    # --- writers -------------------------------------------------------------------------

    def _sections(self) -> list[tuple[str, str, pd.DataFrame | None]]:
        n = self.nearest
        thr = f"{self.threshold_min:g}{_fr.NBSP}min"
        c = self.catchment.copy()
        catchment = pd.DataFrame({
            "Temps d'accès": [f"{m:g}{_fr.NBSP}min ou moins" for m in c["minutes"]],
            "Habitants": [_fr.num(v) for v in c[C.POP_TOTAL]],
            "dont 65 ans et plus": [_fr.num(v) for v in c[C.POP_65PLUS]],
            "dont moins de 15 ans": [_fr.num(v) for v in c[C.POP_UNDER15]],
        })  # fmt: skip
        nearest_text = (
            f"Le site devient le plus proche de sa catégorie pour {_fr.num(n['population'])} "
            f"habitants, qui gagnent en moyenne {_fr.minutes(n['mean_saved_min'])}. "
            f"{_fr.num(n['newly_within'])} habitants passent sous le seuil de {thr}."
        )
        pr = self.priority
        priority_text = (
            f"{len(pr)} commune(s) prioritaire(s) du diagnostic ont des habitants à {thr} "
            "ou moins du site."
            if len(pr)
            else f"Aucune commune prioritaire du diagnostic n'a d'habitant à {thr} ou moins."
        )
        priority = pd.DataFrame({
            "Rang": pr["rank"], "Commune": pr[C.COMMUNE_NAME],
            "Score": [_fr.num(v, 1) for v in pr["priority_score"]],
            f"Habitants à {thr}": [_fr.num(v) for v in pr["population_within"]],
            "Part": [_fr.pct(v) for v in pr["share_within"]],
            "Motifs": pr["reasons"],
        })  # fmt: skip
        alt = self.alternatives
        alternatives = pd.DataFrame({
            "Rang": alt["rank"], "Site": alt[C.LABEL],
            "Nouveaux habitants sous le seuil": [_fr.num(v) for v in alt["newly_within"]],
            "Minutes gagnées par habitant": [_fr.num(v, 2) for v in alt["mean_saved_min"]],
        })  # fmt: skip
        me = self.ranking[self.ranking["proposal"]].iloc[0]
        rank_text = (
            f"Classé {self.rank}e sur {len(self.ranking)} sites comparés (le projet et les "
            f"mairies des autres communes) : {_fr.num(me['newly_within'])} habitants "
            f"nouvellement à {thr} ou moins, {_fr.num(me['mean_saved_min'], 2)} minute(s) "
            "gagnée(s) par habitant du territoire. Les 5 meilleures alternatives :"
        )
        return [
            ("Population desservie", "Habitants à 10, 20 et 30 minutes du site "
             "(carreaux de 1 km du recensement 2021).", catchment),
            ("Qui gagne du temps", nearest_text, None),
            ("Communes prioritaires atteintes", priority_text, priority if len(pr) else None),
            ("Comparaison avec d'autres emplacements", rank_text, alternatives),
        ]  # fmt: skip

    @property
    def title(self) -> str:
        return f"Fiche projet : {self.category_label} à {self.place}"

    def to_markdown(self) -> str:
        """The sheet in French, as Markdown."""
        lines = [f"# {self.title}", "",
                 f"{self.territory_name}. Seuil de la catégorie : "
                 f"{self.threshold_min:g}{_fr.NBSP}min en voiture.", ""]  # fmt: skip
        for head, text, table in self._sections():
            lines += [f"## {head}", "", text, ""]
            if table is not None and len(table):
                lines += [_md_table(table), ""]
        lines.append(_SOURCE_FR)
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """The sheet in French, as a self-contained HTML page (inline CSS)."""
        body = [f"<h1>{html.escape(self.title)}</h1>",
                f"<p>{html.escape(self.territory_name)}. Seuil de la catégorie : "
                f"{self.threshold_min:g}{_fr.NBSP}min en voiture.</p>"]  # fmt: skip
        for head, text, table in self._sections():
            body += [f"<h2>{html.escape(head)}</h2>", f"<p>{html.escape(text)}</p>"]
            if table is not None and len(table):
                body.append(table.to_html(index=False, border=0, escape=True))
        body.append(f'<p class="source">{html.escape(_SOURCE_FR)}</p>')
        return (
            '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n"
        )

    def write(self, out_dir: Path | str, stem: str | None = None) -> dict[str, Path]:
        """Write ``<stem>.md``, ``<stem>.html``, ``<stem>.csv`` (the figures) and
        ``<stem>_cellules.csv`` atomically; default stem
        ``fiche_projet_<category>_<place>``."""
        out_dir = Path(out_dir)
        stem = stem or f"fiche_projet_{self.category}_{slug(self.place)}"
        md, page = self.to_markdown(), self.to_html()
        return {
            "md": atomic_write(out_dir / f"{stem}.md", lambda p: p.write_text(md, "utf-8")),
            "html": atomic_write(out_dir / f"{stem}.html", lambda p: p.write_text(page, "utf-8")),
            "csv": write_table(self.figures(), out_dir / f"{stem}.csv"),
            "cells": write_table(self.cells, out_dir / f"{stem}_cellules.csv"),
        }


_SOURCE_FR = (
    "Sources : carreaux de population du recensement 2021 (Eurostat / INSEE), réseau "
    "routier, services du territoire. Temps en voiture, hors congestion."
)
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
    "color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em;border-bottom:1px "
    "solid #ccc}table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .6em;"
    "border-bottom:1px solid #ddd;text-align:left}td{font-variant-numeric:tabular-nums}"
    ".source{color:#666;font-size:.85em;margin-top:2em}"
)


def _md_table(df: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(map(cell, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


def slug(text: str) -> str:
    """ASCII file-name part: « Saint-Jean-de-Maurienne (73248) » -> ``saint-jean-de-maurienne``."""
    text = re.sub(r"\s*\(\d[0-9AB]\d{3}\)\s*$", "", str(text))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "site"


def _resolve(study: Study, at: str | Place) -> tuple[str, gpd.GeoDataFrame, str | None]:
    place = at
    if isinstance(at, str):
        place = resolve_place(
            at, paths=study.paths, prefer=frozenset(study.layers.communes[C.COMMUNE_CODE])
        )
    if not isinstance(place, Place):
        raise TypeError(f"at: expected a place name, code, 'lon,lat' or a Place, got {at!r}")
    site = gpd.GeoDataFrame(
        {C.SITE_ID: ["projet"], C.LABEL: [f"Projet ({place.label})"]},
        geometry=[place.point],
        crs="EPSG:4326",
    )
    return place.label, site, place.commune_code


def project_sheet(
    study: Study,
    diagnostic: Diagnostic,
    category: str,
    at: str | Place,
    *,
    matrix: CostMatrix | None = None,
    threshold_min: float | None = None,
    minutes: Sequence[float] = MINUTES, window: str | None = None, hours: str | None = None,
) -> ProjectSheet:
    """The « fiche projet » of a site of ``category`` proposed at ``at``.

    Parameters
    ----------
    study, diagnostic
        The territory's study and its :func:`~accessibility.indicators.diagnostic.run_diagnostic`
        (for the priority communes).
    matrix
        Travel times already computed on this study, reused
        (:func:`~accessibility.planning.sites.site_matrix`).
    category
        The category the site belongs to (a MAM: ``childcare``; a health centre:
        ``general_practitioner``).
    at
        A commune name, an INSEE code, ``"lon,lat"`` (placed by
        :func:`accessibility.inputs.places.resolve_place`) or a
        :class:`~accessibility.inputs.places.Place`.
    threshold_min, window, hours
        Default: the category's threshold. A time window and the proposal's hours: see
        :func:`~accessibility.planning.sites.evaluate_scenario`.

    Notes
    -----
    The alternatives are the town halls of the territory's other communes (the
    proposal's own commune is left out: its town hall is the proposal when ``at`` is a
    commune), each added alone to the existing services and ranked by
    :func:`rank_sites`.
    """
    cat = category_of(category)
    threshold = float(cat.threshold_min if threshold_min is None else threshold_min)
    label, site, code = _resolve(study, at)
    site = site.to_crs(study.layers.cells.crs)
    check_candidates(study, site, where=f"proposed site {label}")
    existing = existing_sites(study, category, window=window, hours=hours)
    halls = town_hall_candidates(study.layers.communes)
    if code is not None:
        halls = halls[halls[C.COMMUNE_CODE] != code]
    cols = [C.SITE_ID, "geometry"]
    sites = pd.concat([site[cols], existing[cols], halls[cols]], ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=existing.crs)
    cm = site_matrix(study, sites, known=matrix)
    cells = cells_frame(study).drop(columns="geometry")
    t_site = cm.times[:, 0]
    before = nearest_time(cm.times, cm.candidate_ids.get_indexer(existing[C.SITE_ID]))
    pop = cells[C.POP_TOTAL].to_numpy(float)
    catchment = _catchment(cells, t_site, minutes)
    nearest, saved = _gains(pop, t_site, before, threshold)
    cells["time_site_min"] = t_site
    cells[TIME_BEFORE] = before
    cells["saved_min"] = saved
    served = cells[within(t_site, threshold)].sort_values("time_site_min", kind="stable")
    prio = _priority_reached(diagnostic.priority, served, cells)
    alt_cols = np.concatenate([[0], cm.candidate_ids.get_indexer(halls[C.SITE_ID])])
    ranking, rank = _ranking(cm.times[:, alt_cols], before, pop, halls, label, threshold)
    return ProjectSheet(
        category=cat.key,
        category_label=cat.label,
        threshold_min=threshold,
        place=label,
        commune_code=code,
        territory_name=study.layers.territory.name,
        catchment=catchment,
        nearest=nearest,
        cells=served.reset_index(drop=True),
        priority=prio,
        ranking=ranking,
        rank=rank,
    )


def _catchment(cells: pd.DataFrame, t_site: np.ndarray, minutes: Sequence[float]) -> pd.DataFrame:
    """Population (all, 65+, under 15) within each number of ``minutes`` of the site."""
    catchment = pd.DataFrame({"minutes": [float(m) for m in minutes]})
    for col in (C.POP_TOTAL, C.POP_65PLUS, C.POP_UNDER15):
        v = cells[col].to_numpy(float)
        catchment[col] = [float(v[within(t_site, m)].sum()) for m in minutes]
    return catchment


def _gains(
    pop: np.ndarray, t_site: np.ndarray, before: np.ndarray, threshold: float
) -> tuple[dict[str, float], np.ndarray]:
    """The sheet's ``nearest`` figures and each cell's saving (0 when not quicker)."""
    quicker = np.isfinite(t_site) & ~(np.nan_to_num(before, nan=np.inf) <= t_site)
    saved = np.where(quicker & np.isfinite(before), before - t_site, 0.0)
    gainers = quicker & np.isfinite(before)
    nearest = {
        "population": float(pop[quicker].sum()),
        "mean_saved_min": float((pop * saved)[gainers].sum() / pop[gainers].sum())
        if pop[gainers].sum() > 0 else 0.0,
        "person_minutes_saved": float((pop * saved).sum()),
        "newly_within": float(pop[within(t_site, threshold) & ~within(before, threshold)].sum()),
        "unreached_before": float(pop[quicker & ~np.isfinite(before)].sum()),
    }  # fmt: skip
    return nearest, saved


def _priority_reached(
    priority: pd.DataFrame, served: pd.DataFrame, cells: pd.DataFrame
) -> pd.DataFrame:
    """The diagnostic's priority communes with inhabitants within the threshold."""
    within_by_commune = served.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    total_by_commune = cells.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    prio = priority[priority[C.COMMUNE_CODE].isin(within_by_commune.index)].copy()
    prio["population_within"] = prio[C.COMMUNE_CODE].map(within_by_commune).astype(float)
    prio["share_within"] = prio["population_within"] / prio[C.COMMUNE_CODE].map(
        total_by_commune
    ).where(lambda s: s > 0)
    prio = prio[prio["population_within"] > 0]
    return prio[["rank", C.COMMUNE_CODE, C.COMMUNE_NAME, "priority_score", "reasons",
                 "population_within", "share_within"]].reset_index(drop=True)  # fmt: skip


def _ranking(
    times: np.ndarray,
    before: np.ndarray,
    pop: np.ndarray,
    halls: gpd.GeoDataFrame,
    label: str,
    threshold: float,
) -> tuple[pd.DataFrame, int]:
    """The proposal (column 0 of ``times``) and the town halls ranked, and its rank."""
    ranking = rank_sites(times, before, pop, ["projet", *halls[C.SITE_ID]], threshold_min=threshold)
    labels = dict(zip(halls[C.SITE_ID], halls[C.LABEL], strict=True))
    labels["projet"] = f"Projet ({label})"
    ranking.insert(1, C.LABEL, ranking[C.SITE_ID].map(labels))
    ranking["proposal"] = ranking[C.SITE_ID] == "projet"
    # ties: the proposal ranks first among equals (it is what is being assessed)
    me = ranking[ranking["proposal"]].iloc[0]
    better = (ranking["newly_within"] > me["newly_within"]) | (
        (ranking["newly_within"] == me["newly_within"])
        & (ranking["mean_saved_min"] > me["mean_saved_min"])
    )
    return ranking, int(better.sum()) + 1
