"""The national run's benchmark: France, every category + gammes + APL on the 1 km grid.

Run from the repository root (needs the data mirror; the first run builds the national
inputs into the cache, which this script times apart)::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_france.py            # all of France
    PYTHONPATH=. .venv/bin/python benchmarks/bench_france.py --departements 75,92,94

Steps, each timed (wall clock, one run; the machine is shared and noisy):

0. the national inputs (communes, cells, services, networks) from the cache, or built
   when absent ("cold");
1. every partition on a Dask LocalCluster of 2 workers, then of 1 worker (same inputs,
   same code: the ratio is the speed-up of the second worker); the results of both are
   checked equal;
2. peak memory per worker: the largest max RSS a worker reported after a partition;
3. the national share of people within 20 / 30 min of a France Services, beside the
   ministry's 92 % / 99 % (a reference, nothing is fitted to it).

Prints each partition as it ends, then a Markdown table (docs/benchmarks.md, "National
run"). Run it from a checkout nobody edits meanwhile: the workers import the package's
modules and read its data files while they run.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.paths import default_paths
from accessibility.national.cluster import close_client, make_client
from accessibility.national.run import NationalSpec, run_distributed, shared_inputs
from accessibility.validation.national import MINISTRY_SHARES


def _run(spec: NationalSpec, workers: int, inputs) -> tuple[float, object]:
    client = make_client(n_workers=workers)
    try:
        client.wait_for_workers(workers)
        t = time.perf_counter()
        result = run_distributed(spec, client, inputs=inputs, on_done=lambda r: print(
            f"  {r.departement}: {len(r.cells):,} cells, {r.seconds:.1f} s, worker peak "
            f"{r.peak_rss_gb:.2f} GB", flush=True))
        return time.perf_counter() - t, result
    finally:
        close_client(client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--departements", help="comma-separated codes (default: all 96)")
    parser.add_argument("--workers", default="2,1", help="worker counts to time (default 2,1)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    deps = args.departements.split(",") if args.departements else None
    spec = NationalSpec.make(default_paths(), deps)
    t = time.perf_counter()
    inputs = shared_inputs(spec)
    t_inputs = time.perf_counter() - t
    print(f"national inputs: {t_inputs:.1f} s ({len(inputs.communes):,} communes of France, "
          f"{len(inputs.cells):,} populated cells, {len(inputs.services):,} services)")
    runs = {}
    for n in (int(v) for v in args.workers.split(",")):
        seconds, result = _run(spec, n, inputs)
        parts = result.partitions
        per_worker = parts.groupby("pid")["peak_rss_gb"].max()
        runs[n] = (seconds, result, per_worker)
        print(f"{n} worker(s): {seconds:.1f} s, {len(parts)} partitions, peak memory per "
              f"worker {per_worker.max():.2f} GB, slowest partition "
              f"{parts.loc[parts['seconds'].idxmax(), 'departement']} "
              f"({parts['seconds'].max():.1f} s)", flush=True)
    counts = sorted(runs)
    if len(counts) > 1:
        a, b = runs[counts[0]][1], runs[counts[-1]][1]
        pd.testing.assert_frame_equal(pd.DataFrame(a.cells.drop(columns="geometry")),
                                      pd.DataFrame(b.cells.drop(columns="geometry")))
        print("results of the runs: identical")
    result = runs[counts[-1]][1]
    cells = result.cells
    fs = cells["time_france_services_min"].to_numpy(float)
    w = cells[C.POP_TOTAL].to_numpy(float)
    shares = {m: float(w[fs <= m].sum() / w.sum()) for m in (20, 30)}
    print("\n| measure | value | target |\n|---|---|---|")
    print(f"| national inputs (cache {'warm' if t_inputs < 120 else 'cold'}) | "
          f"{t_inputs:.0f} s | |")
    for n in counts:
        print(f"| run, {n} worker(s) | {runs[n][0]:.0f} s ({runs[n][0] / 60:.1f} min) | "
              "< 10 min (2 workers) |")
    if 1 in runs and 2 in runs:
        print(f"| speed-up 2 vs 1 worker | {runs[1][0] / runs[2][0]:.2f}x | >= 1.7x |")
    peak = max(runs[n][2].max() for n in counts)
    print(f"| peak memory per worker | {peak:.2f} GB | < 3 GB |")
    print(f"| cells / communes / population | {len(cells):,} / {len(result.communes):,} / "
          f"{w.sum():,.0f} | |")
    unreached = float(w[~np.isfinite(fs)].sum())
    for m in (20, 30):
        print(f"| share within {m} min of a France Services | {shares[m]:.1%} | ministry "
              f"{MINISTRY_SHARES[m]:.0%} (reference, not fitted) |")
    print(f"| people reaching no France Services | {unreached:,.0f} | |")


if __name__ == "__main__":
    main()
