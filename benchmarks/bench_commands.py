"""The planners' commands, cold process and warm cache, against the code of another commit.

Each command is run as a user runs it, in a new Python process (imports included), on the
Pays de Maurienne, alternately with this checkout and with a reference checkout (by
default the commit before the prepared-layer cache, 9ad74fd)::

    git worktree add /work/wt-old 9ad74fd
    python benchmarks/bench_commands.py --old /work/wt-old --repeat 5

Both checkouts first run every command once, untimed, so that each has its caches warm
(the reference code caches only the road network; this one also the communes, cells,
services and town halls). The table gives the median wall time of ``--repeat`` runs,
and old / new. Targets of issue 10: route < 2 s; times, site, project < 4 s; run
(with atlas and report) < 25 s.

Prints a Markdown table (docs/benchmarks.md). Nothing here is a test: times depend on
the machine and its load (report the load average beside the figures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COMMANDS: list[tuple[str, list[str], float]] = [
    ("route", ["route", "Modane", "Bessans"], 2.0),
    ("times", ["times", "--category", "france_services"], 4.0),
    ("site", ["site", "--category", "france_services", "--new", "1"], 4.0),
    ("project", ["project", "--category", "france_services", "--at", "Valloire"], 4.0),
    ("run", ["run"], 25.0),
]


def _run(checkout: Path, args: list[str], workdir: Path, n: int, mirror: Path) -> float:
    """Wall time of one cold process running ``accessibility ARGS`` from ``checkout``."""
    extra: list[str] = []
    if args[0] == "run":  # fresh output folders inside the scratch folder
        extra = ["--out", str(workdir / f"out-{n}"), "--maps", str(workdir / f"maps-{n}")]
    env = {**os.environ, "PYTHONPATH": str(checkout), "ACCESSIBILITY_DATA_MIRROR": str(mirror)}
    cmd = [sys.executable, "-m", "accessibility.cli", "-q", *args, *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(
            f"{checkout}: `accessibility {' '.join(args)}` failed "
            f"(exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="Reference checkout.")
    parser.add_argument("--new", type=Path, default=REPO, help="Checkout measured.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path(os.environ.get("ACCESSIBILITY_DATA_MIRROR") or REPO.parent / "shared/data"),
        help="Data mirror used by both checkouts.",
    )
    parser.add_argument("--only", nargs="*", help="Command names (route, times, ...).")
    opts = parser.parse_args()
    chosen = [c for c in COMMANDS if not opts.only or c[0] in opts.only]
    checkouts = {"old": opts.old.resolve(), "new": opts.new.resolve()}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as scratch:
        for name, args, target in chosen:
            times: dict[str, list[float]] = {"old": [], "new": []}
            folders = {k: Path(scratch) / f"{name}-{k}" for k in checkouts}
            for k, checkout in checkouts.items():  # warm-up: fill each one's caches
                folders[k].mkdir()
                _run(checkout, args, folders[k], 0, opts.mirror)
            for i in range(1, opts.repeat + 1):
                for k in ("old", "new") if i % 2 else ("new", "old"):  # alternate
                    times[k].append(_run(checkouts[k], args, folders[k], i, opts.mirror))
            old, new = statistics.median(times["old"]), statistics.median(times["new"])
            rows.append((name, args, old, new, target))
            print(f"{name}: old {times['old']}, new {times['new']}", file=sys.stderr)
    load = os.getloadavg()
    print(f"Median of {opts.repeat} cold runs each, warm caches; load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min), "
          f"{os.cpu_count()} cores.\n")  # fmt: skip
    print("| command | before (9ad74fd) | now | before / now | target |")
    print("|---|---:|---:|---:|---:|")
    for _name, args, old, new, target in rows:
        cmd = "accessibility " + " ".join(args)
        ok = "met" if new < target else "missed"
        print(f"| `{cmd}` | {old:.1f} s | {new:.1f} s | {old / new:.1f}× | "
              f"< {target:g} s ({ok}) |")  # fmt: skip


if __name__ == "__main__":
    main()
