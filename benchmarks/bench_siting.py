"""Benchmark: our exact p-median / MCLP (HiGHS) against spopt's models solved with CBC.

Usage::

    python benchmarks/bench_siting.py                      # synthetic Savoie-sized matrix
    python benchmarks/bench_siting.py --matrix m.npz       # arrays "times" (n × m minutes,
                                                           # NaN unreachable), "weights"
    python benchmarks/bench_siting.py --matrix t.parquet --weights w.parquet
        # long table origin_id, destination_id, travel_time_min; weights table with
        # columns demand_id (or origin_id) and a weight column (--weight-column)

For each p it solves both, asserts that the objectives are equal (relative 1e-6) and
prints the times and the ratio spopt / ours. The synthetic matrix: 2,500 demand
points and 273 candidates uniform over a 90 × 70 km box (about Savoie's extent),
Euclidean distance × 1.3 detour at 50 km/h, log-normal populations, seed 2026.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from accessibility.siting import CostMatrix, mclp, p_median


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


def spopt_solve(kind: str, times: np.ndarray, w: np.ndarray, p: int, threshold: float) -> float:
    """Objective of spopt's model solved by CBC (through pulp)."""
    import pulp
    from spopt.locate import MCLP, PMedian

    # spopt has no notion of unreachable: give NaN pairs a prohibitive time
    big = np.where(np.isnan(times), 1e6, times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solver = pulp.PULP_CBC_CMD(msg=False)
        if kind == "p-median":
            model = PMedian.from_cost_matrix(big, w, p_facilities=p).solve(solver)
            return float(pulp.value(model.problem.objective))
        model = MCLP.from_cost_matrix(big, w, service_radius=threshold, p_facilities=p)
        model = model.solve(solver)
        return float(pulp.value(model.problem.objective))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--matrix", type=Path, help=".npz or long-table .parquet")
    parser.add_argument("--weights", type=Path, help="weights table (.parquet)")
    parser.add_argument("--weight-column", default="pop_total")
    parser.add_argument("--n-demand", type=int, default=2500)
    parser.add_argument("--n-candidates", type=int, default=273)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--p", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--threshold", type=float, default=20.0, help="MCLP minutes")
    parser.add_argument("--models", nargs="+", default=["p-median", "mclp"])
    parser.add_argument("--no-spopt", action="store_true", help="time ours only")
    args = parser.parse_args()

    if args.matrix:
        cm, w = load(args.matrix, args.weights, args.weight_column)
        source = str(args.matrix)
    else:
        cm, w = synthetic(args.n_demand, args.n_candidates, args.seed)
        source = f"synthetic seed {args.seed}"
    print(f"matrix: {source}, {cm.shape[0]} demand × {cm.shape[1]} candidates")
    print(
        f"{'model':9} {'p':>2} {'ours s':>8} {'method':70} {'spopt s':>8} {'ratio':>6}  objective"
    )
    for kind in args.models:
        for p in args.p:
            t0 = time.perf_counter()
            res = p_median(cm, w, p) if kind == "p-median" else mclp(cm, w, p, args.threshold)
            ours = time.perf_counter() - t0
            if args.no_spopt:
                theirs, ratio = float("nan"), float("nan")
            else:
                t0 = time.perf_counter()
                value = spopt_solve(kind, cm.times, w, p, args.threshold)
                theirs = time.perf_counter() - t0
                # spopt's MCLP objective counts the covered weight like ours
                assert abs(value - res.objective) <= 1e-6 * max(1.0, abs(value)), (
                    f"{kind} p={p}: objectives differ: spopt {value!r}, ours {res.objective!r}"
                )
                ratio = theirs / ours
            print(
                f"{kind:9} {p:>2} {ours:8.3f} {res.method:70} {theirs:8.2f} {ratio:6.1f}  "
                f"{res.objective:.6g}",
                flush=True,
            )


if __name__ == "__main__":
    main()
