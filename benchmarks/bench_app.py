"""The planner's app against the CLI: the same what-if questions, in one run.

Starts ``accessibility serve`` (a real uvicorn server, base season) as a subprocess,
waits for it to be ready, then asks it many questions over HTTP (a warm server: what a
planner clicking in a meeting gets) and times each answer:

- « what-if »: a new France Services at a commune's town hall (``POST /api/scenario``,
  the « fiche projet » figures and the scenario's), a different commune each time;
- « removal »: one existing France Services closed;
- « optimiser k »: the best k new sites, MCLP, existing kept (``POST /api/optimise``).

Then runs what a planner would otherwise run, the CLI commands, each in a new process
(imports and cache reads included, as a user runs them): ``accessibility project
--category france_services --at <commune>`` and ``accessibility site --category
france_services --new k --no-map``. Prints a Markdown table: median and 95th percentile
of each (wall time seen by the client), the server's CPU time per answer (what it
costs on an idle core: on a loaded shared machine the wall time is mostly waiting),
and the CLI's wall and CPU times (the process's user + system time), with the ratios
CLI / app of each. Targets of issue 14: a what-if under 0.3 s, the
optimiser for k <= 3 under 2 s, on the Maurienne::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_app.py --requests 60 --cli-repeat 3

Nothing here is a test; times depend on the machine and its load (printed beside them).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _start(territory: str, port: int) -> tuple[subprocess.Popen[bytes], float]:
    cmd = [sys.executable, "-m", "accessibility.cli", "-q", "serve", "--territory", territory,
           "--port", str(port), "--no-winter"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(1200):
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"the server stopped: {err[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.terminate()
    raise SystemExit("the server did not start within 5 minutes")


def _ask(
    client: httpx.Client, path: str, bodies: list[dict], n: int
) -> tuple[list[float], list[float]]:
    """Wall time of each answer seen by the client, and the server's CPU time for it."""
    times, cpu = [], []
    for i in range(n):
        t0 = time.perf_counter()
        r = client.post(path, json=bodies[i % len(bodies)])
        times.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:500]}")
        j = r.json()
        cpu.append(j.get("scenario", j)["cpu_ms"] / 1000)
    return times, cpu


def _cli(args: list[str], n: int, workdir: Path) -> tuple[list[float], list[float]]:
    """Wall time and CPU time (user + system, of the process) of each CLI run."""
    times, cpu = [], []
    for _ in range(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "accessibility.cli", "-q", *args],
                              cwd=REPO, env=_env(), capture_output=True, text=True)  # fmt: skip
        times.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"accessibility {' '.join(args)}: {proc.stderr[-2000:]}")
    return times, cpu


def _row(
    name: str,
    app: tuple[list[float], list[float]],
    cli: tuple[list[float], list[float]] | None,
    target: str,
) -> str:
    wall, cpu = app
    a_med, a_p95, a_cpu = statistics.median(wall), np.percentile(wall, 95), statistics.median(cpu)
    head = f"| {name} | {a_med:.3f} | {a_p95:.3f} | {a_cpu:.3f} | {len(wall)} |"
    if cli is None:
        return f"{head} — | — | — | — | {target} |"
    c_med, c_cpu = statistics.median(cli[0]), statistics.median(cli[1])
    return (f"{head} {c_med:.2f} | {c_cpu:.2f} | {c_med / a_med:,.0f}× | "
            f"{c_cpu / a_cpu:,.0f}× | {target} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--territory", default="maurienne")
    ap.add_argument("--requests", type=int, default=60, help="HTTP questions of each kind")
    ap.add_argument("--cli-repeat", type=int, default=3, help="CLI runs of each kind")
    args = ap.parse_args()
    port = _free_port()
    proc, start_s = _start(args.territory, port)
    rows = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            access = client.get("/api/access", params={"category": "france_services"}).json()
            codes = [c["code"] for c in client.get("/api/meta").json()["communes"]]
            inside = [s["site_id"] for s in access["sites"] if s["commune_code"] in codes]
            whatif = [{"added": [{"commune": c}]} for c in codes[:: max(1, len(codes) // 20)]]
            _ask(client, "/api/scenario", whatif, len(whatif))  # each point routed once
            rows.append(("what-if: a new site (fiche projet)", _ask(
                client, "/api/scenario", whatif, args.requests)))  # fmt: skip
            removal = [{"removed": [s]} for s in inside] or [{"removed": []}]
            rows.append(("what-if: a site closed", _ask(client, "/api/scenario", removal,
                                                         args.requests)))  # fmt: skip
            for k in (1, 2, 3):
                rows.append((f"optimiser k={k} (MCLP)", _ask(
                    client, "/api/optimise", [{"k": k}], max(5, args.requests // 4))))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(30)
    with tempfile.TemporaryDirectory() as tmp:
        cli = {
            "what-if: a new site (fiche projet)": _cli(
                ["project", "--category", "france_services", "--at", "Valloire"],
                args.cli_repeat, Path(tmp)),
            "optimiser k=1 (MCLP)": _cli(["site", "--category", "france_services", "--new", "1",
                                          "--no-map"], args.cli_repeat, Path(tmp)),
            "optimiser k=3 (MCLP)": _cli(["site", "--category", "france_services", "--new", "3",
                                          "--no-map"], args.cli_repeat, Path(tmp)),
        }  # fmt: skip
    targets = {"what-if: a new site (fiche projet)": "< 0.3 s", "what-if: a site closed": "< 0.3 s"}
    print(f"territory {args.territory}; server ready in {start_s:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f} (1 min) at the end")  # fmt: skip
    print(f"CLI: median of {args.cli_repeat} runs, each a new process")
    print("\n| question | app median (s) | app p95 (s) | app CPU (s) | requests | CLI (s) "
          "| CLI CPU (s) | CLI / app | CLI / app, CPU | target |\n"
          "|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for name, times in rows:
        print(_row(name, times, cli.get(name), targets.get(name, "< 2 s")))


if __name__ == "__main__":
    main()
