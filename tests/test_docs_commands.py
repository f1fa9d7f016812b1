"""Every command shown in the README and the docs runs end to end (issue 12, item 6).

How it works
------------
:func:`doc_commands` reads ``README.md`` and ``docs/*.md`` and collects every shell
command they show: the lines of fenced (```) and indented code blocks, and the inline
code spans, that start with ``accessibility <command>``, ``make``, ``python``,
``PYTHONPATH=``, ``.venv/bin/`` or ``/usr/bin/time``. Each is normalised (a trailing
``# comment`` dropped, ``\\`` continuations joined, blanks collapsed): that string is its
key. Every key must be handled by exactly one of:

* :data:`RUN`: run here, in a temporary working folder (so ``output/`` and ``maps/`` land
  there; the layer and network cache of the checkout is shared), as a subprocess
  (``python -m accessibility.cli``, the same entry point as the installed script); the
  test asserts exit status 0, no traceback, and the files the docs say it writes.
  A synopsis with ``[--option VALUE]`` parts is run with every option filled in.
* :data:`SAME_AS`: the same command as a key of :data:`RUN` (defaults spelled out or
  left out, ``-q``, wrapped in ``/usr/bin/time``): not run twice.
* :data:`SKIP`: cannot be run in a test, with the reason. :data:`SKIP_PREFIX` does the
  same for families of commands that are not the CLI (benchmarks and scripts, which
  measure or recalibrate for minutes); an ``accessibility`` command is never skipped by
  prefix.

``test_every_documented_command_is_handled`` fails when a document shows a command that
none of these names (a new command or option added to the docs without being run), and
when an entry no longer appears in any document (the docs changed: update the entry).

To extend it when the docs gain a command: run this file; the failure names the new key
and the file that shows it. Add it to :data:`RUN` with the argv to run (placeholders
such as ``DIR`` or ``FILE`` replaced by real values; ``{tmp}`` is the working folder) and
the files it must write, or to :data:`SAME_AS`, or to :data:`SKIP` with a reason.

The runs take about 3 minutes on 2 idle cores (most of it ``run --scenario winter
--compare summer`` and ``validate``), two at a time.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))

_COMMAND = re.compile(
    r"^(accessibility(\s+-\w+)*\s+[a-z]|make\b|python3?\s|PYTHONPATH=\S*\s+\S|\.venv/bin/|/usr/bin/time\b)"
)


@dataclass(frozen=True)
class Case:
    """How to run one documented command: its arguments after ``accessibility`` (split
    like a shell line, after the placeholders are filled) and the files (glob patterns
    relative to the working folder) it must leave."""

    args: str
    files: tuple[str, ...] = ()
    stdout: str = ""  # a regular expression the standard output must match


_RUN_FILES = tuple(
    f"{d}/maurienne/{f}"
    for d, names in (
        ("output", ".accessibility-output communes.csv cells.csv warnings.csv "
                   "dictionnaire_des_donnees.csv"),
        ("maps", ".accessibility-output index.html acces.html services.html rapport.html"),
    )
    for f in names.split()
)  # fmt: skip
_PUBLISH = "accessibility publish --territory maurienne --database postgresql://publisher@host/observatoire"
_SITE = "accessibility site --territory maurienne --category france_services --new 2 --model mclp"
_SITE_OPTIONS = "[--candidates FILE] [--remove SERVICE_ID ...] [--out DIR] [--no-map]"
_PROJECT = "accessibility project --territory maurienne --category childcare --at Valloire"
_TOUR = 'accessibility tour --territory maurienne --depot "Saint-Jean-de-Maurienne" --days 2'
_SITE1 = "accessibility site --category france_services --new 1"
_VALIDATE = "accessibility validate --territory T [--out DIR] [--no-national]"

#: Documented commands run by this test: key (as the docs show it) -> how.
_FRANCE3 = (
    *(f"output/france-75-92-94/{f}" for f in (
        ".accessibility-output", "communes.parquet", "cells.parquet", "accessibilite_france.gpkg",
        "summary_departements.csv", "summary_regions.csv", "summary_epci.csv",
        "dictionnaire_des_donnees.csv")),
    "maps/france-75-92-94/index.html",
)
_FRANCE = ("all of France: 3 min on 2 quiet cores from a warm cache, about 5 min more to build "
           "the national inputs (docs/benchmarks.md); the same code runs on three "
           "départements above and in tests/test_national_dask.py")
RUN: dict[str, Case] = {
    "accessibility run --territory france --departements 75,92,94": Case(
        "run --territory france --departements 75,92,94 --workers 2", _FRANCE3,
        stdout=r"84 communes"),
    "accessibility run --territory maurienne": Case("run --territory maurienne", _RUN_FILES),
    "accessibility run --scenario winter --compare summer": Case(
        "run --scenario winter --compare summer",
        (
            "output/maurienne-winter/comparison_summer_winter.csv",
            "output/maurienne-winter/seasonal_population.csv",
            "maps/maurienne-winter/index.html",
            "maps/maurienne-winter/rapport.html",
        ),
    ),
    "accessibility run --grid filosofi200m": Case(
        "run --grid filosofi200m", ("output/maurienne/cells.csv", "maps/maurienne/acces.html")
    ),
    "accessibility data fetch": Case("data fetch"),
    "accessibility data prepare --territory savoie --grid filosofi200m": Case(
        "data prepare --territory savoie --grid filosofi200m"
    ),
    "accessibility data prepare --territory maurienne": Case(
        "data prepare --territory maurienne", stdout=r"42[ ,.\u202f]?710"
    ),
    "accessibility data prepare --grid filosofi200m": Case("data prepare --grid filosofi200m"),
    "accessibility times --category france_services --json": Case(
        "times --category france_services --json",
        ("output/maurienne_times/times_france_services.csv",),
        stdout=r"^\s*[\[{]",
    ),
    'accessibility route "Saint-Jean-de-Maurienne" Bonneval-sur-Arc --geojson path.geojson': Case(
        'route "Saint-Jean-de-Maurienne" Bonneval-sur-Arc --geojson path.geojson',
        ("path.geojson",),
    ),
    "accessibility route Modane Bessans": Case("route Modane Bessans", stdout="km"),
    _VALIDATE: Case(
        "validate --territory maurienne --out {tmp}/validation --no-national",
        ("validation/validation.html", "validation/validation_routes.csv"),
    ),
    f"{_SITE} --threshold 20 {_SITE_OPTIONS}": Case(
        _SITE.removeprefix("accessibility ") + " --threshold 20 --candidates "
        "{tests}/fixtures/candidates_maurienne.csv --remove {first_france_services} "
        "--out {tmp}/sites --no-map",
        ("sites/scenario_france_services_mclp_sites.csv", "sites/*_communes.csv"),
    ),
    "accessibility site --category france_services --new 1": Case(
        "site --category france_services --new 1",
        (
            "output/maurienne_scenarios/scenario_france_services_*_sites.geojson",
            "maps/maurienne_scenarios/scenario_france_services_*.html",
        ),
    ),
    f"{_PROJECT} [--out DIR]": Case(
        _PROJECT.removeprefix("accessibility ") + " --out {tmp}/projet",
        (
            "projet/fiche_projet_childcare_valloire.html",
            "projet/fiche_projet_childcare_valloire.md",
        ),
    ),
    'accessibility site -c france_services --window samedi_matin --hours "sam 09:00 - 12:00; '
    'mar 14:00 - 17:00"': Case(
        'site -c france_services --window samedi_matin --hours "sam 09:00 - 12:00; '
        'mar 14:00 - 17:00" --out {tmp}/fenetre --no-map',
        ("fenetre/scenario_france_services_mclp_samedi_matin_sites.csv",),
    ),
    "accessibility project --category france_services --at Valloire": Case(
        "project --category france_services --at Valloire",
        ("output/maurienne_projets/fiche_projet_france_services_valloire.html",),
    ),
    f"{_TOUR} --day-hours 7 --stop-minutes 120 [--category france_services] [--time-limit 10]": (
        Case(
            _TOUR.removeprefix("accessibility ") + " --day-hours 7 --stop-minutes 120 "
            "--category france_services --time-limit 10",
            ("output/maurienne_tournees/tournee_france_services_saint-jean-de-maurienne.csv",),
        )
    ),
    # publishing: {db} is the conninfo of the tests' throw-away PostGIS (tests/conftest_pg.py)
    _PUBLISH: Case(
        "publish --territory maurienne --database '{db}'",
        ("output/maurienne/accessibilite_maurienne.qgs",
         "output/maurienne_publication/accessibilite_maurienne_postgis.qgs"),
        stdout=r"^(Published run|Run) [0-9a-f]{16} ",
    ),
    "accessibility publish --territory maurienne --scenario winter": Case(
        "publish --territory maurienne --scenario winter --database '{db}'",
        ("output/maurienne-winter/accessibilite_maurienne-winter.qgs",
         "output/maurienne_publication/accessibilite_maurienne_postgis.qgs"),
        stdout=r"^(Published run|Run) [0-9a-f]{16} ",
    ),
}

#: Documented commands that are a command of :data:`RUN` written another way.
SAME_AS: dict[str, str] = {
    "make run": "accessibility run --territory maurienne",  # checked against the Makefile
    "accessibility run": "accessibility run --territory maurienne",  # the default territory
    "accessibility data prepare": "accessibility data prepare --territory maurienne",
    "accessibility times --category france_services": (
        "accessibility times --category france_services --json"
    ),
    '/usr/bin/time -f "%e s" accessibility -q times --category france_services': (
        "accessibility times --category france_services --json"
    ),
    '/usr/bin/time -f "%e s" accessibility route Modane Bessans': (
        "accessibility route Modane Bessans"
    ),
    # the run timed (docs/status.md): the main job, run above
    '/usr/bin/time -f "%e s" .venv/bin/accessibility -q run': (
        "accessibility run --territory maurienne"
    ),
    "accessibility validate --territory maurienne": _VALIDATE,
    "accessibility validate": _VALIDATE,
    "accessibility validate --territory T": _VALIDATE,
    "accessibility publish": _PUBLISH,  # another database: PG* variables or a service
    "accessibility publish --territory T": _PUBLISH,
    "accessibility publish --territory maurienne": _PUBLISH,
    "accessibility publish --territory maurienne --database service=observatoire": _PUBLISH,
    "accessibility publish --territory maurienne --scenario winter --database "
    "service=observatoire": "accessibility publish --territory maurienne --scenario winter",
    "accessibility site --category france_services --new 2 --model mclp --threshold 20": (
        f"{_SITE} --threshold 20 {_SITE_OPTIONS}"
    ),
    "accessibility site --category france_services --new k --no-map": (
        f"{_SITE} --threshold 20 {_SITE_OPTIONS}"
    ),
}

_SERVE = (
    "a web server that runs until stopped; tests/test_app_browser.py serves the app with "
    "uvicorn on a free port and drives it in Chromium, tests/test_app_api.py calls its API"
)
#: Documented commands that a test cannot run, and why.
SKIP: dict[str, str] = {
    "accessibility run --territory france": _FRANCE,
    "accessibility run --territory france --workers 2": _FRANCE,
    "accessibility run --territory france --serial": _FRANCE,
    "accessibility run --territory france --scheduler tcp://host:8786": (
        "needs an existing Dask cluster at that address; " + _FRANCE
    ),
    "accessibility publish --territory maurienne --compare RUN_A RUN_B": (
        "RUN_A and RUN_B are the ids of two publications; tests/test_publish_maurienne.py "
        "runs this command with the ids of its base and scenario publications"
    ),
    "accessibility publish --territory maurienne --database service=observatoire --compare "
    "RUN_A RUN_B": "as the --compare line of the README (run ids of two publications)",
    "accessibility serve": _SERVE,
    "accessibility serve --no-winter": _SERVE,
    "accessibility serve --territory savoie --port 8080": _SERVE,
    "accessibility serve [--territory T] [--port 8000] [--host 127.0.0.1] [--no-winter]": _SERVE,
    "accessibility run --territory savoie": (
        "the Maurienne's run on Savoie (273 communes, about 6 times the cells): minutes on "
        "2 cores; the same command runs above on the Maurienne"
    ),
    "make test": "the test suite itself (CI runs it through .ci/run)",
    "accessibility site | project | tour": "a heading naming three commands, each run above",
    "accessibility run --territory mine.toml --network ~/Downloads/rhone-alpes.osm.pbf": (
        "an example with the user's own territory file and regional extract (neither exists "
        "here); --network and territory files are tested in test_cli.py and test_territory.py"
    ),
    "accessibility validate --territory corse": (
        "validate on Corsica's Travel Mapping network and the national benchmark: minutes on "
        "2 cores; the same command runs above on the Maurienne"
    ),
    "accessibility run --territory dep:90": (
        "run end to end, with its exports, atlas and report checked, by "
        "tests/test_france.py::test_run_on_a_small_departement_end_to_end (80 s: not twice)"
    ),
    "accessibility run --territory dep:XX": (
        "a placeholder for any département (the page's text); dep:90 runs in test_france.py"
    ),
    "accessibility validate --territory savoie": (
        "validate on Savoie (273 communes) with the national benchmark: minutes on 2 cores; "
        "the same command runs above on the Maurienne"
    ),
}

#: Families of non-CLI commands (never ``accessibility ...``) that a test cannot run.
SKIP_PREFIX: dict[str, str] = {
    "python benchmarks/": "a benchmark: measures minutes-long runs on purpose (docs/benchmarks.md)",
    ".venv/bin/python benchmarks/": "a benchmark (docs/benchmarks.md)",
    "PYTHONPATH=. .venv/bin/python benchmarks/": "a benchmark (docs/benchmarks.md)",
    "PYTHONPATH=. .venv/bin/python scripts/calibrate_": (
        "recalibration: rewrites data/network files from hours of routing"
    ),
    ".venv/bin/python scripts/calibrate_": "recalibration: rewrites data/network files",
    "PYTHONPATH=. .venv/bin/python scripts/atlas_size.py": (
        "builds atlases to print the pages' sizes for docs/maps.md (minutes per territory); "
        "the atlas itself is built by `run`, run above"
    ),
    "PYTHONPATH=. .venv/bin/python scripts/diagnostic_figures.py": (
        "prints the figures of docs/recalibration.md; the same diagnostic as `run`"
    ),
    "PYTHONPATH=<checkout> .venv/bin/python scripts/diagnostic_figures.py": (
        "prints the figures of docs/recalibration.md; the same diagnostic as `run`"
    ),
    "python scripts/gammes_check.py": "validation of the gammes on Savoie / Corsica: minutes",
    "PYTHONPATH=. .venv/bin/python -c": "a Python one-liner quoted with its figure",
    "PYTHONPATH=. .venv/bin/python -m pytest": "a test quoted for its printed figures (the suite)",
    "PYTHONPATH=. .venv/bin/python scripts/hours_survey.py": (
        "a survey of the opening hours of the whole national files for docs/indicators.md"
    ),
}

_NAMES = {"python", "python3", "make", ".venv/bin/accessibility"}  # program names in prose


def doc_commands() -> dict[str, list[str]]:
    """Every command the README and docs show: key -> the files that show it."""
    found: dict[str, list[str]] = {}
    for path in DOCS:
        for cmd in _commands(path.read_text(encoding="utf-8")):
            if cmd not in _NAMES:
                found.setdefault(cmd, []).append(str(path.relative_to(REPO)))
    return found


def _normal(text: str) -> str:
    text = re.sub(r"\s+#\s.*$", "", text.strip())
    return re.sub(r"^\$\s+", "", re.sub(r"\s+", " ", text)).strip()


def _commands(text: str) -> list[str]:
    out: list[str] = []
    fence = indented = False
    prose: list[str] = []
    pending = ""
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = not fence
            continue
        code = fence or (
            line.startswith("    ")
            and (indented or not prose)
            and not stripped.startswith(("-", "*", "|"))
        )
        indented = code and not fence
        if not code:
            prose.append(line)
            if not stripped:  # a paragraph ends: inline spans may cross its lines
                para = " ".join(prose)
                out += [
                    _normal(m) for m in re.findall(r"`([^`]+)`", para) if _COMMAND.match(_normal(m))
                ]
                prose = []
            continue
        cmd = _normal(pending + " " + stripped)
        pending = ""
        if cmd.endswith("\\"):
            pending = cmd[:-1]
            continue
        if _COMMAND.match(cmd):
            out.append(cmd)
    return out


def _skipped(key: str) -> str | None:
    if key in SKIP:
        return SKIP[key]
    if not key.startswith("accessibility"):
        for prefix, why in SKIP_PREFIX.items():
            if key.startswith(prefix):
                return why
    return None


def test_every_documented_command_is_handled():
    shown = doc_commands()
    assert "accessibility run --scenario winter --compare summer" in shown  # the reader works
    unhandled = {
        k: v for k, v in shown.items() if k not in RUN and k not in SAME_AS and _skipped(k) is None
    }
    assert not unhandled, (
        "commands shown in the docs but neither run nor skipped by tests/test_docs_commands.py "
        "(add each to RUN, SAME_AS or SKIP):\n"
        + "\n".join(f"  {k!r}  ({', '.join(v)})" for k, v in unhandled.items())
    )
    stale = [k for k in (*RUN, *SAME_AS, *SKIP) if k not in shown]
    assert not stale, f"entries no document shows any more (update them): {stale}"
    assert all(v in RUN for v in SAME_AS.values())
    assert not set(RUN) & set(SKIP) and not set(SAME_AS) & set(SKIP)


def test_the_reader_finds_blocks_spans_and_continuations():
    text = (
        "Run `accessibility run --out\nDIR` or `accessibility.pipeline`.\n\n"
        "```sh\naccessibility site --new 2 \\\n  --model mclp   # comment\nls -l\n```\n\n"
        "    PYTHONPATH=. .venv/bin/python benchmarks/bench_x.py\n"
    )
    assert _commands(text) == [
        "accessibility run --out DIR",
        "accessibility site --new 2 --model mclp",
        "PYTHONPATH=. .venv/bin/python benchmarks/bench_x.py",
    ]


def test_make_run_is_the_command_run_here():
    """``make run`` is handled as ``accessibility run --territory maurienne``: check that
    the Makefile says so."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(
        r"^run:.*\n\t\$\(BIN\)/accessibility run --territory \$\(TERRITORY\)$", makefile, re.M
    )
    assert re.search(r"^TERRITORY\s*\??=\s*maurienne$", makefile, re.M)


def _values(known_warnings) -> dict[str, str]:
    """The values of the placeholders of :data:`RUN` (``{tmp}``: each case's folder)."""
    from accessibility.core import columns as C
    from accessibility.inputs.layers import prepare_layers

    with known_warnings("town_halls", "laposte_coordinates", "far_hospital"):
        services = prepare_layers("maurienne").services
    fs = services[services[C.CATEGORY] == "france_services"].sort_values(C.SERVICE_ID)
    assert len(fs) >= 2
    return {"tests": str(REPO / "tests"), "first_france_services": str(fs[C.SERVICE_ID].iloc[0])}


def _run(n: int, key: str, case: Case, tmp: Path, values: dict[str, str]) -> tuple[str, list[str]]:
    """Run case ``n`` in its own working folder; the problems found (none: it worked)."""
    cwd = tmp / f"{n:02d}-{re.sub(r'[^a-z0-9]+', '-', key.lower())[:40]}"
    cwd.mkdir(parents=True)
    argv = shlex.split(case.args.format(tmp=cwd, **values))
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    res = subprocess.run(
        [sys.executable, "-m", "accessibility.cli", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    problems = []
    if res.returncode != 0:
        problems.append(f"exit status {res.returncode}: {res.stderr.strip()[-600:]}")
    if "Traceback" in res.stderr:
        problems.append("a traceback: " + res.stderr[-600:])
    problems += [f"missing {f}" for f in case.files if not any(cwd.glob(f))]
    if case.stdout and not re.search(case.stdout, res.stdout, re.M):
        problems.append(f"stdout does not match {case.stdout!r}: {res.stdout[:300]!r}")
    return key, problems


@pytest.mark.integration
@pytest.mark.slow
def test_documented_commands_run(tmp_path, known_warnings, postgis):
    """Each command of :data:`RUN`, two at a time (the machine's two cores)."""
    values = {**_values(known_warnings), "db": postgis}
    with ThreadPoolExecutor(max_workers=2) as pool:
        cases = [(n, k, c) for n, (k, c) in enumerate(RUN.items())]
        results = list(pool.map(lambda nkc: _run(*nkc, tmp_path, values), cases))
    failed = {k: p for k, p in results if p}
    assert not failed, "\n".join(f"{k}:\n  " + "\n  ".join(p) for k, p in failed.items())
    route = json.loads(next(tmp_path.glob("*/path.geojson")).read_text())
    assert route["type"] in ("FeatureCollection", "Feature")
