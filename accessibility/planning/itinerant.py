"""An itinerant service's tour over a territory's town halls.

Owns: :func:`plan_itinerant_tour` (the stops, their prize, the town hall × town hall
matrix, then :func:`accessibility.planning.tours.plan_tour` and the comparison with a
fixed site at the depot), :class:`TourResult` and :func:`tour_priority`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError, SnapWarning
from accessibility.core.names import normalise_name
from accessibility.engine.travel_times import od_matrix
from accessibility.inputs.communes import town_hall_points
from accessibility.planning.candidates import category_of
from accessibility.planning.tours import TourPlan, compare_with_fixed_site, plan_tour

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic


@dataclass(frozen=True, eq=False)
class TourResult:
    """An itinerant tour over the town halls and its comparison with a fixed site."""

    plan: TourPlan
    stops: pd.DataFrame
    """The candidate stops: ``stop_id`` (commune code), ``commune_name``,
    ``population``, ``priority_score``, ``priority`` (the prize weight)."""
    times: pd.DataFrame
    """Town hall × town hall travel times (long table, ids = commune codes)."""
    comparison: pd.DataFrame
    """:func:`accessibility.planning.tours.compare_with_fixed_site` with the depot."""
    depot_name: str
    excluded_hosts: tuple[str, ...]
    """Communes left out of the stops because they already host a site of the category."""

    def schedule(self) -> pd.DataFrame:
        """The timetable with the commune names (``commune_name``)."""
        s = self.plan.schedule()
        names = self.stops.set_index(C.STOP_ID)[C.COMMUNE_NAME]
        s.insert(3, C.COMMUNE_NAME, s[C.STOP_ID].map(names))
        return s


def tour_priority(scores: pd.Series) -> pd.Series:
    """Prize weight of each commune: ``1 + score / max score`` (1 to 2).

    A commune with no priority score (not in the diagnostic's priority table) weighs
    1; the commune with the highest score weighs 2, so a priority inhabitant counts at
    most twice an ordinary one (population still matters most).
    """
    s = scores.fillna(0.0).clip(lower=0)
    top = float(s.max()) if len(s) else 0.0
    return 1.0 + (s / top if top > 0 else s * 0)


def plan_itinerant_tour(
    study: Study,
    *,
    depot: str,
    days: int,
    day_hours: float,
    stop_minutes: float,
    category: str = "france_services",
    diagnostic: Diagnostic | None = None,
    time_limit_s: float = 10,
    day_start: str = "09:00",
) -> TourResult:
    """Plan an itinerant service's tour over the territory's town halls.

    Stops are the town halls of the territory's communes, except those of communes that
    already host a service of ``category`` (the depot is never a stop). The prize of a
    stop is its population × :func:`tour_priority` of its commune's priority score
    (``diagnostic.priority``; the diagnostic is run when not given). The travel matrix is
    town hall × town hall (:func:`accessibility.engine.travel_times.od_matrix`); the tour is
    :func:`accessibility.planning.tours.plan_tour` and is compared with a fixed site at the
    depot by :func:`accessibility.planning.tours.compare_with_fixed_site`.

    Parameters
    ----------
    depot
        The depot's commune: a name or INSEE code of a commune of the territory.
    days, day_hours, stop_minutes
        Tour days a week, hours a day (driving and stops), minutes at each stop.
    """
    category_of(category)
    communes = study.layers.communes
    text = str(depot).strip()
    names = communes[C.COMMUNE_NAME].astype(str).map(normalise_name)
    hit = communes[(communes[C.COMMUNE_CODE] == text) | (names == normalise_name(text))]
    if len(hit) != 1:
        raise DataError(
            f"depot {depot!r}: not a commune of {study.layers.territory.name} (give the name "
            f"or INSEE code of one of its {len(communes)} communes)"
        )
    depot_code = str(hit[C.COMMUNE_CODE].iloc[0])
    if diagnostic is None:
        from accessibility.indicators.diagnostic import run_diagnostic

        diagnostic = run_diagnostic(study)
    halls = study.access_points(town_hall_points(communes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)  # town halls: see the layers' checks
        times = od_matrix(
            study.network, halls, halls, origin_id=C.COMMUNE_CODE,
            destination_id=C.COMMUNE_CODE, snap=study.snap,
        )
    scores = diagnostic.priority.set_index(C.COMMUNE_CODE)["priority_score"]
    stops = pd.DataFrame({
        C.STOP_ID: communes[C.COMMUNE_CODE].astype(str).to_numpy(),
        C.COMMUNE_NAME: communes[C.COMMUNE_NAME].to_numpy(),
        C.POPULATION: communes[C.POPULATION].to_numpy(float),
    })  # fmt: skip
    stops["priority_score"] = stops[C.STOP_ID].map(scores).astype(float)
    stops[C.PRIORITY] = tour_priority(stops["priority_score"]).to_numpy()
    svc = study.layers.services
    hosts = set(svc.loc[(svc[C.CATEGORY] == category) & svc[C.IN_TERRITORY], C.COMMUNE_CODE])
    excluded = tuple(sorted(hosts & set(stops[C.STOP_ID]) - {depot_code}))
    candidates = stops[~stops[C.STOP_ID].isin(hosts) & (stops[C.STOP_ID] != depot_code)]
    plan = plan_tour(times, candidates[[C.STOP_ID, C.POPULATION, C.PRIORITY]], depot=depot_code,
                     days=days, day_minutes=day_hours * 60, stop_minutes=stop_minutes,
                     time_limit_s=time_limit_s, day_start=day_start)  # fmt: skip
    population = stops.set_index(C.STOP_ID)[C.POPULATION]
    comparison = compare_with_fixed_site(times, population, plan, depot_code)
    return TourResult(plan, stops, times, comparison, str(hit[C.COMMUNE_NAME].iloc[0]), excluded)
