"""Peak memory and time of the engine before vs after the memory-lean blocks, one run.

Run from the repository root (data mirror beside the checkout, warm cache)::

    git worktree add --detach ../wt-lean-old 9c0be44     # the code before (once)
    cp -a .cache ../wt-lean-old/                          # its warm cache (once)
    .venv/bin/python benchmarks/bench_memory.py --old ../wt-lean-old

Each measurement is a fresh Python process (``--old`` checkout, then this one, per
stage, alternating), on Savoie with the Filosofi 200 m grid and every service:

``diagnostic``
    ``open_study("savoie", grid="filosofi200m")`` then ``run_diagnostic``: every
    category, the gammes, 2SFCA / E2SFCA / APL (the catchment step routes all demand
    points, buffer included, to the GP sites within 30 minutes).
``od``
    The 200 m cells to *every* service within 30 minutes, the reachable pairs: before,
    ``od_matrix(..., limit_min=30).dropna()`` (what the diagnostic did); after,
    ``od_pairs(..., limit_min=30)`` (float32).
``od_matrix``
    The same call to ``od_matrix`` in both (the full long table, every pair, NaN beyond
    30 minutes: its contract is unchanged), to show what writing it block by block saves.

Peak memory is the child's maximum resident set size (``os.wait4`` rusage of that child
alone), minus nothing: it includes Python, the libraries and the study (its RSS just
before the measured step is printed too). Time is the measured step alone, wall clock.
The results are compared: the diagnostic's cell and commune indicator columns must be
equal (max absolute difference printed), the od pairs equal in number and times within
the float32 rounding (at most one float32 step above, see ``ceil_float32``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TERRITORY, GRID, LIMIT_MIN = "savoie", "filosofi200m", 30.0


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_diagnostic(out: Path) -> dict:
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.pipeline import open_study

    study = open_study(TERRITORY, grid=GRID)
    before = _rss_mb()
    t0 = time.perf_counter()
    d = run_diagnostic(study)
    seconds = time.perf_counter() - t0
    numeric = [c for c in d.cells.columns if pd.api.types.is_float_dtype(d.cells[c])]
    d.cells[["cell_id", *numeric]].to_parquet(out / "cells.parquet")
    cols = [c for c in d.communes.columns if pd.api.types.is_float_dtype(d.communes[c])]
    pd.DataFrame(d.communes[cols]).to_parquet(out / "communes.parquet")
    return {"seconds": seconds, "rss_before_mb": before, "cells": len(d.cells)}


def _child_od(out: Path) -> dict:
    from accessibility.core import columns as C
    from accessibility.inputs.population import demand_points
    from accessibility.pipeline import open_study

    study = open_study(TERRITORY, grid=GRID)
    origins = study.access_points(demand_points(study.layers.cells))
    services = study.layers.services.reset_index(drop=True)
    kw = dict(
        origin_id=C.CELL_ID, destination_id=C.SERVICE_ID, limit_min=LIMIT_MIN, snap=study.snap
    )
    before = _rss_mb()
    t0 = time.perf_counter()
    try:
        from accessibility.engine.travel_times import od_pairs
    except ImportError:  # the code before
        from accessibility.engine.travel_times import od_matrix

        table = od_matrix(study.network, origins, services, **kw).dropna()
        seconds = time.perf_counter() - t0
        o = pd.Index(origins[C.CELL_ID]).get_indexer(table[C.ORIGIN_ID])
        d = pd.Index(services[C.SERVICE_ID]).get_indexer(table[C.DESTINATION_ID])
        t = table[C.TRAVEL_TIME_MIN].to_numpy()
        mode = "od_matrix(limit).dropna()"
    else:
        pairs = od_pairs(study.network, origins, services, **kw)
        seconds = time.perf_counter() - t0
        o, d, t = pairs.origin, pairs.destination, pairs.minutes
        mode = f"od_pairs(limit), {pairs.minutes.dtype}, {pairs.nbytes / 2**20:.0f} MB of pairs"
    np.savez(out / "od.npz", o=o, d=d, t=t)
    return {
        "seconds": seconds,
        "rss_before_mb": before,
        "pairs": len(t),
        "of": len(origins) * len(services),
        "mode": mode,
    }


def _child_od_matrix(out: Path) -> dict:
    from accessibility.core import columns as C
    from accessibility.engine.travel_times import od_matrix
    from accessibility.inputs.population import demand_points
    from accessibility.pipeline import open_study

    study = open_study(TERRITORY, grid=GRID)
    origins = study.access_points(demand_points(study.layers.cells))
    services = study.layers.services.reset_index(drop=True)
    before = _rss_mb()
    t0 = time.perf_counter()
    table = od_matrix(
        study.network, origins, services, origin_id=C.CELL_ID, destination_id=C.SERVICE_ID,
        limit_min=LIMIT_MIN, snap=study.snap,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    np.save(out / "minutes.npy", table[C.TRAVEL_TIME_MIN].to_numpy())
    return {"seconds": seconds, "rss_before_mb": before, "rows": len(table)}


def run_child(checkout: Path, stage: str, out: Path) -> dict:
    """One stage in a fresh process of ``checkout``'s code; its peak RSS from wait4."""
    env = dict(os.environ, PYTHONPATH=str(checkout), PYTHONWARNINGS="ignore")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", stage, "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.PIPE, text=True)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{stage} in {checkout} failed (exit {proc.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def compare(stage: str, old: Path, new: Path) -> str:
    if stage == "diagnostic":
        worst = []
        for name in ("cells.parquet", "communes.parquet"):
            a, b = pd.read_parquet(old / name), pd.read_parquet(new / name)
            common = [c for c in a.columns if c in b.columns and c != "cell_id"]
            x, y = a[common].to_numpy(float), b[common].to_numpy(float)
            same_nan = np.array_equal(np.isnan(x), np.isnan(y))
            diff = np.nanmax(np.abs(x - y)) if x.size else 0.0
            worst.append(
                f"{name}: {len(common)} columns, NaN equal {same_nan}, max |diff| {diff:.3g}"
            )
        return "; ".join(worst)
    if stage == "od_matrix":
        a, b = np.load(old / "minutes.npy"), np.load(new / "minutes.npy")
        return f"minutes identical (NaN included): {np.array_equal(a, b, equal_nan=True)}"
    a, b = np.load(old / "od.npz"), np.load(new / "od.npz")
    same = np.array_equal(a["o"], b["o"]) and np.array_equal(a["d"], b["d"])
    t_old, t_new = a["t"], b["t"].astype(np.float64)
    above = t_new - t_old
    ok = bool(((above >= 0) & (t_new <= np.nextafter(t_old.astype(np.float32), np.inf))).all())
    return (
        f"same pairs {same}; float32 - float64 minutes in [{above.min():.3g}, "
        f"{above.max():.3g}] min, within one float32 step above: {ok}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, help="checkout of the code before")
    ap.add_argument("--new", type=Path, default=REPO, help="checkout of the code after")
    ap.add_argument("--stages", default="diagnostic,od,od_matrix")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import warnings

        warnings.simplefilter("ignore")
        fn = {"diagnostic": _child_diagnostic, "od": _child_od, "od_matrix": _child_od_matrix}[
            args.child
        ]
        print(json.dumps(fn(args.out)))
        return
    if args.old is None:
        ap.error("--old CHECKOUT is required (the code before, e.g. a git worktree of main)")
    print(f"{TERRITORY}, grid {GRID}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for stage in args.stages.split(","):
            dirs = {}
            rows = {}
            for label, checkout in (("before", args.old), ("after", args.new)):
                dirs[label] = Path(tmp) / f"{stage}-{label}"
                dirs[label].mkdir()
                rows[label] = run_child(checkout.resolve(), stage, dirs[label])
            b, a = rows["before"], rows["after"]
            print(f"\n{stage}")
            for label, r in rows.items():
                shown = ("seconds", "rss_before_mb", "peak_rss_mb")
                extra = {k: v for k, v in r.items() if k not in shown}
                print(
                    f"  {label:6s} peak RSS {r['peak_rss_mb']:7.0f} MB (before the step "
                    f"{r['rss_before_mb']:5.0f} MB)  time {r['seconds']:6.2f} s  {extra}"
                )
            step_b = b["peak_rss_mb"] - b["rss_before_mb"]
            step_a = a["peak_rss_mb"] - a["rss_before_mb"]
            print(
                f"  ratio before/after: peak RSS {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x, "
                f"growth during the step {step_b:.0f} -> {step_a:.0f} MB "
                f"({step_b / max(step_a, 1):.1f}x), time {b['seconds'] / a['seconds']:.2f}x"
            )
            print(f"  results: {compare(stage, dirs['before'], dirs['after'])}")


if __name__ == "__main__":
    main()
