"""Site scenarios: what changes when sites of a category are added, removed or chosen.

Owns: the cells × sites travel-time matrix (:func:`site_matrix`), the before/after
evaluation of a scenario (:func:`evaluate_scenario`, :class:`ScenarioEvaluation`) and
the choice of new sites by a siting model (:func:`choose_sites`, :class:`SiteChoice`).
Candidates are read and checked in :mod:`accessibility.planning.candidates`; the
before/after arithmetic is in :mod:`accessibility.planning.changes`. See
``docs/planning.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.errors import DataError, MissingColumnError, SnapWarning
from accessibility.core.validate import require_unique
from accessibility.engine.travel_times import od_matrix
from accessibility.inputs.population import demand_points
from accessibility.inputs.services import Category
from accessibility.planning.candidates import (
    category_of,
    check_candidates,
    check_window,
    existing_sites,
    read_candidates,
    town_hall_candidates,
)
from accessibility.planning.changes import (
    MINUTES,
    TIME_AFTER,
    TIME_BEFORE,
    change_summary,
    nearest_time,
)
from accessibility.planning.results import ScenarioResult
from accessibility.planning.siting import CostMatrix, SitingResult, lscp, mclp, p_center, p_median

if TYPE_CHECKING:
    from accessibility.engine.study import Study

#: Siting models by CLI name.
MODELS = ("mclp", "p-median", "lscp", "p-center")


def site_matrix(
    study: Study, sites: gpd.GeoDataFrame, *, known: CostMatrix | None = None
) -> CostMatrix:
    """Car travel times (minutes) from every population cell to every site.

    The cells' own snapping warnings (cells far from any road) are those of the
    diagnostic and are not repeated here; candidates are checked by
    :func:`check_candidates`. ``known``: a matrix already computed on the same study
    (same cells, same network); its columns are reused for the sites whose id it holds
    and only the others are routed (the planner's app keeps one per season).
    """
    if known is not None:
        return _reuse(study, sites, known)
    points = demand_points(study.layers.cells)
    if len(sites) == 0:
        return CostMatrix(np.empty((len(points), 0)), points[C.CELL_ID], pd.Index([]))
    sites = sites[[C.SITE_ID, "geometry"]].to_crs(study.network.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        long = od_matrix(
            study.network,
            points,
            study.access_points(sites),
            origin_id=C.CELL_ID,
            destination_id=C.SITE_ID,
            snap=study.snap,
        )
    return CostMatrix.from_long(long, demand_ids=points[C.CELL_ID], candidate_ids=sites[C.SITE_ID])


def _reuse(study: Study, sites: gpd.GeoDataFrame, known: CostMatrix) -> CostMatrix:
    """:func:`site_matrix` with the columns of ``known`` reused (see there)."""
    if len(known.demand_ids) != len(study.layers.cells) or not (
        known.demand_ids == pd.Index(study.layers.cells[C.CELL_ID])
    ).all():
        raise DataError("known matrix: its rows are not the cells of this study")
    ids = pd.Index(sites[C.SITE_ID])
    pos = known.candidate_ids.get_indexer(ids)
    times = np.empty((len(known.demand_ids), len(ids)))
    times[:, pos >= 0] = known.times[:, pos[pos >= 0]]
    if (pos < 0).any():
        extra = site_matrix(study, sites[pos < 0])
        times[:, pos < 0] = extra.times
    return CostMatrix(times, known.demand_ids, ids)


@dataclass(frozen=True, eq=False)
class ScenarioEvaluation:
    """Before/after figures of a scenario (sites added or removed for one category)."""

    category: str
    category_label: str
    threshold_min: float
    minutes: tuple[float, ...]
    added: gpd.GeoDataFrame = field(repr=False)
    """The sites added (``site_id``, ``label``, geometry)."""
    removed: gpd.GeoDataFrame = field(repr=False)
    """The existing sites removed."""
    existing: gpd.GeoDataFrame = field(repr=False)
    """The existing sites of the category (before the scenario)."""
    cells: gpd.GeoDataFrame = field(repr=False)
    """Per cell: ``cell_id``, ``commune_code``, populations, ``time_before_min``,
    ``time_after_min``, ``gain_min`` (before − after), polygon geometry."""
    communes: pd.DataFrame = field(repr=False)
    """Per commune: names, EPCI and the columns of :func:`change_summary`, sorted by
    ``newly_within`` then mean gain (the communes that gain most first)."""
    epci: pd.DataFrame = field(repr=False)
    territory: pd.DataFrame = field(repr=False)
    summary_fr: str

    @property
    def cells_before_after(self) -> gpd.GeoDataFrame:
        """The table :func:`accessibility.outputs.maps.scenario_map` takes."""
        cols = [C.CELL_ID, C.POP_TOTAL, TIME_BEFORE, TIME_AFTER, "geometry"]
        return gpd.GeoDataFrame(self.cells[cols], geometry="geometry", crs=self.cells.crs)

    def scenario_result(self, title: str | None = None, source: str = "") -> ScenarioResult:
        """The report's section (:class:`accessibility.outputs.report.ScenarioResult`)."""
        t = self.territory.iloc[0]
        rows = [
            ("Temps moyen pondéré", _fr.minutes(t["mean_before_min"]),
             _fr.minutes(t["mean_after_min"]), _signed_min(t["change_mean_min"])),
            ("Habitants sans accès (hors de la moyenne)", _fr.num(t["unreachable_pop_before"]),
             _fr.num(t["unreachable_pop_after"]),
             _signed(t["unreachable_pop_after"] - t["unreachable_pop_before"])),
            ("Temps maximal", _fr.minutes(t["max_before_min"]),
             _fr.minutes(t["max_after_min"]),
             _signed_min(t["max_after_min"] - t["max_before_min"])),
        ]  # fmt: skip
        for m in self.minutes:
            b, a = t[f"within_{m:g}_before"], t[f"within_{m:g}_after"]
            rows.append(
                (f"Habitants à {m:g}{_fr.NBSP}min ou moins", _fr.num(b), _fr.num(a), _signed(a - b))
            )
        table = pd.DataFrame(rows, columns=["Indicateur", "Avant", "Après", "Écart"])
        return ScenarioResult(
            title=title or f"{self.category_label} : scénario",
            summary_fr=self.summary_fr,
            table=table,
            source=source
            or "Temps en voiture sur le réseau routier, depuis les carreaux de population "
            "de 1 km (recensement 2021).",
        )


def _signed(value: float) -> str:
    if not np.isfinite(value):
        return "n.d."
    return ("+" if value > 0 else "−" if value < 0 else "") + _fr.num(abs(value))


def _signed_min(value: float) -> str:
    if not np.isfinite(value):
        return "n.d."
    return ("+" if value > 0 else "−" if value < 0 else "") + _fr.minutes(abs(value))


def _place_names(sites: gpd.GeoDataFrame) -> list[str]:
    if C.COMMUNE_NAME in sites.columns:
        names = sites[C.COMMUNE_NAME].where(sites[C.COMMUNE_NAME].notna(), sites[C.LABEL])
    else:
        names = sites[C.LABEL]
    return [str(n) for n in names]


def scenario_summary_fr(
    label: str,
    added: Sequence[str],
    removed: Sequence[str],
    delta_within: float,
    threshold_min: float,
    mean_before: float,
    mean_after: float,
) -> str:
    """« Un site France Services de plus à Valloire : +1 240 habitants à 20 min ou moins (temps
    moyen 14 → 12 min) »."""
    parts = []
    if len(added) == 1:
        parts.append(f"Un site {label} de plus à {added[0]}")
    elif added:
        parts.append(f"{len(added)} sites {label} de plus ({', '.join(added)})")
    if len(removed) == 1:
        parts.append(f"fermeture du site {label} {removed[0]}")
    elif removed:
        parts.append(f"fermeture de {len(removed)} sites {label} ({', '.join(removed)})")
    head = " et ".join(parts) or f"{label} : aucun changement"
    head = head[0].upper() + head[1:]
    return (
        f"{head} : {_signed(delta_within) if delta_within else '+0'} habitants à "
        f"{threshold_min:g}{_fr.NBSP}min ou moins (temps moyen pondéré "
        f"{_fr.minutes(mean_before)} → {_fr.minutes(mean_after)})"
    )


def cells_frame(study: Study) -> pd.DataFrame:
    cells = study.layers.cells
    communes = study.layers.communes[[C.COMMUNE_CODE, C.COMMUNE_NAME, C.EPCI_CODE, C.EPCI_NAME]]
    keep = [C.CELL_ID, C.COMMUNE_CODE, C.POP_TOTAL, C.POP_65PLUS, C.POP_UNDER15]
    out = cells[keep].merge(communes, on=C.COMMUNE_CODE, how="left")
    out["geometry"] = cells.geometry.to_numpy()
    return out


def _evaluate(
    study: Study,
    cat: Category,
    threshold: float,
    cm: CostMatrix,
    existing: gpd.GeoDataFrame,
    added: gpd.GeoDataFrame,
    removed_ids: Sequence[str],
    minutes: Sequence[float],
) -> ScenarioEvaluation:
    ids = cm.candidate_ids
    ex_ids = existing[C.SITE_ID]
    before = nearest_time(cm.times, ids.get_indexer(ex_ids))
    kept = ex_ids[~ex_ids.isin(removed_ids)]
    after = nearest_time(cm.times, ids.get_indexer(pd.concat([kept, added[C.SITE_ID]])))
    cells = cells_frame(study)
    cells[TIME_BEFORE] = before
    cells[TIME_AFTER] = after
    cells["gain_min"] = before - after
    communes = change_summary(cells, threshold_min=threshold, minutes=minutes, by=C.COMMUNE_CODE)
    names = study.layers.communes.set_index(C.COMMUNE_CODE)
    communes.insert(1, C.COMMUNE_NAME, communes[C.COMMUNE_CODE].map(names[C.COMMUNE_NAME]))
    communes.insert(2, C.EPCI_CODE, communes[C.COMMUNE_CODE].map(names[C.EPCI_CODE]))
    communes.insert(3, C.EPCI_NAME, communes[C.COMMUNE_CODE].map(names[C.EPCI_NAME]))
    communes = (
        communes.assign(_gain=-communes["change_mean_min"].fillna(0))
        .sort_values(["newly_within", "_gain"], ascending=False, kind="stable")
        .drop(columns="_gain")
        .reset_index(drop=True)
    )
    epci = change_summary(cells, threshold_min=threshold, minutes=minutes, by=C.EPCI_CODE)
    epci.insert(
        1,
        C.EPCI_NAME,
        epci[C.EPCI_CODE].map(
            names.drop_duplicates(C.EPCI_CODE).set_index(C.EPCI_CODE)[C.EPCI_NAME]
        ),
    )
    territory = change_summary(cells, threshold_min=threshold, minutes=minutes)
    t = territory.iloc[0]
    removed = existing[existing[C.SITE_ID].isin(removed_ids)]
    summary = scenario_summary_fr(
        cat.label,
        _place_names(added),
        [f"{lab} ({c})" for lab, c in zip(removed[C.LABEL], removed[C.COMMUNE_CODE], strict=True)],
        float(t["newly_within"] - t["no_longer_within"]),
        threshold,
        float(t["mean_before_min"]),
        float(t["mean_after_min"]),
    )
    return ScenarioEvaluation(
        category=cat.key,
        category_label=cat.label,
        threshold_min=threshold,
        minutes=tuple(float(m) for m in minutes),
        added=added,
        removed=removed,
        existing=existing,
        cells=gpd.GeoDataFrame(cells, geometry="geometry", crs=study.layers.cells.crs),
        communes=communes,
        epci=epci,
        territory=territory,
        summary_fr=summary,
    )


def _check_removed(existing: gpd.GeoDataFrame, removed: Sequence[str], category: str) -> list[str]:
    if isinstance(removed, str):
        raise TypeError("removed: expected a sequence of service ids, got a single string")
    removed = [str(r) for r in removed]
    unknown = [r for r in removed if r not in set(existing[C.SITE_ID])]
    if unknown:
        sample = ", ".join(existing[C.SITE_ID].head(5))
        raise DataError(
            f"removed: {len(unknown)} id(s) are not services of category {category!r}: "
            f"{', '.join(unknown)} (its {len(existing)} services have ids like {sample})"
        )
    return removed


def _prepare_added(added: gpd.GeoDataFrame | None, existing: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if added is None or len(added) == 0:
        return gpd.GeoDataFrame(
            {C.SITE_ID: pd.Series(dtype=str), C.LABEL: pd.Series(dtype=str)},
            geometry=gpd.GeoSeries([], crs=existing.crs),
        )
    added = added.copy()
    if C.SITE_ID not in added.columns:
        raise MissingColumnError(f"added sites: missing column {C.SITE_ID!r}")
    if C.LABEL not in added.columns:
        added[C.LABEL] = added[C.SITE_ID].astype(str)
    require_unique(added, C.SITE_ID, where="added sites")
    clash = set(added[C.SITE_ID]) & set(existing[C.SITE_ID])
    if clash:
        raise DataError(f"added sites: ids already used by existing services: {sorted(clash)}")
    return added


def evaluate_scenario(
    study: Study,
    category: str,
    *,
    matrix: CostMatrix | None = None,
    added: gpd.GeoDataFrame | None = None,
    removed: Sequence[str] = (),
    threshold_min: float | None = None,
    minutes: Sequence[float] = MINUTES,
    window: str | None = None,
    hours: str | None = None,
) -> ScenarioEvaluation:
    """Before/after access to ``category`` when sites are added and/or removed.

    Parameters
    ----------
    study
        A :class:`~accessibility.engine.study.Study`.
    category
        A service category key (``france_services``, ``childcare``...).
    matrix
        Travel times already computed on this study, reused (:func:`site_matrix`).
    added
        New sites: points with ``site_id`` (and ``label``; ``commune_name`` names them
        in the summary when present).
    removed
        Service ids of existing sites of the category to close.
    threshold_min
        Threshold of ``newly_within`` and of the summary; default the category's.
    minutes
        Thresholds of the "population within" figures.
    window, hours
        A time window (``data/indicators/windows.toml``): only the existing sites open
        in it count; the added sites have ``hours`` (checked to open in the window) or,
        without, are taken as open in it.
    """
    cat = category_of(category)
    threshold = float(cat.threshold_min if threshold_min is None else threshold_min)
    existing = existing_sites(study, category, window=window, hours=hours)
    removed_ids = _check_removed(existing, removed, category)
    added = _prepare_added(added, existing)
    if len(added):
        check_candidates(study, added, where="added sites")
    sites = pd.concat(
        [existing[[C.SITE_ID, "geometry"]], added[[C.SITE_ID, "geometry"]].to_crs(existing.crs)],
        ignore_index=True,
    )
    cm = site_matrix(
        study, gpd.GeoDataFrame(sites, geometry="geometry", crs=existing.crs), known=matrix
    )
    return _evaluate(study, cat, threshold, cm, existing, added, removed_ids, minutes)


@dataclass(frozen=True, eq=False)
class SiteChoice:
    """What :func:`choose_sites` found: the model's answer and its evaluation."""

    result: SitingResult
    chosen: gpd.GeoDataFrame
    """The new sites chosen (``site_id``, ``label``, ``commune_code``, geometry)."""
    candidates: gpd.GeoDataFrame
    evaluation: ScenarioEvaluation
    model: str
    threshold_min: float


def choose_sites(
    study: Study,
    category: str,
    *,
    matrix: CostMatrix | None = None,
    new: int,
    model: str,
    threshold_min: float | None = None,
    candidates: gpd.GeoDataFrame | Path | str | None = None,
    removed: Sequence[str] = (),
    time_limit_s: float | None = 60,
    window: str | None = None,
    hours: str | None = None,
) -> SiteChoice:
    """Choose ``new`` sites among the candidates with a siting model, the existing
    services of the category (minus ``removed``) open, then evaluate the scenario.

    Parameters
    ----------
    matrix
        Travel times already computed on this study, reused (:func:`site_matrix`).
    model
        ``"mclp"`` (most population within the threshold), ``"p-median"`` (least total
        travel time), ``"p-center"`` (least worst time) or ``"lscp"`` (fewest sites
        reaching everyone within the threshold: ``new`` is then ignored).
    candidates
        Candidate sites (a GeoDataFrame with ``site_id``/``label``, or a file for
        :func:`read_candidates`); default the territory's town halls.
    threshold_min
        Coverage threshold (MCLP, LSCP) and threshold of the evaluation; default the
        category's.
    window, hours
        As for :func:`evaluate_scenario`: the existing sites open in the window only; the
        new sites open at ``hours`` (kept in ``chosen``'s ``hours`` column).
    """
    check_window(window, hours)  # before reading the candidates
    cat = category_of(category)
    if model not in MODELS:
        raise DataError(f"unknown siting model {model!r}; known: {', '.join(MODELS)}")
    threshold = float(cat.threshold_min if threshold_min is None else threshold_min)
    where, cand = _candidates(study, candidates)
    existing = existing_sites(study, category, window=window, hours=hours)
    removed_ids = _check_removed(existing, removed, category)
    cand = _prepare_added(cand, existing).to_crs(existing.crs)
    if model != "lscp" and (isinstance(new, bool) or not isinstance(new, int) or new < 1):
        raise DataError(f"new: expected a whole number of new sites >= 1, got {new!r}")
    if model != "lscp" and new > len(cand):
        raise DataError(
            f"{new} new site(s) asked for but there are only {len(cand)} {where}; "
            "ask for fewer or give more candidates"
        )
    check_candidates(study, cand, where=where)
    kept = existing[~existing[C.SITE_ID].isin(removed_ids)]
    sites = pd.concat(
        [cand[[C.SITE_ID, "geometry"]], existing[[C.SITE_ID, "geometry"]]], ignore_index=True
    )
    cm = site_matrix(
        study, gpd.GeoDataFrame(sites, geometry="geometry", crs=existing.crs), known=matrix
    )
    # the removed sites leave the model's matrix; they stay in ``cm`` for "before"
    model_ids = pd.Index(pd.concat([cand[C.SITE_ID], kept[C.SITE_ID]]))
    sub = CostMatrix(cm.times[:, cm.candidate_ids.get_indexer(model_ids)], cm.demand_ids, model_ids)
    weights = pd.Series(study.layers.cells[C.POP_TOTAL].to_numpy(float), index=cm.demand_ids)
    res = _solve(model, sub, weights, new, threshold, list(kept[C.SITE_ID]), time_limit_s)
    chosen = cand.set_index(C.SITE_ID).loc[list(res.sites)].reset_index()
    chosen = gpd.GeoDataFrame(chosen, geometry="geometry", crs=cand.crs)
    if hours is not None:
        chosen[C.HOURS] = hours
    evaluation = _evaluate(study, cat, threshold, cm, existing, chosen, removed_ids, MINUTES)
    return SiteChoice(res, chosen, cand, evaluation, model, threshold)


def _candidates(
    study: Study, candidates: gpd.GeoDataFrame | Path | str | None
) -> tuple[str, gpd.GeoDataFrame]:
    """What the candidates are called in messages, and the candidates."""
    if isinstance(candidates, str | Path):
        return f"candidates file {candidates}", read_candidates(candidates)
    if candidates is None:
        return "candidates (town halls)", town_hall_candidates(study.layers.communes)
    return "candidates", candidates


def _solve(
    model: str,
    sub: CostMatrix,
    weights: pd.Series,
    new: int,
    threshold: float,
    existing: list[str],
    time_limit_s: float | None,
) -> SitingResult:
    """Run the siting model ``model`` (unreachable cells: see each model's rule)."""
    if model == "mclp":
        return mclp(sub, weights, new, threshold, existing=existing, time_limit_s=time_limit_s)
    if model == "p-median":
        return p_median(sub, weights, new, existing=existing, time_limit_s=time_limit_s)
    if model == "p-center":
        return p_center(sub, weights, new, existing=existing, time_limit_s=time_limit_s)
    populated = (weights > 0).to_numpy()  # LSCP: every inhabited cell must be covered
    lsub = CostMatrix(sub.times[populated], sub.demand_ids[populated], sub.candidate_ids)
    try:
        return lscp(lsub, threshold, existing=existing, time_limit_s=time_limit_s)
    except DataError as exc:
        raise DataError(
            f"LSCP infeasible with a threshold of {threshold:g} min and "
            f"{sub.shape[1] - len(existing)} candidate(s): {exc}; raise the threshold or "
            "add candidates"
        ) from exc
