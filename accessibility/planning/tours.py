"""Itinerant service tours: which stops a bus visits, on which day and in what order.

The tour is a prize-collecting team orienteering problem: one route a day from a depot
and back, each day within its time budget (driving plus time at the stops), choosing
the stops that maximise the priority-weighted population served. It is solved with the
routing solver of Google OR-Tools (guided local search within a time limit), on a
travel-time matrix; nothing here reads the road network.

Owns: :class:`TourPlan`, :class:`Visit` and :func:`plan_tour`. Its inputs are checked in
:mod:`accessibility.planning.tour_inputs`, the search is in
:mod:`accessibility.planning.tour_solver`, the comparison with a fixed site in
:mod:`accessibility.planning.tour_compare` (re-exported here) and the tour of a
territory's town halls in :mod:`accessibility.planning.itinerant`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning
from accessibility.planning.tour_compare import compare_with_fixed_site
from accessibility.planning.tour_inputs import (
    candidates,
    ceil_s,
    check_parameters,
    clock,
    parse_clock,
    round_trip_text,
    sample,
    time_matrix,
)
from accessibility.planning.tour_solver import FIRST_SOLUTIONS, solve

log = logging.getLogger(__name__)

PRIZE_RESOLUTION = 100
"""The solver works on integers: prizes are rounded to 1/100 of an inhabitant."""

NNBSP = "\u202f"
"""Narrow no-break space: the French thousands separator (« 3 420 »)."""


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One stop of one day's tour (times in minutes after the start of the day)."""

    day: int
    """Day number, from 1."""
    order: int
    """Rank of the stop in its day, from 1."""
    stop_id: Hashable
    arrive_min: float
    depart_min: float
    drive_min: float
    """Driving time from the previous stop (or from the depot for the first one)."""


@dataclass(frozen=True)
class TourPlan:
    """The stops of an itinerant service, day by day, and what they serve.

    Build it with :func:`plan_tour`. Times are minutes after the start of the day
    (``day_start``); driving times include the return to the depot.
    """

    depot: Hashable
    days: int
    day_minutes: float
    day_start: str
    """Clock time at which each day's tour leaves the depot, ``"HH:MM"``."""
    visits: tuple[Visit, ...]
    return_min: tuple[float, ...]
    """Per day: time back at the depot (0 for a day without stops)."""
    drive_min_per_day: tuple[float, ...]
    population_served: float
    """Population of the distinct stops visited (each counted once)."""
    prize: float
    """Priority-weighted population collected (a stop asked ``k`` times a week brings
    ``1/k`` of its weighted population per visit)."""
    prize_candidates: float
    """The prize if every candidate were visited as often as asked (an upper bound)."""
    status: str
    """OR-Tools routing status name, e.g. ``"ROUTING_SUCCESS"`` (a good solution found
    within the time limit: optimality is not proven) or ``"ROUTING_OPTIMAL"``."""
    dropped: tuple[Hashable, ...]
    """Candidate stops the solver left out (reachable, but not worth a place)."""
    excluded: tuple[Hashable, ...]
    """Candidate stops set aside before solving (unreachable, or a round trip longer
    than a day); each was named in a :class:`DataWarning`."""

    @property
    def drive_min_total(self) -> float:
        """Driving time over the whole week, minutes."""
        return float(sum(self.drive_min_per_day))

    @property
    def stop_ids(self) -> tuple[Hashable, ...]:
        """The distinct stops visited, in order of first visit."""
        return tuple(dict.fromkeys(v.stop_id for v in self.visits))

    def routes(self) -> tuple[tuple[Hashable, ...], ...]:
        """The ordered stop ids of each day (an empty tuple for an unused day)."""
        return tuple(
            tuple(v.stop_id for v in self.visits if v.day == d) for d in range(1, self.days + 1)
        )

    def schedule(self) -> pd.DataFrame:
        """The timetable as a tidy table, one row per stop and per return to the depot.

        Returns
        -------
        pandas.DataFrame
            ``day``, ``order``, ``stop_id``, ``arrive``, ``depart`` (clock times
            ``"HH:MM"``) and ``drive_min`` (from the previous stop). The last row of
            each day that has stops is the return to the depot (``stop_id`` is the
            depot, ``depart`` is missing). Days without stops have no row.
        """
        start = parse_clock(self.day_start)
        rows = []
        for d, route in enumerate(self.routes(), start=1):
            if not route:
                continue
            day_visits = [v for v in self.visits if v.day == d]
            rows += [
                (
                    d,
                    v.order,
                    v.stop_id,
                    clock(start + v.arrive_min),
                    clock(start + v.depart_min),
                    v.drive_min,
                )
                for v in day_visits
            ]
            back = self.return_min[d - 1]
            rows.append(
                (
                    d,
                    len(day_visits) + 1,
                    self.depot,
                    clock(start + back),
                    None,
                    back - day_visits[-1].depart_min,
                )
            )
        return pd.DataFrame(
            rows, columns=["day", "order", C.STOP_ID, "arrive", "depart", "drive_min"]
        ).astype({"day": "int64", "order": "int64", "drive_min": "float64"})

    def summary_fr(self) -> str:
        """One line in French, e.g. « Tournée de 2 jours : 9 arrêts, 3 420 habitants
        desservis, 3 h 40 de route » (thousands separated by a narrow no-break space)."""
        people = round(self.population_served)
        served = "habitants desservis" if people >= 2 else "habitant desservi"
        return (
            f"Tournée de {_plural_fr(self.days, 'jour')} : "
            f"{_plural_fr(len(self.visits), 'arrêt')}, "
            f"{_format_int_fr(people)} {served}, "
            f"{_duration_fr(self.drive_min_total)} de route"
        )


def plan_tour(
    times: np.ndarray | pd.DataFrame,
    stops: pd.DataFrame,
    *,
    depot: Hashable,
    days: int,
    day_minutes: float,
    stop_minutes: float,
    time_limit_s: float = 10,
    visits_per_week: int = 1,
    day_start: str = "09:00",
    ids: Sequence[Hashable] | None = None,
) -> TourPlan:
    """Choose the stops of an itinerant service and the order of each day's tour.

    Each day, one vehicle leaves ``depot`` at ``day_start``, drives to its stops, stays
    ``stop_minutes`` at each (set-up included) and comes back, all within
    ``day_minutes``. The stops are chosen to maximise the priority-weighted population
    served (the prize); among tours of equal prize, the one with the least driving wins.

    Parameters
    ----------
    times
        Car travel times in minutes: a long table (``origin_id``, ``destination_id``,
        ``travel_time_min``; NaN, inf or a missing pair: unreachable), as made by
        :func:`accessibility.engine.travel_times.od_matrix`, or a square array whose row
        ``i`` and column ``i`` are ``ids[i]`` (``0 .. n-1`` without ``ids``). Times may
        be asymmetric; a missing self-pair counts as 0.
    stops
        One row per candidate stop: ``stop_id`` (an id of ``times``), ``population``;
        optional ``priority`` (weight, default 1), ``mandatory`` (default False) and
        ``stop_minutes`` (overrides ``stop_minutes``). The depot may be a stop too.
    depot
        Id, in ``times``, of the place the vehicle leaves from and returns to each day.
    days, day_minutes, stop_minutes
        Tour days in the week (one route each), time budget of a day (driving and
        stops) and default time at each stop, minutes.
    time_limit_s
        Wall-clock time given to the solver's guided local search.
    visits_per_week
        Visits each stop asks for, on different days; each brings ``1/visits_per_week``
        of the stop's prize, so a stop may get fewer visits.
    day_start, ids
        Departure clock time ``"HH:MM"``; ids of the rows and columns of an array.

    Raises
    ------
    DataError
        Bad parameters, the depot or a stop missing from ``times``, negative times, a
        mandatory stop that cannot be reached or served within a day, a day too short
        for even the nearest stop's round trip, or no tour serving every mandatory stop.

    Warns
    -----
    DataWarning
        For each candidate stop set aside: unreachable from or to the depot (an
        unreachable stop is never visited), or a round trip plus stop over the day.
    """
    check_parameters(days, day_minutes, stop_minutes, time_limit_s, visits_per_week)
    start = parse_clock(day_start)
    index, matrix = time_matrix(times, ids)
    if depot not in index:
        raise DataError(
            f"depot {depot!r} is not an id of the travel-time matrix ({len(index)} ids, "
            f"e.g. {sample(index)})"
        )
    cand = candidates(stops, index, stop_minutes)
    d = index.get_loc(depot)
    # integer seconds for the solver, rounded up: an integer-feasible tour is feasible
    # in real minutes too
    budget_s = math.floor(day_minutes * 60 + 1e-9)
    keep = _screen_stops(cand, index, matrix, d, depot, day_minutes, budget_s)
    excluded = tuple(cand[C.STOP_ID][~keep])
    cand = cand[keep].reset_index(drop=True)
    _check_mandatory_load(cand, visits_per_week, days, day_minutes)
    nodes = _Nodes.build(cand, index, matrix, d, visits_per_week, budget_s)
    routes, status = _solve(nodes, days, day_minutes, budget_s, time_limit_s)
    plan = _plan(cand, nodes, routes, status, depot, days, day_minutes, start, excluded)
    log.info("%s (status %s)", plan.summary_fr(), status)
    return plan


def _solve(
    nodes: _Nodes, days: int, day_minutes: float, budget_s: int, time_limit_s: float
) -> tuple[list[list[int]], str]:
    """The solver's routes and status; an error when it found no tour."""
    routes, status = solve(
        nodes.travel_s.astype(np.int64),
        nodes.service_s.astype(np.int64),
        nodes.units.astype(np.int64),
        nodes.mandatory,
        nodes.copies(),
        days,
        budget_s,
        time_limit_s,
    )
    if routes is None:
        k = nodes.k
        raise DataError(
            f"the solver found no tour ({status}) within {days} day(s) of "
            f"{day_minutes:g} min that visits all {int(nodes.mandatory.sum()) // k} "
            "mandatory stop(s)" + (f" {k} times each on different days" if k > 1 else "")
        )
    return routes, status


def _screen_stops(
    cand: pd.DataFrame,
    index: pd.Index,
    matrix: np.ndarray,
    d: int,
    depot: Hashable,
    day_minutes: float,
    budget_s: int,
) -> np.ndarray:
    """The stops kept for the solver: those reachable from and back to the depot, whose
    round trip plus stop fits in a day. Raises for a mandatory stop set aside or when
    none is left; warns naming the others."""
    pos = index.get_indexer(cand[C.STOP_ID])
    out_s, back_s = ceil_s(matrix[d, pos]), ceil_s(matrix[pos, d])
    svc_s = ceil_s(cand[C.STOP_MINUTES].to_numpy())
    unreachable = np.isnan(out_s) | np.isnan(back_s)
    round_trip_s = out_s + back_s + svc_s
    too_far = ~unreachable & (round_trip_s > budget_s)
    mandatory = cand[C.MANDATORY].to_numpy()
    ids_ = cand[C.STOP_ID]

    def listing(mask: np.ndarray) -> str:
        return ", ".join(
            f"{ids_.iat[i]!r} ({round_trip_text(out_s[i], back_s[i], svc_s[i])})"
            for i in np.flatnonzero(mask)
        )

    for mask, why in (
        (unreachable, "cannot be reached from or back to"),
        (too_far, "need a round trip plus stop longer than the day from"),
    ):
        if (mask & mandatory).any():
            raise DataError(
                f"mandatory stop(s) {why} the depot {depot!r} (day budget "
                f"{day_minutes:g} min): {listing(mask & mandatory)}"
            )
    if unreachable.all():
        raise DataError(
            f"no candidate stop can be reached from and back to depot {depot!r}: "
            f"{listing(unreachable)}"
        )
    if too_far.any() and (unreachable | too_far).all():
        best = int(np.nanargmin(np.where(unreachable, np.nan, round_trip_s)))
        raise DataError(
            f"the day budget ({day_minutes:g} min) is shorter than the round trip to "
            f"the nearest candidate stop, {ids_.iat[best]!r}: "
            f"{round_trip_text(out_s[best], back_s[best], svc_s[best])} = "
            f"{round_trip_s[best] / 60:g} min"
        )
    for mask, why in (
        (unreachable, "cannot be reached from or back to the depot"),
        (too_far, "need a round trip plus stop longer than the day"),
    ):
        if mask.any():
            warnings.warn(
                f"{int(mask.sum())} candidate stop(s) {why} ({depot!r}, "
                f"{day_minutes:g} min a day) and are left out: {listing(mask)}",
                DataWarning,
                stacklevel=3,
            )
    return ~(unreachable | too_far)


def _check_mandatory_load(cand: pd.DataFrame, k: int, days: int, day_minutes: float) -> None:
    mand_load = float((cand[C.STOP_MINUTES] * k)[cand[C.MANDATORY]].sum())
    if mand_load > days * day_minutes:
        raise DataError(
            f"the mandatory stops need {mand_load:g} min of stop time alone "
            f"({int(cand[C.MANDATORY].sum())} stop(s) × {k} visit(s)), more than the "
            f"{days} × {day_minutes:g} = {days * day_minutes:g} min of the week"
        )


@dataclass(frozen=True, eq=False)
class _Nodes:
    """The solver's nodes: 0 is the depot, 1.. the visits (``k`` copies of each stop)."""

    k: int
    stop: np.ndarray
    """Stop row (in the kept candidates) of each visit node 1..."""
    travel_min: np.ndarray
    """Real minutes between nodes (diagonal 0; NaN unreachable)."""
    travel_s: np.ndarray
    """Whole seconds, rounded up; an unreachable arc is over any day's budget."""
    service_s: np.ndarray
    units: np.ndarray
    """Prize of each node, in 1/:data:`PRIZE_RESOLUTION` of a weighted inhabitant."""
    mandatory: np.ndarray
    prize: np.ndarray
    """Weighted population of each kept stop."""

    @classmethod
    def build(
        cls,
        cand: pd.DataFrame,
        index: pd.Index,
        matrix: np.ndarray,
        d: int,
        k: int,
        budget_s: int,
    ) -> _Nodes:
        prize = (cand[C.POPULATION] * cand[C.PRIORITY]).to_numpy(dtype=float)
        svc_s = ceil_s(cand[C.STOP_MINUTES].to_numpy())
        stop = np.repeat(np.arange(len(cand)), k)
        pos = np.concatenate([[d], index.get_indexer(cand[C.STOP_ID])[stop]])
        travel_min = matrix[np.ix_(pos, pos)]
        np.fill_diagonal(travel_min, 0.0)
        travel_s = ceil_s(travel_min)
        travel_s[np.isnan(travel_s)] = budget_s + 1  # unreachable arc: over any day's budget
        return cls(
            k=k,
            stop=stop,
            travel_min=travel_min,
            travel_s=travel_s,
            service_s=np.concatenate([[0.0], svc_s[stop]]),
            units=np.concatenate([[0], np.round(prize[stop] * PRIZE_RESOLUTION / k)]),
            mandatory=np.concatenate([[False], cand[C.MANDATORY].to_numpy()[stop]]),
            prize=prize,
        )

    def copies(self) -> list[list[int]]:
        """The visit nodes of each stop (they must fall on different days)."""
        k, n = self.k, len(self.prize)
        return [list(range(1 + i * k, 1 + (i + 1) * k)) for i in range(n)] if k > 1 else []


def _plan(
    cand: pd.DataFrame,
    nodes: _Nodes,
    routes: list[list[int]],
    status: str,
    depot: Hashable,
    days: int,
    day_minutes: float,
    start: float,
    excluded: tuple[Hashable, ...],
) -> TourPlan:
    """The plan in real minutes, from the matrix (the solver only chose and ordered)."""
    visits: list[Visit] = []
    drive_day, back_day = [], []
    for day, route in enumerate(routes, start=1):
        t, drive, prev = 0.0, 0.0, 0
        for order, node in enumerate(route, start=1):
            leg = float(nodes.travel_min[prev, node])
            arrive = t + leg
            t = arrive + float(cand[C.STOP_MINUTES].iat[nodes.stop[node - 1]])
            drive += leg
            visits.append(Visit(day, order, cand[C.STOP_ID].iat[nodes.stop[node - 1]],
                                arrive, t, leg))  # fmt: skip
            prev = node
        if route:
            leg = float(nodes.travel_min[prev, 0])
            t, drive = t + leg, drive + leg
        back_day.append(t)
        drive_day.append(drive)
    visited = [nodes.stop[n - 1] for r in routes for n in r]
    served = set(visited)
    counts = np.bincount(visited, minlength=len(cand))
    return TourPlan(
        depot=depot,
        days=days,
        day_minutes=float(day_minutes),
        day_start=clock(start),
        visits=tuple(visits),
        return_min=tuple(back_day),
        drive_min_per_day=tuple(drive_day),
        population_served=float(cand[C.POPULATION].iloc[sorted(served)].sum()),
        prize=float((nodes.prize * counts / nodes.k).sum()),
        prize_candidates=float(nodes.prize.sum()),
        status=status,
        dropped=tuple(cand[C.STOP_ID].iat[i] for i in range(len(cand)) if i not in served),
        excluded=excluded,
    )


# --- formatting ------------------------------------------------------------------------


def _format_int_fr(n: int) -> str:
    return f"{n:,}".replace(",", NNBSP)


def _plural_fr(n: int, word: str) -> str:
    return f"{_format_int_fr(n)} {word}{'s' if n >= 2 else ''}"


def _duration_fr(minutes: float) -> str:
    m = math.floor(minutes + 0.5)
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60:02d}"


__all__ = [
    "FIRST_SOLUTIONS",
    "PRIZE_RESOLUTION",
    "TourPlan",
    "Visit",
    "compare_with_fixed_site",
    "plan_tour",
]
