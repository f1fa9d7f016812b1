"""Itinerant service tours: which stops a bus visits, on which day and in what order.

The tour is a prize-collecting team orienteering problem: one route a day from a depot
and back, each day within its time budget (driving plus time at the stops), choosing
the stops that maximise the priority-weighted population served. It is solved with the
routing solver of Google OR-Tools (guided local search within a time limit), on a
travel-time matrix; nothing here reads the road network.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning
from accessibility.core.validate import require_columns, require_unique

log = logging.getLogger(__name__)

PRIZE_RESOLUTION = 100
"""The solver works on integers: prizes are rounded to 1/100 of an inhabitant."""

FIRST_SOLUTIONS = ("PATH_CHEAPEST_ARC", "SAVINGS", "PARALLEL_CHEAPEST_INSERTION")
"""First-solution strategies of OR-Tools, each followed by its own guided local search
(a multi-start: on small random instances a single start missed the optimum, see
``docs/itinerary.md``)."""

LNS_OPERATORS = (
    "use_inactive_lns",
    "use_path_lns",
    "use_full_path_lns",
    "use_global_cheapest_insertion_close_nodes_lns",
    "use_local_cheapest_insertion_close_nodes_lns",
    "use_global_cheapest_insertion_expensive_chain_lns",
    "use_local_cheapest_insertion_expensive_chain_lns",
)
"""Large-neighbourhood operators of OR-Tools switched on (they are off by default)."""

LNS_MS = 10
"""Time limit of each large-neighbourhood move, milliseconds (OR-Tools' default, 100 ms,
left the search short of a local optimum on 10-stop instances within 0.6 s)."""

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
        start = _parse_clock(self.day_start)
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
                    _clock(start + v.arrive_min),
                    _clock(start + v.depart_min),
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
                    _clock(start + back),
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


# --- planning --------------------------------------------------------------------------


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
        ``travel_time_min``, NaN or a missing pair for "unreachable"), as made by
        :func:`accessibility.engine.travel_times.od_matrix`, or a square array whose row ``i``
        and column ``i`` are ``ids[i]`` (``0 .. n-1`` when ``ids`` is not given). Times
        may be asymmetric; a missing self-pair counts as 0.
    stops
        The candidate stops, one row each: ``stop_id`` (an id of ``times``),
        ``population``; optional ``priority`` (weight, default 1), ``mandatory``
        (bool, default False) and ``stop_minutes`` (overrides ``stop_minutes`` where
        given). The depot may be a candidate stop too.
    depot
        Id, in ``times``, of the place the vehicle starts from and returns to each day.
    days
        Number of tour days in the week (one route each).
    day_minutes
        Time budget of a day, driving and stops included, minutes.
    stop_minutes
        Default time spent at each stop, set-up included, minutes.
    time_limit_s
        Wall-clock time given to the solver's guided local search.
    visits_per_week
        How many visits each stop asks for, on different days; every visit brings
        ``1/visits_per_week`` of the stop's prize, so a stop may get fewer visits.
    day_start
        Clock time of departure from the depot, ``"HH:MM"``.
    ids
        Ids of the rows and columns when ``times`` is an array.

    Returns
    -------
    TourPlan

    Raises
    ------
    DataError
        Bad parameters (negative durations, ``visits_per_week`` above ``days``), the
        depot or a stop missing from ``times``, negative travel times, a mandatory stop
        that cannot be reached or served within a day, a day too short for even the
        nearest stop's round trip, or no tour serving every mandatory stop.

    Warns
    -----
    DataWarning
        For each candidate stop set aside: unreachable from or to the depot, or whose
        round trip plus stop time exceeds ``day_minutes``.
    """
    _check_parameters(days, day_minutes, stop_minutes, time_limit_s, visits_per_week)
    start = _parse_clock(day_start)
    index, matrix = _time_matrix(times, ids)
    if depot not in index:
        raise DataError(
            f"depot {depot!r} is not an id of the travel-time matrix ({len(index)} ids, "
            f"e.g. {_sample(index)})"
        )
    cand = _candidates(stops, index, stop_minutes)
    d = index.get_loc(depot)

    # --- integer seconds for the solver; rounded up so that an integer-feasible tour
    # is feasible in real minutes too.
    budget_s = math.floor(day_minutes * 60 + 1e-9)
    pos = index.get_indexer(cand[C.STOP_ID])
    out_s = _ceil_s(matrix[d, pos])
    back_s = _ceil_s(matrix[pos, d])
    svc_s = _ceil_s(cand[C.STOP_MINUTES].to_numpy())
    unreachable = np.isnan(out_s) | np.isnan(back_s)
    round_trip_s = out_s + back_s + svc_s
    too_far = ~unreachable & (round_trip_s > budget_s)
    mandatory = cand[C.MANDATORY].to_numpy()

    ids_ = cand[C.STOP_ID]

    def listing(mask: np.ndarray) -> str:
        return ", ".join(
            f"{ids_.iat[i]!r} ({_round_trip_text(out_s[i], back_s[i], svc_s[i])})"
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
            f"{_round_trip_text(out_s[best], back_s[best], svc_s[best])} = "
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
                stacklevel=2,
            )
    keep = ~(unreachable | too_far)
    excluded = tuple(cand[C.STOP_ID][~keep])
    cand = cand[keep].reset_index(drop=True)
    svc_s = svc_s[keep]

    k = visits_per_week
    mand_load = float((cand[C.STOP_MINUTES] * k)[cand[C.MANDATORY]].sum())
    if mand_load > days * day_minutes:
        raise DataError(
            f"the mandatory stops need {mand_load:g} min of stop time alone "
            f"({int(cand[C.MANDATORY].sum())} stop(s) × {k} visit(s)), more than the "
            f"{days} × {day_minutes:g} = {days * day_minutes:g} min of the week"
        )

    prize = (cand[C.POPULATION] * cand[C.PRIORITY]).to_numpy(dtype=float)
    # node 0 is the depot; nodes 1.. are the visits (k copies of each kept stop)
    node_stop = np.repeat(np.arange(len(cand)), k)
    node_pos = np.concatenate([[d], index.get_indexer(cand[C.STOP_ID])[node_stop]])
    travel_min = matrix[np.ix_(node_pos, node_pos)]
    np.fill_diagonal(travel_min, 0.0)
    travel_s = _ceil_s(travel_min)
    travel_s[np.isnan(travel_s)] = budget_s + 1  # unreachable arc: over any day's budget
    node_svc = np.concatenate([[0.0], svc_s[node_stop]])
    node_units = np.concatenate([[0], np.round(prize[node_stop] * PRIZE_RESOLUTION / k)])
    node_mandatory = np.concatenate([[False], cand[C.MANDATORY].to_numpy()[node_stop]])

    routes, status = _solve(
        travel_s.astype(np.int64),
        node_svc.astype(np.int64),
        node_units.astype(np.int64),
        node_mandatory,
        [list(range(1 + i * k, 1 + (i + 1) * k)) for i in range(len(cand))] if k > 1 else [],
        days,
        budget_s,
        time_limit_s,
    )
    if routes is None:
        n_mand = int(cand[C.MANDATORY].sum())
        raise DataError(
            f"the solver found no tour ({status}) within {days} day(s) of "
            f"{day_minutes:g} min that visits all {n_mand} mandatory stop(s)"
            + (f" {k} times each on different days" if k > 1 else "")
        )

    # --- times in real minutes, from the matrix (the solver only chose and ordered)
    visits: list[Visit] = []
    drive_day, back_day = [], []
    for day, route in enumerate(routes, start=1):
        t, drive, prev = 0.0, 0.0, 0
        for order, node in enumerate(route, start=1):
            leg = float(travel_min[prev, node])
            arrive = t + leg
            t = arrive + float(cand[C.STOP_MINUTES].iat[node_stop[node - 1]])
            drive += leg
            visits.append(
                Visit(day, order, cand[C.STOP_ID].iat[node_stop[node - 1]], arrive, t, leg)
            )
            prev = node
        if route:
            leg = float(travel_min[prev, 0])
            t, drive = t + leg, drive + leg
        back_day.append(t)
        drive_day.append(drive)

    served = {node_stop[n - 1] for r in routes for n in r}
    counts = np.bincount([node_stop[n - 1] for r in routes for n in r], minlength=len(cand))
    plan = TourPlan(
        depot=depot,
        days=days,
        day_minutes=float(day_minutes),
        day_start=_clock(start),
        visits=tuple(visits),
        return_min=tuple(back_day),
        drive_min_per_day=tuple(drive_day),
        population_served=float(cand[C.POPULATION].iloc[sorted(served)].sum()),
        prize=float((prize * counts / k).sum()),
        prize_candidates=float(prize.sum()),
        status=status,
        dropped=tuple(cand[C.STOP_ID].iat[i] for i in range(len(cand)) if i not in served),
        excluded=excluded,
    )
    log.info("%s (status %s)", plan.summary_fr(), status)
    return plan


def _solve(
    travel_s: np.ndarray,
    service_s: np.ndarray,
    prize_units: np.ndarray,
    mandatory: np.ndarray,
    copies: list[list[int]],
    vehicles: int,
    budget_s: int,
    time_limit_s: float,
) -> tuple[list[list[int]] | None, str]:
    """Solve the prize-collecting routing problem on nodes (0 = depot) with OR-Tools.

    One guided local search per first-solution strategy of :data:`FIRST_SOLUTIONS`, each
    given an equal share of ``time_limit_s``; the best solution wins (ties: the first).
    Returns the node sequence of each vehicle (depot excluded), or None when no search
    found a solution, and the routing status name of the winning search.
    """
    best: tuple[int, list[list[int]] | None, str] = (2**63, None, "ROUTING_NOT_SOLVED")
    share = time_limit_s / len(FIRST_SOLUTIONS)
    for strategy in FIRST_SOLUTIONS:
        cost, routes, status = _search(
            travel_s,
            service_s,
            prize_units,
            mandatory,
            copies,
            vehicles,
            budget_s,
            share,
            strategy,
        )
        log.debug("first solution %s: cost %s, status %s", strategy, cost, status)
        if routes is not None and cost < best[0]:
            best = (cost, routes, status)
        elif best[1] is None and routes is None:
            best = (best[0], None, status)
    return best[1], best[2]


def _search(
    travel_s: np.ndarray,
    service_s: np.ndarray,
    prize_units: np.ndarray,
    mandatory: np.ndarray,
    copies: list[list[int]],
    vehicles: int,
    budget_s: int,
    time_limit_s: float,
    first_solution: str,
) -> tuple[int, list[list[int]] | None, str]:
    """One OR-Tools routing search: (objective, routes or None, status name)."""
    try:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("planning a tour needs Google OR-Tools: pip install ortools") from err

    n = len(travel_s)
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    drive = routing.RegisterTransitMatrix(travel_s.tolist())
    # time spent at a node is charged on leaving it: transit(i, j) = stop(i) + drive(i, j)
    busy = routing.RegisterTransitMatrix((travel_s + service_s[:, None]).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(drive)
    routing.AddDimension(busy, 0, int(budget_s), True, "time")

    # A dropped visit costs its prize. Prizes are scaled so that one prize unit outweighs
    # any possible driving saving (lexicographic: prize first, then least driving), within
    # the solver's 64-bit costs.
    max_drive = vehicles * int(budget_s) + 1
    scale = max(1, min(max_drive, (2**62) // max(1, int(prize_units.sum()))))
    for node in range(1, n):
        if not mandatory[node]:
            routing.AddDisjunction([manager.NodeToIndex(node)], int(prize_units[node]) * scale)
    solver = routing.solver()
    for group in copies:  # the visits of one stop fall on different days
        solver.Add(
            solver.AllDifferentExcept(
                [routing.VehicleVar(manager.NodeToIndex(i)) for i in group], -1
            )
        )

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    for op in LNS_OPERATORS:  # off by default; they move several stops in and out at once
        setattr(params.local_search_operators, op, pywrapcp.BOOL_TRUE)
    params.lns_time_limit.FromMilliseconds(LNS_MS)
    params.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if solution is None:
        return 2**63, None, status
    routes = []
    for v in range(vehicles):
        idx, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        routes.append(route)
    return solution.ObjectiveValue(), routes, status


# --- comparison with a fixed site ------------------------------------------------------


def compare_with_fixed_site(
    times: np.ndarray | pd.DataFrame,
    population: pd.Series,
    tour: TourPlan,
    site_id: Hashable,
    *,
    minutes: Sequence[float] = (10, 20, 30),
    ids: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Compare an itinerant tour with one fixed site on the same access indicators.

    Travel times are read from each place of ``population`` (origin) to the fixed site
    or to the nearest bus stop of the week (destination).

    Parameters
    ----------
    times
        Travel times in minutes, as for :func:`plan_tour`.
    population
        Population of each place (usually each commune), indexed by its id in ``times``.
    tour
        The itinerant tour, from :func:`plan_tour`.
    site_id
        Id, in ``times``, of the fixed site.
    minutes
        Thresholds of the "population within" rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator``, ``fixed_site``, ``itinerant``; rows: the number of sites
        (1) and of distinct bus stops, the population within each threshold, the
        population of places that host the site or a stop, and the population-weighted
        mean travel time (minutes; places that reach both the site and a stop).

    Warns
    -----
    DataWarning
        Places that reach neither the site nor any stop, left out of the means.
    """
    index, matrix = _time_matrix(times, ids)
    if not isinstance(population, pd.Series):
        raise DataError(
            f"population: expected a pandas Series indexed by place id, got "
            f"{type(population).__name__}"
        )
    if population.index.has_duplicates:
        dup = population.index[population.index.duplicated()].unique()
        raise DataError(f"population: duplicate place ids {_sample(dup)}")
    pop = population.to_numpy(dtype=float)
    if not np.isfinite(pop).all() or (pop < 0).any():
        raise DataError("population: values must be finite and non-negative")
    missing = [i for i in [*population.index, site_id, *tour.stop_ids] if i not in index]
    if missing:
        raise DataError(
            f"ids missing from the travel-time matrix: {_sample(pd.Index(missing).unique())}"
        )
    orig = index.get_indexer(population.index)
    t_site = matrix[orig, index.get_loc(site_id)]
    if tour.stop_ids:
        t_bus = np.min(
            np.where(
                np.isnan(m := matrix[np.ix_(orig, index.get_indexer(tour.stop_ids))]), np.inf, m
            ),
            axis=1,
        )
        t_bus[np.isinf(t_bus)] = np.nan
    else:
        t_bus = np.full(len(orig), np.nan)
    both = ~np.isnan(t_site) & ~np.isnan(t_bus)
    if (~both).any() and tour.stop_ids:
        lost = population.index[~both]
        warnings.warn(
            f"{len(lost)} place(s) cannot reach the fixed site or any bus stop and are left "
            f"out of the mean travel times: {_sample(lost)}",
            DataWarning,
            stacklevel=2,
        )

    def mean(t: np.ndarray) -> float:
        w = pop[both]
        return float((w * t[both]).sum() / w.sum()) if w.sum() > 0 else float("nan")

    def within(t: np.ndarray, m: float) -> float:
        return float(pop[np.nan_to_num(t, nan=np.inf) <= m].sum())

    stops = set(tour.stop_ids)
    rows = [
        ("sites or distinct stops", 1.0, float(len(stops))),
        *((f"population within {m:g} min", within(t_site, m), within(t_bus, m)) for m in minutes),
        (
            "population of places with the site or a stop",
            float(population.get(site_id, 0.0)),
            float(population[[i for i in population.index if i in stops]].sum()),
        ),
        (
            "mean travel time, population-weighted (min)",
            mean(t_site),
            mean(t_bus) if tour.stop_ids else float("nan"),
        ),
    ]
    return pd.DataFrame(rows, columns=["indicator", "fixed_site", "itinerant"])


# --- input checks ------------------------------------------------------------------------


def _check_parameters(
    days: int, day_minutes: float, stop_minutes: float, time_limit_s: float, visits: int
) -> None:
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise DataError(f"days must be a whole number ≥ 1, got {days!r}")
    if not math.isfinite(day_minutes) or day_minutes <= 0:
        raise DataError(f"day_minutes must be a positive duration, got {day_minutes!r}")
    if not math.isfinite(stop_minutes) or stop_minutes < 0:
        raise DataError(f"stop_minutes must be a duration ≥ 0, got {stop_minutes!r}")
    if not time_limit_s > 0:
        raise DataError(f"time_limit_s must be positive, got {time_limit_s!r}")
    if isinstance(visits, bool) or not isinstance(visits, int | np.integer) or visits < 1:
        raise DataError(f"visits_per_week must be a whole number ≥ 1, got {visits!r}")
    if visits > days:
        raise DataError(
            f"visits_per_week ({visits}) cannot exceed the number of days ({days}): "
            "the visits of a stop fall on different days"
        )


def _time_matrix(
    times: np.ndarray | pd.DataFrame, ids: Sequence[Hashable] | None
) -> tuple[pd.Index, np.ndarray]:
    """The ids and the square float matrix of minutes (NaN = unreachable)."""
    if isinstance(times, pd.DataFrame):
        if ids is not None:
            raise DataError("ids is only for an array of times; a table carries its own ids")
        cols = (C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN)
        require_columns(times, cols, where="travel-time table")
        pairs = times[[C.ORIGIN_ID, C.DESTINATION_ID]]
        if pairs.duplicated().any():
            dup = pairs[pairs.duplicated()].iloc[0]
            raise DataError(
                f"travel-time table: {int(pairs.duplicated().sum())} duplicate "
                f"(origin_id, destination_id) pair(s), e.g. ({dup.iloc[0]!r}, {dup.iloc[1]!r})"
            )
        index = pd.Index(pd.unique(pd.concat([pairs[C.ORIGIN_ID], pairs[C.DESTINATION_ID]])))
        matrix = np.full((len(index), len(index)), np.nan)
        rows = index.get_indexer(pairs[C.ORIGIN_ID])
        cols = index.get_indexer(pairs[C.DESTINATION_ID])
        matrix[rows, cols] = pd.to_numeric(times[C.TRAVEL_TIME_MIN]).to_numpy(dtype=float)
        diag = np.diagonal(matrix).copy()
        np.fill_diagonal(matrix, np.where(np.isnan(diag), 0.0, diag))  # a place to itself
    elif isinstance(times, np.ndarray):
        matrix = np.array(times, dtype=float)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise DataError(f"travel times: expected a square matrix, got shape {matrix.shape}")
        index = pd.Index(range(len(matrix)) if ids is None else list(ids))
        if len(index) != len(matrix):
            raise DataError(f"ids: {len(index)} ids for a {len(matrix)} × {len(matrix)} matrix")
        if index.has_duplicates:
            raise DataError(f"ids: duplicate ids {_sample(index[index.duplicated()].unique())}")
    else:
        raise DataError(
            "travel times: expected a long table (origin_id, destination_id, "
            f"travel_time_min) or a square numpy array, got {type(times).__name__}"
        )
    matrix[np.isinf(matrix)] = np.nan
    neg = np.argwhere(matrix < 0)
    if len(neg):
        i, j = neg[0]
        raise DataError(
            f"travel times: {len(neg)} negative duration(s), e.g. {matrix[i, j]:g} min "
            f"from {index[i]!r} to {index[j]!r}"
        )
    return index, matrix


def _candidates(stops: pd.DataFrame, index: pd.Index, stop_minutes: float) -> pd.DataFrame:
    """The candidate stops with every column filled in and checked."""
    where = "stops"
    require_columns(stops, [C.STOP_ID, C.POPULATION], where=where)
    require_unique(stops, C.STOP_ID, where=where)
    if stops.empty:
        raise DataError("stops: no candidate stop given")
    cand = pd.DataFrame({C.STOP_ID: stops[C.STOP_ID].to_numpy()})
    absent = ~cand[C.STOP_ID].isin(index)
    if absent.any():
        raise DataError(
            f"stops: {int(absent.sum())} stop_id(s) not in the travel-time matrix: "
            f"{_sample(cand[C.STOP_ID][absent])} (matrix ids are e.g. {_sample(index)})"
        )
    for col, default in ((C.POPULATION, None), (C.PRIORITY, 1.0), (C.STOP_MINUTES, stop_minutes)):
        if col not in stops.columns:
            cand[col] = default
            continue
        val = pd.to_numeric(stops[col], errors="coerce").to_numpy(dtype=float)
        if col == C.STOP_MINUTES:
            val = np.where(np.isnan(val) & stops[col].isna().to_numpy(), stop_minutes, val)
        bad = ~np.isfinite(val) | (val < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"stops: column {col!r} must hold finite numbers ≥ 0; {int(bad.sum())} "
                f"do not, e.g. {stops[col].iloc[i]!r} for stop {cand[C.STOP_ID].iat[i]!r}"
            )
        cand[col] = val
    if C.MANDATORY in stops.columns:
        flag = stops[C.MANDATORY]
        ok = flag.isin([True, False, 0, 1]).to_numpy()
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise DataError(
                f"stops: column {C.MANDATORY!r} must be True/False; got {flag.iloc[i]!r} for "
                f"stop {cand[C.STOP_ID].iat[i]!r}"
            )
        cand[C.MANDATORY] = flag.astype(bool).to_numpy()
    else:
        cand[C.MANDATORY] = False
    return cand


# --- formatting ------------------------------------------------------------------------


def _ceil_s(minutes: np.ndarray) -> np.ndarray:
    """Minutes to whole seconds, rounded up (NaN stays NaN)."""
    return np.ceil(np.asarray(minutes, dtype=float) * 60 - 1e-6)


def _round_trip_text(out_s: float, back_s: float, svc_s: float) -> str:
    def m(s: float) -> str:
        return "unreachable" if np.isnan(s) else f"{s / 60:g}"

    return f"{m(out_s)} min there + {m(svc_s)} min stop + {m(back_s)} min back"


def _sample(values: Sequence[Hashable] | pd.Index | pd.Series, n: int = 5) -> str:
    vals = list(values)
    more = f", ... ({len(vals)} in all)" if len(vals) > n else ""
    return ", ".join(repr(v) for v in vals[:n]) + more


def _parse_clock(text: str) -> float:
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", str(text).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise DataError(f"day_start must be a clock time 'HH:MM', got {text!r}")
    return 60.0 * int(match[1]) + int(match[2])


def _clock(minutes: float) -> str:
    m = math.floor(minutes + 0.5)
    return f"{m // 60:02d}:{m % 60:02d}"


def _format_int_fr(n: int) -> str:
    return f"{n:,}".replace(",", NNBSP)


def _plural_fr(n: int, word: str) -> str:
    return f"{_format_int_fr(n)} {word}{'s' if n >= 2 else ''}"


def _duration_fr(minutes: float) -> str:
    m = math.floor(minutes + 0.5)
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60:02d}"
