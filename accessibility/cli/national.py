"""``accessibility run --territory france``: the national run's options and output.

Owns :func:`national_options` (``--scheduler``, ``--workers``, ``--departements``,
``--serial``, added to ``run``) and :func:`run_national_cmd`, which ``run`` calls for the
``france`` territory: progress per partition (a rich bar on a terminal), the Dask
dashboard's address, and a short national summary.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from accessibility.core.errors import AccessibilityError

NATIONAL_SLUG = "france"


def _departements(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if not value:
        return None
    from accessibility.national.inputs import check_departements

    try:
        return check_departements(v.strip() for v in value.split(",") if v.strip())
    except AccessibilityError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def national_options(f: Any) -> Any:
    """The options of the national run (used with ``--territory france`` only)."""
    f = click.option("--serial", is_flag=True,
                     help="National run: every département in this process, without Dask "
                     "(same results, slower).")(f)
    f = click.option("--departements", callback=_departements, metavar="CODES",
                     help="National run: only these départements (comma-separated, e.g. "
                     "73,74,38), each with its buffer.")(f)
    f = click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="National run: local Dask workers (default: one per core).")(f)
    return click.option("--scheduler", metavar="ADDRESS", default=None,
                        help="National run: the address of a running Dask scheduler "
                        "(tcp://host:8786) instead of a local cluster; its workers need the "
                        "package and the data mirror and cache on shared paths "
                        "(docs/national.md).")(f)


def check_national(territory: Any, options: dict[str, Any]) -> bool:
    """True for the national run; a usage error for national options given without it,
    or for options the national run does not take."""
    national = getattr(territory, "slug", None) == NATIONAL_SLUG
    own = ("scheduler", "workers", "departements", "serial")
    if not national:
        given = [k for k in own if options.get(k)]
        if given:
            raise click.UsageError(
                f"--{given[0]} is an option of the national run (--territory france) only")
        return False
    unsupported = {"scenario": "--scenario", "compare": "--compare", "no_report": None}
    for key, flag in unsupported.items():
        if flag and options.get(key):
            raise click.UsageError(f"{flag} is not available for the national run yet")
    if options.get("grid") not in (None, "census1km"):
        raise click.UsageError("the national run uses the 1 km census grid (--grid census1km)")
    if options.get("serial") and (options.get("scheduler") or options.get("workers")):
        raise click.UsageError("--serial runs without Dask: drop --scheduler / --workers")
    return True


def run_national_cmd(territory: Any, *, out: Path | None, maps_dir: Path | None,
                     no_atlas: bool, scheduler: str | None, workers: int | None,
                     departements: tuple[str, ...] | None, serial: bool) -> None:
    """Run the national job and print where everything went."""
    from accessibility.cli import logs
    from accessibility.core.paths import default_paths
    from accessibility.national.inputs import departements_table_codes
    from accessibility.national.job import run_france
    from accessibility.national.run import NationalSpec

    t0 = time.perf_counter()
    spec = NationalSpec.make(default_paths(), departements, territory.buffer_km)
    n = len(departements or departements_table_codes())

    def on_start(count: int, dashboard: str | None) -> None:
        where = "in this process" if dashboard is None and serial else "on Dask"
        click.echo(f"{count} partitions (départements) {where}", err=True)
        if dashboard:
            click.echo(f"Dask dashboard: {dashboard}", err=True)

    with logs.steps(n + 2) as progress:
        run = run_france(
            spec, scheduler=scheduler, n_workers=workers, serial=serial, out_dir=out,
            maps_dir=maps_dir, atlas=not no_atlas, say=progress, on_start=on_start,
            on_done=lambda r: progress(f"département {r.departement} done "
                                       f"({len(r.cells):,} cells, {r.seconds:.0f} s)"),
        )
    _print_summary(run, time.perf_counter() - t0)


def _print_summary(run: Any, seconds: float) -> None:
    from accessibility.core import columns as C
    from accessibility.national.exports import summaries

    result = run.result
    france = summaries(result)["france"].set_index("indicator")
    pop = result.cells[C.POP_TOTAL].sum()
    click.echo(f"\n{len(result.communes):,} communes, {len(result.cells):,} cells, "
               f"{pop:,.0f} inhabitants, {len(result.partitions)} départements")
    for key in ("france_services", "emergency", "general_practitioner"):
        col = f"time_{key}_min"
        if col in france.index:
            r = france.loc[col]
            click.echo(f"  {key:<24} mean {r['mean_min']:5.1f} min, beyond "
                       f"{r['threshold_min']:.0f} min: {r['share_beyond']:.1%}")
    fs = result.cells["time_france_services_min"].to_numpy(float)
    w = result.cells[C.POP_TOTAL].to_numpy(float)
    for t in (20, 30):
        click.echo(f"  France Services within {t} min: {w[fs <= t].sum() / w.sum():.1%}")
    click.echo(f"Exports: {run.exports['gpkg'].parent}/")
    if run.atlas:
        click.echo(f"National atlas page: {run.atlas}")
    click.echo(f"Warnings: {len(result.warnings)} (per partition in partitions.csv)")
    click.echo(f"Done in {seconds:.0f} s.")
