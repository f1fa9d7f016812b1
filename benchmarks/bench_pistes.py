"""What the « Pistes d'implantation » and the roads layer add to ``run``, step by step.

In one process, on warm caches (Pays de Maurienne by default), the median of
``--repeat`` runs of each step ``run`` now does on top of what it did before:

* ``siting_options``: the four questions (France Services and general practitioners,
  one and two new sites), against what a planner would otherwise run by hand — the four
  ``accessibility site`` commands (one ``choose_sites`` each, in this process: the
  commands' start-up is not counted, which favours them);
* ``road_lines``: the roads layer (computed once for the atlas, once for the report);
* the report with the section and the roads, against the report without the section
  (``pistes=None``), alternately;
* the atlas (roads included).

Prints a Markdown table (docs/status.md). Times depend on the machine and its load
(reported beside them); nothing here is asserted::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_pistes.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territory", default="maurienne")
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.outputs.maps import build_atlas
    from accessibility.outputs.maps.roads import road_lines
    from accessibility.outputs.report import build_report
    from accessibility.pipeline import open_study
    from accessibility.planning.pistes import NEW_SITES, QUESTIONS_FR, siting_options
    from accessibility.planning.sites import choose_sites

    study = open_study(opts.territory)
    diag = run_diagnostic(study)
    pistes = siting_options(study, diag)
    r = opts.repeat
    rows: list[tuple[str, float]] = []
    rows.append(("`siting_options` (4 questions)", _median(lambda: siting_options(study, diag), r)))
    rows.append(("4 × `choose_sites` as `accessibility site` runs them", _median(
        lambda: [choose_sites(study, c, new=k, model="mclp") for c in QUESTIONS_FR
                 for k in NEW_SITES], r)))
    rows.append(("`road_lines`", _median(lambda: road_lines(study.network, study.layers.communes),
                                         r)))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        with_p, without = [], []
        for i in range(r):  # alternate, so load changes hit both alike
            for kind in ("with", "without") if i % 2 == 0 else ("without", "with"):
                t0 = time.perf_counter()
                build_report(study, diag, out / kind, pdf=False,
                             pistes=pistes if kind == "with" else None)
                (with_p if kind == "with" else without).append(time.perf_counter() - t0)
        rows.append(("report without the section (roads drawn)", statistics.median(without)))
        rows.append(("report with the section", statistics.median(with_p)))
        rows.append(("atlas (roads included)", _median(lambda: build_atlas(study, diag,
                                                                           out / "atlas"), r)))
    load = os.getloadavg()
    print(f"{opts.territory}, median of {r} runs in one process, warm caches; load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, {os.cpu_count()} cores.\n")
    print("| step | time |")
    print("|---|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.2f} s |")


if __name__ == "__main__":
    main()
