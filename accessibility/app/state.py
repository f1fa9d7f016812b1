"""The app's state: one territory's studies, diagnostics and travel-time matrices.

Owns: :class:`AppState` (the base season and the winter scenario, each built once and
kept: its study, its diagnostic and the cells × sites matrix of every service of the
territory and every town hall) and the questions the API asks of it
(:meth:`AppState.scenario`, :meth:`AppState.optimise`, :meth:`AppState.tour`), each
answered by the planning functions given that matrix, so that only a clicked point is
routed (one column, tens of milliseconds). :class:`RequestError` is a request that the
territory refuses (a point outside it, an unknown site), with a French message.
"""

from __future__ import annotations

import itertools
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from accessibility.app import models as M
from accessibility.core import columns as C
from accessibility.core.errors import AccessibilityError, NetworkError, SnapWarning
from accessibility.engine.study import Study
from accessibility.engine.travel_times import route
from accessibility.indicators.diagnostic import Diagnostic, run_diagnostic
from accessibility.inputs.communes import town_hall_points
from accessibility.inputs.places import Place, resolve_place
from accessibility.planning.candidates import category_of, existing_sites, town_hall_candidates
from accessibility.planning.changes import nearest_time, within
from accessibility.planning.itinerant import plan_itinerant_tour
from accessibility.planning.project import ProjectSheet, project_sheet
from accessibility.planning.sites import (
    ScenarioEvaluation,
    choose_sites,
    evaluate_scenario,
    site_matrix,
)
from accessibility.planning.siting import CostMatrix


class RequestError(ValueError):
    """A request the territory refuses; ``field`` names the request field, ``message``
    says why in French (shown as is in the page)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, eq=False)
class SeasonState:
    """One season of the territory, computed once."""

    key: str
    label: str
    study: Study
    diagnostic: Diagnostic
    matrix: CostMatrix
    """Cells × (every service of the study's layer and every town hall), minutes."""
    points: dict[tuple[float, float], np.ndarray] = field(default_factory=dict, repr=False)
    """Each clicked point's column (cells' times to it), kept for the next questions."""
    categories: dict[str, tuple[pd.Index, np.ndarray]] = field(default_factory=dict, repr=False)
    """Per category: the ids of its sites and the town halls, and their columns."""

    def point_column(self, place: Place) -> np.ndarray:
        """The cells' times to ``place`` (routed once per point)."""
        key = (round(place.point.x, 5), round(place.point.y, 5))
        if key not in self.points:
            if len(self.points) > 500:
                self.points.clear()
            site = gpd.GeoDataFrame({C.SITE_ID: ["p"]}, geometry=[place.point], crs=4326)
            self.points[key] = site_matrix(self.study, site).times[:, 0]
        return self.points[key]

    def known(self, category: str, places: list[Place]) -> CostMatrix:
        """The matrix of the category's sites, the town halls and the proposed places
        (``ajout-<i>``, and ``projet`` for the last one: the ids of the planning
        functions)."""
        if category not in self.categories:
            ids = pd.Index(existing_sites(self.study, category)[C.SITE_ID]).append(
                pd.Index(town_hall_candidates(self.study.layers.communes)[C.SITE_ID])
            ).drop_duplicates()
            self.categories[category] = (
                ids, self.matrix.times[:, self.matrix.candidate_ids.get_indexer(ids)]
            )
        ids, times = self.categories[category]
        cols = [times]
        new = [self.point_column(p) for p in places]
        extra = [f"ajout-{i + 1}" for i in range(len(new))] + (["projet"] if new else [])
        cols += [np.column_stack(new + new[-1:])] if new else []
        return CostMatrix(np.hstack(cols), self.matrix.demand_ids, ids.append(pd.Index(extra)))


def _matrix(study: Study) -> CostMatrix:
    """Cells × every service and town hall (one routing for the whole season)."""
    svc = study.layers.services[[C.SERVICE_ID, "geometry"]]
    svc = svc.rename(columns={C.SERVICE_ID: C.SITE_ID})
    halls = town_hall_candidates(study.layers.communes).to_crs(svc.crs)
    sites = pd.concat([svc, halls[[C.SITE_ID, "geometry"]]], ignore_index=True)
    sites = sites.drop_duplicates(C.SITE_ID)
    return site_matrix(study, gpd.GeoDataFrame(sites, geometry="geometry", crs=svc.crs))


def _nan_none(values: Any) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 2) for v in np.asarray(values, float)]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN -> None)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _num(value: Any) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


def _sites(gdf: gpd.GeoDataFrame) -> list[M.Site]:
    pts = gdf.to_crs(4326)
    codes = pts[C.COMMUNE_CODE] if C.COMMUNE_CODE in pts.columns else [None] * len(pts)
    return [
        M.Site(site_id=str(i), label=str(lab), commune_code=None if pd.isna(c) else str(c),
               lon=round(g.x, 6), lat=round(g.y, 6))
        for i, lab, c, g in zip(pts[C.SITE_ID], pts[C.LABEL], codes, pts.geometry, strict=True)
    ]  # fmt: skip


class AppState:
    """A territory's seasons, built on first use (or by :meth:`warm`) and kept."""

    def __init__(
        self,
        study: Study,
        diagnostic: Diagnostic | None = None,
        *,
        winter: Callable[[Study], Study] | None = None,
    ) -> None:
        self.study = study
        self._diagnostic = diagnostic
        self._winter = winter
        self._seasons: dict[str, SeasonState] = {}
        self._lock = threading.Lock()
        communes = study.layers.communes
        self.area = communes.to_crs(4326).union_all()
        self.territory_name = study.layers.territory.name
        self.codes = frozenset(communes[C.COMMUNE_CODE].astype(str))
        self.halls = town_hall_points(communes).to_crs(4326).set_index(C.COMMUNE_CODE)

    @property
    def seasons(self) -> dict[str, str]:
        """The seasons offered (key -> French label)."""
        keys = ["base"] + (["winter"] if self._winter is not None else [])
        return {k: M.SEASONS[k] for k in keys}

    def season(self, key: str) -> SeasonState:
        """The season ``key``, computed on first use (one thread computes it)."""
        if key not in self.seasons:
            raise RequestError("season", f"saison non disponible : {key!r}")
        with self._lock:
            if key not in self._seasons:
                self._seasons[key] = self._build(key)
            return self._seasons[key]

    def warm(self, keys: tuple[str, ...] | None = None) -> None:
        """Compute the seasons now (the server does it at start-up)."""
        for key in keys or tuple(self.seasons):
            self.season(key)

    def _build(self, key: str) -> SeasonState:
        if key == "base":
            study = self.study
            diag = self._diagnostic or run_diagnostic(study)
        else:
            assert self._winter is not None
            study = self._winter(self.study)
            diag = run_diagnostic(study)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SnapWarning)  # the diagnostic reports them
            matrix = _matrix(study)
        return SeasonState(key, M.SEASONS[key], study, diag, matrix)

    # --- the map ------------------------------------------------------------------------

    def access(self, sel: M.Selection) -> dict[str, Any]:
        """Each cell's time to the nearest existing site, the sites and the priorities."""
        ss = self.season(sel.season)
        cat = category_of(sel.category)
        existing = existing_sites(ss.study, sel.category, window=sel.window)
        cols = ss.matrix.candidate_ids.get_indexer(existing[C.SITE_ID])
        prio = ss.diagnostic.priority
        keep = [c for c in ("rank", C.COMMUNE_CODE, C.COMMUNE_NAME, "priority_score",
                            "priority_tier", "reasons") if c in prio.columns]  # fmt: skip
        return {
            "category": cat.key,
            "category_label": cat.label,
            "season": ss.key,
            "season_label": ss.label,
            "window": sel.window,
            "window_label": M.windows()[0].get(sel.window or "", None),
            "threshold_min": float(cat.threshold_min),
            "times": _nan_none(nearest_time(ss.matrix.times, cols)),
            "population": _nan_none(ss.study.layers.cells[C.POP_TOTAL]),
            "sites": [s.model_dump() for s in _sites(existing)],
            "priority": _records(prio[keep]),
        }

    # --- checks at the edge -------------------------------------------------------------

    def place(self, site: M.NewSite, field: str) -> Place:
        """The point of a proposed site, inside the territory."""
        if site.commune is not None:
            if site.commune not in self.codes:
                raise RequestError(
                    field, f"la commune {site.commune} n'est pas une commune du territoire "
                    f"« {self.territory_name} »")  # fmt: skip
            return resolve_place(site.commune, paths=self.study.paths)
        lon, lat = round(float(site.lon), 5), round(float(site.lat), 5)  # type: ignore[arg-type]
        if not self.area.covers(Point(lon, lat)):
            raise RequestError(
                field, f"le point ({lon:.5f}, {lat:.5f}) est hors du territoire "
                f"« {self.territory_name} » : cliquez à l'intérieur de ses limites")  # fmt: skip
        return Place(label=f"{lon:.5f},{lat:.5f}", point=Point(lon, lat))

    def _removed(self, ss: SeasonState, sel: M.Selection, removed: list[str]) -> None:
        if not removed:
            return
        known = set(existing_sites(ss.study, sel.category, window=sel.window)[C.SITE_ID])
        unknown = [r for r in removed if r not in known]
        if unknown:
            raise RequestError(
                "removed", f"{len(unknown)} site(s) à fermer ne sont pas des sites existants de "
                f"cette catégorie : {', '.join(unknown[:3])}")  # fmt: skip

    # --- questions ----------------------------------------------------------------------

    def scenario(self, req: M.ScenarioRequest) -> M.ScenarioFigures:
        """Sites added and removed: the scenario's figures and, for the last site
        added, its « fiche projet »."""
        started = (time.perf_counter(), time.process_time())
        ss, ev, sheet = self.evaluation(req)
        return self.figures(ss, ev, sheet, started)

    def evaluation(
        self, req: M.ScenarioRequest
    ) -> tuple[SeasonState, ScenarioEvaluation, ProjectSheet | None]:
        """The planning objects of a scenario: its evaluation
        (:func:`evaluate_scenario`) and the « fiche projet » (:func:`project_sheet`) of
        the last site added."""
        ss = self.season(req.season)
        places = [self.place(a, f"added.{i}") for i, a in enumerate(req.added)]
        self._removed(ss, req, req.removed)
        added = gpd.GeoDataFrame(
            {C.SITE_ID: [f"ajout-{i + 1}" for i in range(len(places))],
             C.LABEL: [f"Nouveau site ({p.label})" for p in places],
             C.COMMUNE_CODE: [p.commune_code for p in places],
             C.COMMUNE_NAME: [p.label for p in places]},
            geometry=[p.point for p in places], crs=4326,
        ).to_crs(ss.study.layers.cells.crs)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SnapWarning)  # far sites: shown by their figures
            try:
                known = ss.known(req.category, places)
                ev = evaluate_scenario(ss.study, req.category, added=added, window=req.window,
                                       removed=req.removed, matrix=known)  # fmt: skip
                sheet = (project_sheet(ss.study, ss.diagnostic, req.category, places[-1],
                                       matrix=known, window=req.window)
                         if places else None)  # fmt: skip
            except AccessibilityError as exc:
                raise RequestError("added", f"site impossible à évaluer : {exc}") from exc
        return ss, ev, sheet

    def figures(
        self,
        ss: SeasonState,
        ev: ScenarioEvaluation,
        sheet: ProjectSheet | None,
        started: tuple[float, float],
    ) -> M.ScenarioFigures:
        cells = ev.cells
        thr = ev.threshold_min
        newly = within(cells["time_after_min"].to_numpy(float), thr) & ~within(
            cells["time_before_min"].to_numpy(float), thr
        )
        t = ev.territory.iloc[0]
        prio = ss.diagnostic.priority.set_index(C.COMMUNE_CODE)
        served = ev.communes[ev.communes["newly_within"] > 0]
        served = served[served[C.COMMUNE_CODE].isin(prio.index)]
        return M.ScenarioFigures(
            category=ev.category, category_label=ev.category_label, season=ss.key,
            threshold_min=thr, summary_fr=ev.summary_fr,
            added=_sites(ev.added) if len(ev.added) else [],
            removed=_sites(ev.removed) if len(ev.removed) else [],
            newly_within=M.Ages(
                total=float(cells.loc[newly, C.POP_TOTAL].sum()),
                age_65plus=float(cells.loc[newly, C.POP_65PLUS].sum()),
                under_15=float(cells.loc[newly, C.POP_UNDER15].sum())),
            no_longer_within=float(t["no_longer_within"]),
            mean_before_min=_num(t["mean_before_min"]), mean_after_min=_num(t["mean_after_min"]),
            unreachable_pop_before=float(t["unreachable_pop_before"]),
            unreachable_pop_after=float(t["unreachable_pop_after"]),
            epci=[M.EpciChange(
                epci_code=str(r.epci_code), epci_name=str(r.epci_name),
                mean_before_min=_num(r.mean_before_min), mean_after_min=_num(r.mean_after_min),
                change_mean_min=_num(r.change_mean_min), newly_within=float(r.newly_within))
                for r in ev.epci.itertuples(index=False)],
            priority_served=[M.PriorityServed(
                commune_code=str(r.commune_code), commune_name=str(r.commune_name),
                rank=int(prio.loc[r.commune_code, "rank"]), newly_within=float(r.newly_within))
                for r in served.itertuples(index=False)],
            times_after=_nan_none(cells["time_after_min"]),
            sheet=_sheet(sheet) if sheet is not None else None,
            elapsed_ms=round((time.perf_counter() - started[0]) * 1000, 1),
            cpu_ms=round((time.process_time() - started[1]) * 1000, 1),
        )  # fmt: skip

    def optimise(self, req: M.OptimiseRequest) -> M.OptimiseFigures:
        """The best ``k`` new sites among the town halls (existing sites kept)."""
        started = (time.perf_counter(), time.process_time())
        ss = self.season(req.season)
        self._removed(ss, req, req.removed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SnapWarning)
            try:
                choice = choose_sites(ss.study, req.category, new=req.k, model=req.model,
                                      removed=req.removed, matrix=ss.known(req.category, []),
                                      time_limit_s=10, window=req.window)
            except AccessibilityError as exc:
                raise RequestError("k", f"optimisation impossible : {exc}") from exc
        figures = self.figures(ss, choice.evaluation, None, started)
        return M.OptimiseFigures(model=choice.model, k=req.k, method=choice.result.method,
                                 chosen=_sites(choice.chosen), scenario=figures)  # fmt: skip

    def tour(self, req: M.TourRequest) -> M.TourFigures:
        """An itinerant tour from the depot over the town halls, drawn stop to stop."""
        started = time.perf_counter()
        ss = self.season(req.season)
        if req.depot not in self.codes:
            raise RequestError("depot", f"le dépôt {req.depot} n'est pas une commune du territoire")
        try:
            tour = plan_itinerant_tour(
                ss.study, depot=req.depot, days=req.days, day_hours=req.day_hours,
                stop_minutes=req.stop_minutes, category=req.category,
                diagnostic=ss.diagnostic, time_limit_s=req.time_limit_s)  # fmt: skip
        except AccessibilityError as exc:
            raise RequestError("depot", f"tournée impossible : {exc}") from exc
        sched = tour.schedule()
        stops, returns = [], {}
        for r in sched.itertuples(index=False):
            if str(r.stop_id) == req.depot:  # the day's return to the depot
                returns[int(r.day)] = str(r.arrive)
                continue
            g = self.halls.loc[str(r.stop_id), "geometry"]
            stops.append(M.TourStop(
                day=int(r.day), order=int(r.order), commune_code=str(r.stop_id),
                commune_name=str(r.commune_name), arrive=str(r.arrive),
                depart=r.depart if isinstance(r.depart, str) else None,
                drive_min=float(r.drive_min), lon=g.x, lat=g.y))  # fmt: skip
        d = self.halls.loc[req.depot]
        paths = self._tour_paths(ss, req.depot, stops)
        return M.TourFigures(
            summary_fr=tour.plan.summary_fr(),
            depot=M.Site(site_id=req.depot, label=tour.depot_name, commune_code=req.depot,
                         lon=d.geometry.x, lat=d.geometry.y),
            stops=stops, returns=returns, paths=paths, comparison=_records(tour.comparison),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )  # fmt: skip


    def _tour_paths(
        self, ss: SeasonState, depot: str, stops: list[M.TourStop]
    ) -> dict[int, list[list[float]]]:
        """Each day's drive on the roads (depot, stops, depot) as [lon, lat] points: the
        fastest route of each leg (:func:`route`), simplified for drawing; a leg with no
        route (closed passes) is drawn straight."""
        net = ss.study.network
        out: dict[int, list[list[float]]] = {}
        for day in sorted({s.day for s in stops}):
            codes = [depot, *[s.commune_code for s in stops if s.day == day], depot]
            line: list[list[float]] = []
            for a, b in itertools.pairwise(codes):
                pa, pb = self.halls.loc[a, "geometry"], self.halls.loc[b, "geometry"]
                try:
                    geom = route(net, pa, pb, crs="EPSG:4326", snap=ss.study.snap).geometry
                    leg = gpd.GeoSeries([geom], crs=net.crs).to_crs(4326).simplify(2e-4)[0]
                    line += [[round(x, 5), round(y, 5)] for x, y in leg.coords]
                except NetworkError:
                    line += [[pa.x, pa.y], [pb.x, pb.y]]
            out[day] = line
        return out


def _sheet(sheet: ProjectSheet) -> M.SheetFigures:
    prio = sheet.priority
    rows = _records(prio)
    return M.SheetFigures(
        place=sheet.place,
        catchment=[{k: float(v) for k, v in r.items()} for r in sheet.catchment.to_dict("records")],
        nearest={k: float(v) for k, v in sheet.nearest.items()},
        priority=rows, rank=sheet.rank, n_ranked=len(sheet.ranking),
    )  # fmt: skip


def open_state(territory: Any, *, winter: bool = True) -> AppState:
    """The state of a territory (a shipped slug, a territory file or a
    :class:`~accessibility.inputs.territory.Territory`), its seasons not yet built."""
    from accessibility.pipeline import open_study, scenario_of

    study = open_study(territory)
    return AppState(study, winter=(lambda s: scenario_of(s, "winter")[0]) if winter else None)
