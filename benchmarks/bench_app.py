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
of each, and CLI median / app median. Targets of issue 14: a what-if under 0.3 s, the
optimiser for k <= 3 under 2 s, on the Maurienne::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_app.py --requests 60 --cli-repeat 3

Nothing here is a test; times depend on the machine and its load (printed beside them).
"""

from __future__ import annotations

import argparse
import os
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


def _ask(client: httpx.Client, path: str, bodies: list[dict], n: int) -> list[float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        r = client.post(path, json=bodies[i % len(bodies)])
        times.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:500]}")
    return times


def _cli(args: list[str], n: int, workdir: Path) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "accessibility.cli", "-q", *args],
                              cwd=REPO, env=_env(), capture_output=True, text=True)  # fmt: skip
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"accessibility {' '.join(args)}: {proc.stderr[-2000:]}")
    return times


def _row(name: str, app: list[float], cli: list[float] | None, target: str) -> str:
    a_med, a_p95 = statistics.median(app), float(np.percentile(app, 95))
    if cli is None:
        return f"| {name} | {a_med:.3f} | {a_p95:.3f} | {len(app)} | — | — | {target} |"
    c_med = statistics.median(cli)
    return (f"| {name} | {a_med:.3f} | {a_p95:.3f} | {len(app)} | {c_med:.2f} (n={len(cli)}) "
            f"| {c_med / a_med:,.0f}× | {target} |")  # fmt: skip


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
    print("\n| question | app median (s) | app p95 (s) | requests | CLI median (s) | CLI / app "
          "| target |\n|---|---|---|---|---|---|---|")  # fmt: skip
    for name, times in rows:
        print(_row(name, times, cli.get(name), targets.get(name, "< 2 s")))


if __name__ == "__main__":
    main()
