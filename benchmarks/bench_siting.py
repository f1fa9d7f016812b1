"""Benchmark: our exact p-median / MCLP (HiGHS) against spopt's models solved with CBC.

Usage::

    python benchmarks/bench_siting.py --territory savoie   # the real Savoie matrix: all
                                                           # populated 1 km cells × the
                                                           # 273 town halls (cached .npz)
    python benchmarks/bench_siting.py                      # synthetic Savoie-sized matrix
    python benchmarks/bench_siting.py --matrix m.npz       # arrays "times" (n × m minutes,
                                                           # NaN unreachable), "weights"
    python benchmarks/bench_siting.py --matrix t.parquet --weights w.parquet
        # long table origin_id, destination_id, travel_time_min; weights table with
        # columns demand_id (or origin_id) and a weight column (--weight-column)

For each p it solves both, asserts that the objectives are equal (relative 1e-6) and
prints a markdown table of the times and the ratio spopt / ours. spopt's time is its
model building (``from_cost_matrix``, pulp) plus CBC's solve, shown apart;
``--spopt-time-limit S`` stops CBC after S seconds and reports "did not finish" (the ratio is then
a lower bound); ``--spopt-wall-limit S`` runs spopt (build and solve) in a child process
killed after S seconds of wall time (CBC does not check its own limit while it solves
the root LP of a large p-median). ``--threshold 20 15 30`` runs MCLP at several
thresholds. The synthetic matrix: 2,500 demand points and 273 candidates uniform over a
90 × 70 km box (about Savoie's extent), Euclidean distance × 1.3 detour at 50 km/h,
log-normal populations, seed 2026.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accessibility.planning.siting import CostMatrix, mclp, p_median


def synthetic(n_demand: int, n_candidates: int, seed: int) -> tuple[CostMatrix, np.ndarray]:
    """A Savoie-sized synthetic matrix (minutes) and population weights."""
    rng = np.random.default_rng(seed)
    size_km = np.array([90.0, 70.0])
    demand = rng.uniform(0, 1, (n_demand, 2)) * size_km
    sites = rng.uniform(0, 1, (n_candidates, 2)) * size_km
    km = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2) * 1.3
    times = km / 50.0 * 60.0
    weights = np.round(rng.lognormal(mean=3.0, sigma=1.5, size=n_demand))
    return CostMatrix.from_array(times), weights


def territory_matrix(territory: str) -> tuple[CostMatrix, np.ndarray]:
    """The real matrix of ``territory``: populated cells (``pop_total``) × town halls.

    Built from the mirror data on first use (road network, snapping, one Dijkstra per
    town hall) and cached as ``.cache/siting/<territory>-cells-townhalls.npz`` (derived
    from the data mirror: git-ignored, never committed).
    """
    from accessibility.core import columns as col
    from accessibility.core.paths import default_paths
    from accessibility.engine.travel_times import od_matrix
    from accessibility.inputs.communes import town_hall_points
    from accessibility.inputs.population import demand_points
    from accessibility.pipeline import open_study

    paths = default_paths()
    cache = Path(paths.cache) / "siting" / f"{territory}-cells-townhalls.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            cm = CostMatrix(z["times"], pd.Index(z["demand_ids"]), pd.Index(z["candidate_ids"]))
            return cm, np.asarray(z["weights"], float)
    study = open_study(territory, paths=paths)
    cells = demand_points(study.layers.cells)
    halls = town_hall_points(study.layers.communes)
    table = od_matrix(
        study.network, cells, halls, origin_id=col.CELL_ID, destination_id=col.COMMUNE_CODE
    )
    weights = cells.set_index(col.CELL_ID)[col.POP_TOTAL].astype(float)
    cm = CostMatrix.from_long(
        table, demand_ids=weights.index, candidate_ids=pd.Index(halls[col.COMMUNE_CODE])
    )
    w = weights.reindex(cm.demand_ids).to_numpy()
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".tmp.npz")
    np.savez_compressed(
        tmp,
        times=cm.times,
        weights=w,
        demand_ids=np.asarray(cm.demand_ids, dtype=str),
        candidate_ids=np.asarray(cm.candidate_ids, dtype=str),
    )
    tmp.replace(cache)
    return cm, w


def load(matrix: Path, weights: Path | None, weight_column: str) -> tuple[CostMatrix, np.ndarray]:
    """Read a matrix from ``.npz`` (times, weights) or a long parquet table + weights."""
    if matrix.suffix == ".npz":
        with np.load(matrix) as z:
            return CostMatrix.from_array(z["times"]), np.asarray(z["weights"], float)
    if weights is None:
        raise SystemExit("--weights is required with a parquet travel-time table")
    table = pd.read_parquet(matrix)
    w = pd.read_parquet(weights)
    id_col = "demand_id" if "demand_id" in w.columns else "origin_id"
    series = w.set_index(id_col)[weight_column].astype(float)
    cm = CostMatrix.from_long(table, demand_ids=series.index)
    return cm, series.reindex(cm.demand_ids).to_numpy()


@dataclass(frozen=True)
class SpoptRun:
    """One spopt + CBC solve: objective (None if not proven), build and solve seconds.

    ``status`` tells why there is no objective: ``"optimal"``, ``"time limit"`` (CBC
    stopped on ``--spopt-time-limit``), ``"killed"`` (``--spopt-wall-limit`` reached)
    or ``"crashed: <exception>"`` — a crash is never reported as a time-out.
    """

    objective: float | None
    build_s: float
    solve_s: float
    status: str = "optimal"

    @property
    def total_s(self) -> float:
        return self.build_s + self.solve_s


def spopt_solve(
    kind: str, times: np.ndarray, w: np.ndarray, p: int, threshold: float, limit_s: float | None
) -> SpoptRun:
    """spopt's model (``from_cost_matrix``) solved by CBC through pulp, timed.

    ``limit_s`` is CBC's time limit; a solve that stops on it (or ends without a
    proven optimum) has ``objective=None``. ``solve(results=False)``: spopt's
    post-processing is left out of its time (ours includes building the assignment).
    """
    import pulp
    from spopt.locate import MCLP, PMedian

    # spopt has no notion of unreachable: give NaN pairs a prohibitive time
    big = np.where(np.isnan(times), 1e6, times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit_s)
        t0 = time.perf_counter()
        if kind == "p-median":
            model = PMedian.from_cost_matrix(big, w, p_facilities=p)
        else:
            model = MCLP.from_cost_matrix(big, w, service_radius=threshold, p_facilities=p)
        t1 = time.perf_counter()
        try:
            model.solve(solver, results=False)
        except Exception as exc:  # spopt raises when the status is not optimal
            elapsed = time.perf_counter() - t1
            # a non-optimal stop at the time limit is a time-out; anything else a crash
            timed_out = limit_s is not None and elapsed >= 0.98 * limit_s
            status = "time limit" if timed_out else f"crashed: {type(exc).__name__}: {exc}"
            return SpoptRun(None, t1 - t0, elapsed, status)
        t2 = time.perf_counter()
    proven = model.problem.sol_status == pulp.LpSolutionOptimal and (
        limit_s is None or t2 - t1 < 0.98 * limit_s
    )
    value = float(pulp.value(model.problem.objective)) if proven else None
    return SpoptRun(value, t1 - t0, t2 - t1, "optimal" if proven else "time limit")


def _child(conn: Any, args: tuple[Any, ...]) -> None:
    os.setsid()  # own process group: the parent can kill CBC with it
    run = spopt_solve(*args)
    conn.send(run)
    conn.close()


def spopt_solve_wall(
    kind: str, times: np.ndarray, w: np.ndarray, p: int, threshold: float, wall_s: float
) -> SpoptRun:
    """:func:`spopt_solve` in a child process, killed (with CBC) after ``wall_s`` seconds."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, (kind, times, w, p, threshold, None)))
    t0 = time.perf_counter()
    proc.start()
    if parent.poll(wall_s):
        run = parent.recv()
        proc.join()
        return run
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.join()
    return SpoptRun(None, time.perf_counter() - t0, 0.0, "killed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--territory", help="build (or load) this territory's real matrix")
    parser.add_argument("--matrix", type=Path, help=".npz or long-table .parquet")
    parser.add_argument("--weights", type=Path, help="weights table (.parquet)")
    parser.add_argument("--weight-column", default="pop_total")
    parser.add_argument("--n-demand", type=int, default=2500)
    parser.add_argument("--n-candidates", type=int, default=273)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--p", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--threshold", type=float, nargs="+", default=[20.0], help="MCLP minutes")
    parser.add_argument("--models", nargs="+", default=["p-median", "mclp"])
    parser.add_argument("--no-spopt", action="store_true", help="time ours only")
    parser.add_argument(
        "--spopt-wall-limit", type=float, default=None, help="kill spopt after S s (wall)"
    )
    parser.add_argument(
        "--spopt-time-limit", type=float, default=None, help="CBC time limit per solve (s)"
    )
    args = parser.parse_args()

    if args.territory:
        cm, w = territory_matrix(args.territory)
        source = f"{args.territory}: populated 1 km cells × town halls"
    elif args.matrix:
        cm, w = load(args.matrix, args.weights, args.weight_column)
        source = str(args.matrix)
    else:
        cm, w = synthetic(args.n_demand, args.n_candidates, args.seed)
        source = f"synthetic seed {args.seed}"
    print(f"matrix: {source}, {cm.shape[0]} demand × {cm.shape[1]} candidates")
    print(
        "| model | p | ours s | spopt+CBC s (build + solve) | ratio | objective | equal |", end=""
    )
    print(" method |")
    print("|---|---|---|---|---|---|---|---|")
    runs = [("p-median", None)] if "p-median" in args.models else []
    runs += [("mclp", t) for t in args.threshold] if "mclp" in args.models else []
    for kind, threshold in runs:
        name = kind if threshold is None else f"MCLP {threshold:g} min"
        for p in args.p:
            t0 = time.perf_counter()
            res = p_median(cm, w, p) if threshold is None else mclp(cm, w, p, threshold)
            ours = time.perf_counter() - t0
            theirs, ratio, equal = "-", "-", "-"
            if not args.no_spopt:
                if args.spopt_wall_limit:
                    run = spopt_solve_wall(
                        kind, cm.times, w, p, threshold or 0.0, args.spopt_wall_limit
                    )
                else:
                    run = spopt_solve(kind, cm.times, w, p, threshold or 0.0, args.spopt_time_limit)
                if run.status.startswith("crashed"):
                    theirs, ratio, equal = run.status, "n/a", "n/a"
                elif run.objective is None:
                    theirs = f"{run.status}: did not finish in {run.total_s:.0f}"
                    ratio, equal = f"> {run.total_s / ours:.0f}", "n/a"
                else:
                    equal_ = abs(run.objective - res.objective) <= 1e-6 * max(
                        1.0, abs(run.objective)
                    )
                    # the objectives must agree: a difference is a bug in one of the two
                    assert equal_, (
                        f"{name} p={p}: objectives differ: spopt {run.objective!r}, "
                        f"ours {res.objective!r}"
                    )
                    theirs = f"{run.total_s:.2f} ({run.build_s:.2f} + {run.solve_s:.2f})"
                    ratio, equal = f"{run.total_s / ours:.0f}", "yes"
            print(
                f"| {name} | {p} | {ours:.3f} | {theirs} | {ratio} | {res.objective:.6g} | "
                f"{equal} | {res.method} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
