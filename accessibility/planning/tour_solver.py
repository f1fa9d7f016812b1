"""The OR-Tools search behind an itinerant tour.

Owns: :func:`solve`, the prize-collecting routing problem on integer seconds (node 0 is
the depot), solved by Google OR-Tools' guided local search from several first
solutions. It only chooses and orders the stops;
:func:`accessibility.planning.tours.plan_tour` prepares its input and reads its answer.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

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


def solve(
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
        cost, routes, status = search(
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


def search(
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
