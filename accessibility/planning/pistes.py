"""« Pistes d'implantation »: the best one and two new sites of a category, existing kept.

Owns: :func:`siting_options` and its result types (:class:`SitingOption`,
:class:`SitingOptions`). For each question (France Services; general practitioners,
the « maison de santé » question) and each number of new sites, the answer is exactly
that of :func:`~accessibility.planning.sites.choose_sites` (given one travel-time
matrix routed for every question, :func:`shared_matrix`) with the same model,
candidates (the territory's town halls) and threshold as the command
``accessibility site`` (MCLP by default: the most inhabitants brought within the
category's threshold, the existing sites kept open); this module adds what a committee
reads from it: the inhabitants newly within the threshold (all, 65+, under 15), the
priority communes that gain, the mean time before and after, and the command that
explores further. Computes; never renders (the report section is
:mod:`accessibility.outputs.report_pistes`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.paths import project_data_dir
from accessibility.planning.candidates import existing_sites, town_hall_candidates
from accessibility.planning.changes import TIME_AFTER, TIME_BEFORE, within
from accessibility.planning.sites import MODELS, SiteChoice, choose_sites, site_matrix
from accessibility.planning.siting import CostMatrix

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic

log = logging.getLogger(__name__)

#: The questions of the report: category key -> the question, in French.
QUESTIONS_FR = {
    "france_services": "Où ouvrir une nouvelle France Services ?",
    "general_practitioner": "Où installer une maison de santé (médecins généralistes) ?",
}
#: Numbers of new sites asked for (each answered on its own: the best pair is not
#: always the best single site plus another).
NEW_SITES = (1, 2)
DEFAULT_MODEL = "mclp"


@dataclass(frozen=True, eq=False)
class SitingOption:
    """The best ``new`` sites of one category, the existing ones kept, and their gains."""

    category: str
    category_label: str
    question_fr: str
    model: str
    new: int
    threshold_min: float
    sites: gpd.GeoDataFrame = field(repr=False)
    """The chosen sites: ``site_id``, ``label``, ``commune_code``, ``commune_name``,
    point geometry (the cells' CRS)."""
    newly_within: float
    """Inhabitants within the threshold after, not before (as ``accessibility site``)."""
    newly_within_65plus: float
    newly_within_under15: float
    mean_before_min: float
    """Population-weighted mean time to the nearest site, over the cells that reach one."""
    mean_after_min: float
    unreachable_pop_before: float
    unreachable_pop_after: float
    priority: pd.DataFrame = field(repr=False)
    """The diagnostic's priority communes with inhabitants newly within the threshold:
    ``rank``, ``commune_code``, ``commune_name``, ``priority_tier``, ``newly_within``."""
    cells: gpd.GeoDataFrame = field(repr=False)
    """Per cell: ``cell_id``, ``pop_total``, ``time_before_min``, ``time_after_min``,
    ``newly_within`` (bool), polygon geometry."""
    existing: gpd.GeoDataFrame = field(repr=False)
    """The category's existing sites (kept open)."""
    command: str
    """The command that gives the same answer and its tables and map."""

    @property
    def change_mean_min(self) -> float:
        return self.mean_after_min - self.mean_before_min


@dataclass(frozen=True, eq=False)
class SitingOptions:
    """Every option computed for a report, and the questions that could not be answered."""

    options: tuple[SitingOption, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    """(category, reason) of the questions left out (no candidates, say)."""
    territory_arg: str = ""
    """How the commands name the territory (``--territory``)."""
    scenario: str | None = None
    """The study's scenario when not the base one (the commands compute the base)."""

    def by_category(self) -> dict[str, list[SitingOption]]:
        out: dict[str, list[SitingOption]] = {}
        for o in self.options:
            out.setdefault(o.category, []).append(o)
        return out


def territory_argument(study: Study) -> str:
    """The ``--territory`` value that names the study's territory on the command line:
    its name when it is one of the project's territories, else its file."""
    terr = study.layers.territory
    if terr.file.parent.resolve() == (project_data_dir() / "communes").resolve():
        return terr.file.stem
    return str(terr.file)


def site_command(territory_arg: str, category: str, new: int, model: str) -> str:
    """``accessibility site ...`` for this question (the model left out when default)."""
    words = ["accessibility", "site", "--territory", _shell_word(territory_arg),
             "--category", category, "--new", str(new)]
    if model != DEFAULT_MODEL:
        words += ["--model", model]
    return " ".join(words)


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


def siting_options(
    study: Study,
    diagnostic: Diagnostic,
    *,
    categories: Sequence[str] = tuple(QUESTIONS_FR),
    new: Sequence[int] = NEW_SITES,
    model: str = DEFAULT_MODEL,
    scenario: str | None = None,
) -> SitingOptions:
    """The best ``new`` sites of each category (one :func:`choose_sites` per question).

    Parameters
    ----------
    study, diagnostic
        The territory's study and its diagnostic (for the priority communes).
    categories
        Category keys; a category without existing sites or candidates is reported in
        ``skipped`` with the reason, never dropped silently.
    new
        Numbers of new sites, each solved on its own.
    model
        A siting model of :data:`~accessibility.planning.sites.MODELS` (not ``lscp``,
        which chooses how many sites).
    scenario
        The name of the study's scenario, when it is not the base one.
    """
    if model not in MODELS or model == "lscp":
        raise DataError(f"siting options: model must be one of mclp, p-median, p-center; "
                        f"got {model!r}")
    arg = territory_argument(study)
    matrix = shared_matrix(study, categories)
    options: list[SitingOption] = []
    skipped: list[tuple[str, str]] = []
    for key in categories:
        for k in new:
            try:
                choice = choose_sites(study, key, matrix=matrix, new=int(k), model=model)
            except DataError as exc:
                log.warning("pistes d'implantation: %s, %d new site(s) left out: %s", key, k, exc)
                skipped.append((key, str(exc)))
                break
            options.append(_option(choice, diagnostic, site_command(arg, key, int(k), model)))
    return SitingOptions(tuple(options), tuple(skipped), arg, scenario)


def shared_matrix(study: Study, categories: Sequence[str]) -> CostMatrix:
    """Cells × (town halls ∪ existing sites of ``categories``), routed once for every
    question (each :func:`choose_sites` call takes its columns)."""
    crs = study.layers.cells.crs
    parts = [town_hall_candidates(study.layers.communes)[[C.SITE_ID, "geometry"]].to_crs(crs)]
    parts += [existing_sites(study, key)[[C.SITE_ID, "geometry"]].to_crs(crs)
              for key in categories]
    sites = pd.concat(parts, ignore_index=True).drop_duplicates(C.SITE_ID)
    return site_matrix(study, gpd.GeoDataFrame(sites, geometry="geometry", crs=crs))


def _option(choice: SiteChoice, diagnostic: Diagnostic, command: str) -> SitingOption:
    """What a committee reads from one :class:`SiteChoice`."""
    ev = choice.evaluation
    cells = ev.cells
    tb, ta = cells[TIME_BEFORE].to_numpy(float), cells[TIME_AFTER].to_numpy(float)
    newly = within(ta, ev.threshold_min) & ~within(tb, ev.threshold_min)
    t = ev.territory.iloc[0]
    names = ev.communes.set_index(C.COMMUNE_CODE)[C.COMMUNE_NAME]
    sites = choice.chosen[[C.SITE_ID, C.LABEL, C.COMMUNE_CODE, "geometry"]].copy()
    sites.insert(3, C.COMMUNE_NAME, sites[C.COMMUNE_CODE].map(names))
    return SitingOption(
        category=ev.category,
        category_label=ev.category_label,
        question_fr=QUESTIONS_FR.get(ev.category, f"Où ouvrir : {ev.category_label} ?"),
        model=choice.model,
        new=len(choice.chosen),
        threshold_min=ev.threshold_min,
        sites=gpd.GeoDataFrame(sites, geometry="geometry", crs=choice.chosen.crs)
        .to_crs(cells.crs),
        newly_within=float(t["newly_within"]),
        newly_within_65plus=float(cells[C.POP_65PLUS].to_numpy(float)[newly].sum()),
        newly_within_under15=float(cells[C.POP_UNDER15].to_numpy(float)[newly].sum()),
        mean_before_min=float(t["mean_before_min"]),
        mean_after_min=float(t["mean_after_min"]),
        unreachable_pop_before=float(t["unreachable_pop_before"]),
        unreachable_pop_after=float(t["unreachable_pop_after"]),
        priority=_priority_gaining(diagnostic.priority, ev.communes),
        cells=gpd.GeoDataFrame(
            cells[[C.CELL_ID, C.POP_TOTAL, TIME_BEFORE, TIME_AFTER]].assign(newly_within=newly),
            geometry=cells.geometry.to_numpy(), crs=cells.crs),
        existing=ev.existing,
        command=command,
    )


def _priority_gaining(priority: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """The priority communes (score > 0) with inhabitants newly within the threshold,
    in the order of their priority rank."""
    gain = communes.set_index(C.COMMUNE_CODE)["newly_within"]
    prio = priority[priority["priority_score"] > 0]
    prio = prio.assign(newly_within=prio[C.COMMUNE_CODE].map(gain).fillna(0.0).astype(float))
    prio = prio[prio["newly_within"] > 0].sort_values("rank", kind="stable")
    tier = prio["priority_tier"] if "priority_tier" in prio.columns else np.full(len(prio), "")
    return pd.DataFrame({
        "rank": prio["rank"].astype(int).to_numpy(),
        C.COMMUNE_CODE: prio[C.COMMUNE_CODE].to_numpy(),
        C.COMMUNE_NAME: prio[C.COMMUNE_NAME].to_numpy(),
        "priority_tier": pd.Series(tier).fillna("").astype(str).to_numpy(),
        "newly_within": prio["newly_within"].to_numpy(),
    })


__all__ = ["NEW_SITES", "QUESTIONS_FR", "SitingOption", "SitingOptions", "siting_options"]
