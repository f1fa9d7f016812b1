"""The ``accessibility`` command line: the only place that configures logging.

Owns: the commands and their options (:mod:`.options`, :mod:`.planning`). May import
every layer; nothing imports it.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from accessibility.cli.national import check_national, national_options, run_national_cmd
from accessibility.cli.options import (
    category_option,
    check_scenario,
    check_sources,
    check_table_suffix,
    territory_option,
)
from accessibility.core import columns as C
from accessibility.core.errors import AccessibilityError
from accessibility.core.paths import default_paths
from accessibility.inputs.territory import Territory

log = logging.getLogger("accessibility")


class _Group(click.Group):
    """Expected errors (the package's, click's usage errors) become one line on stderr and
    exit status 2; a traceback only with -vv."""

    verbose = 0

    def invoke(self, ctx: click.Context) -> Any:
        self.verbose = int(ctx.params.get("verbose") or 0)  # -vv: tracebacks
        return super().invoke(ctx)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        self.verbose = 0
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:  # pragma: no cover - click returns it instead
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            if self.verbose >= 2:
                raise
            where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) else ""
            _fail(f"{where}{exc.format_message()}", exc.exit_code)
        except AccessibilityError as exc:
            if self.verbose >= 2:
                raise
            _fail(str(exc), 2)
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(2 if code in (1, 2) else code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="accessibility")
def main(verbose: int, quiet: bool) -> None:
    """Travel times to public services over the road network, for French territories."""
    from accessibility.cli.logs import setup_logging

    setup_logging(verbose, quiet)


@main.group()
def data() -> None:
    """Fetch the upstream files and prepare a territory's layers."""


@data.command("fetch")
@click.option(
    "--only",
    multiple=True,
    callback=check_sources,
    help="A catalogued path (repeatable); default: all.",
)
def data_fetch(only: tuple[str, ...]) -> None:
    """Fetch every catalogued file into the cache (from the mirror when one is set)."""
    from accessibility.inputs.sources import fetch, load_catalogue

    paths = default_paths()
    names = list(only) or list(load_catalogue(paths))
    click.echo(f"mirror: {paths.mirror or '(none: downloading)'}; cache: {paths.downloads}")
    for name in names:
        local = fetch(name, paths)
        click.echo(f"  ok  {name}  ({local.stat().st_size:,} bytes)")
    click.echo(f"{len(names)} file(s) verified (sha256).")


@data.command("prepare")
@territory_option
@click.option(
    "--grid",
    type=click.Choice(["census1km", "filosofi200m"]),
    default="census1km",
    show_default=True,
    help="Population grid used as demand points.",
)
def data_prepare(territory: Territory, grid: str) -> None:
    """Build the communes, population cells, services and road network into the cache.

    Every later command on the territory reads them from there (GeoParquet under
    ``<cache>/prepared`` and ``<cache>/networks``); a changed source, parameter file or
    reader rebuilds what it affects.
    """
    from accessibility.inputs.layers import cache_folder, prepare_layers, summarise
    from accessibility.network.load import territory_network

    paths = default_paths()
    layers = prepare_layers(territory, paths=paths, grid=grid)
    net = territory_network(layers.territory, layers.communes, paths=paths)
    click.echo(summarise(layers))
    click.echo(f"  road network: {net.n_nodes:,} nodes, {net.n_edges:,} edges")
    click.echo(f"cached in: {cache_folder(paths)} and {paths.cache / 'networks'}")


grid_option = click.option(
    "--grid",
    type=click.Choice(["census1km", "filosofi200m"]),
    default="census1km",
    show_default=True,
    help="Population grid used as demand points.",
)


def _fmt_min(value: float) -> str:
    return "n/a" if value != value else f"{value:.1f} min"


@main.command("times")
@territory_option
@category_option
@grid_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=check_table_suffix,
    help="Table to write (.csv or .parquet; default: output/<territory>_times/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def times_cmd(
    territory: Territory, category: str, grid: str, out: Path | None, as_json: bool
) -> None:
    """Time from every population cell to the nearest service of a category."""
    from accessibility.core.files import write_table
    from accessibility.core.outputs import command_dir
    from accessibility.indicators.nearest import time_to_nearest, weighted_summary
    from accessibility.inputs.services import load_categories
    from accessibility.pipeline import open_study

    cats = load_categories()
    study = open_study(territory, grid=grid)  # type: ignore[arg-type]
    cells = study.layers.cells
    table = time_to_nearest(
        study.network, cells, study.layers.services, category, snap=study.snap
    )
    threshold = cats[category].threshold_min
    summary = weighted_summary(
        table[C.TRAVEL_TIME_MIN], cells[C.POP_TOTAL], threshold_min=threshold, category=category
    )
    out = out or command_dir("times", study.layers.territory.slug) / f"times_{category}.csv"
    write_table(table, out)
    if as_json:
        click.echo(
            json.dumps(
                {**summary.as_dict(), "table": str(out), "territory": study.layers.territory.slug},
                indent=1,
            )
        )
        return
    click.echo(
        f"{cats[category].label} — {study.layers.territory.name} ({len(cells):,} cells, "
        f"{summary.population:,.0f} inhabitants)"
    )
    click.echo(
        f"  population-weighted mean: {_fmt_min(summary.mean_min)}; median "
        f"{_fmt_min(summary.median_min)}; 90th percentile {_fmt_min(summary.p90_min)}"
    )
    click.echo(
        f"  beyond {threshold:g} min: {summary.population_beyond:,.0f} inhabitants "
        f"({summary.share_beyond:.1%}); unreachable: {summary.population_unreachable:,.0f}"
    )
    click.echo(f"  table: {out}")


@main.command("route")
@territory_option
@click.argument("origin")
@click.argument("destination")
@click.option(
    "--geojson", type=click.Path(dir_okay=False, path_type=Path), help="Write the path as GeoJSON."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def route_cmd(
    territory: Territory, origin: str, destination: str, geojson: Path | None, as_json: bool
) -> None:
    """Road distance and time between two places (a commune name, an INSEE code, or lon,lat)."""
    import geopandas as gpd

    from accessibility.core.files import atomic_write
    from accessibility.engine.travel_times import route
    from accessibility.inputs.layers import prepare_layers
    from accessibility.inputs.places import resolve_place
    from accessibility.network.load import territory_network

    paths = default_paths()
    layers = prepare_layers(territory, paths=paths, with_services=False, with_cells=False)
    prefer = frozenset(layers.communes[C.COMMUNE_CODE])
    a = resolve_place(origin, paths=paths, prefer=prefer)
    b = resolve_place(destination, paths=paths, prefer=prefer)
    net = territory_network(layers.territory, layers.communes, paths=paths)
    result = route(net, a.point, b.point, crs="EPSG:4326")
    if geojson is not None:
        gdf = gpd.GeoDataFrame(
            {
                "origin": [a.label],
                "destination": [b.label],
                "distance_km": [result.distance_km],
                "time_min": [result.time_min],
            },
            geometry=[result.geometry],
            crs=net.crs,
        ).to_crs(4326)
        atomic_write(geojson, lambda p: gdf.to_file(p, driver="GeoJSON"))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "origin": a.label,
                    "destination": b.label,
                    "distance_km": round(result.distance_km, 3),
                    "time_min": round(result.time_min, 2),
                    "geojson": str(geojson) if geojson else None,
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"{a.label} -> {b.label}: {result.distance_km:.1f} km, {result.time_min:.0f} min")
    if geojson is not None:
        click.echo(f"  path: {geojson}")


MAIN_CATEGORIES = (
    "france_services",
    "emergency",
    "general_practitioner",
    "post_office",
    "childcare",
)


@main.command("run")
@territory_option
@grid_option
@click.option(
    "--scenario",
    "-s",
    callback=check_scenario,
    help="A scenario (data/scenarios/<name>.toml or a file), e.g. winter: closed passes, "
    "speeds, service edits, seasonal peak population.",
)
@click.option(
    "--compare",
    callback=check_scenario,
    help="Compare with another scenario (e.g. --scenario winter --compare summer): "
    "table per commune and EPCI, maps and report section.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the data exports (default: output/<territory>[-<scenario>]); replaced "
    "as a whole, so it must be new, empty or written by an earlier run.",
)
@click.option(
    "--maps",
    "maps_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the atlas and report (default: maps/<territory>[-<scenario>]); "
    "replaced as a whole, so it must be new, empty or written by an earlier run.",
)
@click.option("--no-atlas", is_flag=True, help="Skip the interactive maps.")
@click.option("--no-report", is_flag=True, help="Skip the printable report.")
@national_options
def run_cmd(
    territory: Territory,
    grid: str,
    scenario: str | None,
    compare: str | None,
    out: Path | None,
    maps_dir: Path | None,
    no_atlas: bool,
    no_report: bool,
    **national: Any,
) -> None:
    """The main job: indicators, priority zones, open-data exports, atlas and report.
    With ``--territory france``: every département, partitioned on Dask."""
    import time

    from accessibility.cli import logs
    from accessibility.core.escape import terminal_text
    from accessibility.pipeline import run_job, run_steps

    if check_national(territory, {**national, "scenario": scenario, "compare": compare,
                                  "grid": grid}):
        return run_national_cmd(territory, out=out, maps_dir=maps_dir, no_atlas=no_atlas,
                                **national)

    t0 = time.perf_counter()
    n_steps = run_steps(scenario, compare, atlas=not no_atlas, report=not no_report)
    with logs.steps(n_steps) as progress:
        result = run_job(
            territory,  # type: ignore[arg-type]
            grid=grid,
            scenario=scenario,
            compare=compare,
            out_dir=out,
            maps_dir=maps_dir,
            atlas=not no_atlas,
            report=not no_report,
            progress=progress,
        )
    exports_dir = result.exports["gpkg"].parent
    warnings_csv = logs.WARNINGS.write_csv(exports_dir / "warnings.csv")
    _print_run_summary(result.study, result.diagnostic)
    if result.seasonal is not None:
        c = result.seasonal.communes
        click.echo(
            f"\nSeasonal peak ({scenario}): {c['resident_population'].sum():,.0f} residents + "
            f"{c['peak_population'].sum() - c['resident_population'].sum():,.0f} visitors"
        )
    if result.comparison is not None:
        epci = result.comparison[result.comparison["level"] == "epci"]
        em = epci[epci["indicator"] == "time_emergency_min"]
        click.echo(f"\nEmergency care, {compare} -> {scenario or 'base'} (mean minutes by EPCI):")
        for r in em.itertuples(index=False):
            click.echo(f"  {terminal_text(r.name):<40}{r.change_min:+6.1f} min")
    click.echo(f"\nExports (open data: GeoPackage, CSV, GeoJSON, data dictionary): {exports_dir}/")
    if result.maps:
        click.echo(f"Atlas: {result.maps['index']} ({len(result.maps) - 1} maps)")
    if result.report is not None:
        pdf = result.report.with_suffix(".pdf")
        click.echo(f"Report: {result.report}" + (f" and {pdf}" if pdf.exists() else ""))
    summary = logs.WARNINGS.summary() or "no warning"
    click.echo(f"Warnings: {summary}; all listed in {warnings_csv}")
    click.echo(f"Done in {time.perf_counter() - t0:.0f} s.")


def _short(label: object) -> str:
    return str(label).removeprefix("Temps d'accès : ")


def _print_run_summary(study: object, diag: object) -> None:
    from accessibility.core.escape import terminal_text as _t

    terr = diag.territory.set_index("indicator")  # type: ignore[attr-defined]
    layers = study.layers  # type: ignore[attr-defined]
    click.echo(
        f"\n{_t(layers.territory.name)}: {len(layers.communes)} communes, "
        f"{layers.communes[C.POPULATION].sum():,.0f} inhabitants, {len(layers.cells):,} cells "
        f"({layers.meta['grid_vintage']})"
    )
    click.echo(f"{'category':<34}{'threshold':>10}{'mean':>8}{'p90':>8}{'beyond':>10}{'share':>8}")
    for key in MAIN_CATEGORIES:
        col = f"time_{key}_min"
        if col not in terr.index:
            continue
        r = terr.loc[col]
        click.echo(
            f"{_short(r['label_fr'])[:33]:<34}{r['threshold_min']:>8.0f} m{r['mean_min']:>7.1f}"
            f"{r['p90_min']:>8.1f}{r['population_beyond']:>10,.0f}{r['share_beyond']:>8.1%}"
        )
    epci = diag.epci  # type: ignore[attr-defined]
    fs = epci[epci["indicator"] == "time_france_services_min"]
    if len(fs):
        click.echo("\nFrance Services by EPCI (population-weighted mean, beyond the threshold):")
        for r in fs.itertuples(index=False):
            click.echo(
                f"  {_t(r.epci_name):<40}{r.mean_min:>6.1f} min{r.population_beyond:>8,.0f} "
                "inhabitants"
            )
    prio = diag.priority  # type: ignore[attr-defined]
    tiers = prio["priority_tier"].value_counts() if "priority_tier" in prio else {}
    counts = ", ".join(f"{n} {label}" for label, n in tiers.items() if label)
    click.echo(
        f"\nCommunes meeting a priority criterion: {len(prio)} of {len(diag.communes)}"  # type: ignore[attr-defined]
        + (f" (tiers: {counts})" if counts else "")
        + "; top 5:"
    )
    for r in prio.head(5).itertuples(index=False):
        tier = f" [{r.priority_tier}]" if getattr(r, "priority_tier", "") else ""
        click.echo(
            f"  {r.rank}. {_t(r.commune_name)} ({_t(r.epci_name)}), score "
            f"{r.priority_score:g}{tier}: {_t(r.reasons)}"
        )


from accessibility.cli.planning import register  # noqa: E402

register(main)
main.add_command(__import__("accessibility.cli.validate", fromlist=["_"]).validate_cmd)
main.add_command(__import__("accessibility.cli.publish", fromlist=["_"]).publish_cmd)
main.add_command(__import__("accessibility.cli.serve", fromlist=["_"]).serve_cmd)

if __name__ == "__main__":  # pragma: no cover
    main()
