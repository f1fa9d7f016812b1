"""The planners' commands: ``site`` (siting scenario), ``project`` (fiche projet), ``tour``."""

from __future__ import annotations

from pathlib import Path

import click

from accessibility.cli.options import MINUTES, category_option, check_category, territory_option
from accessibility.core import columns as C
from accessibility.inputs.territory import Territory


def _fmt_pop(value: float) -> str:
    return f"{value:,.0f}"


_window_option = click.option(
    "--window",
    help="A time window of data/indicators/windows.toml (samedi_matin, apres_17h30, "
    "pause_midi, semaine): only the existing sites open in it count.",
)
_hours_option = click.option(
    "--hours",
    help='Opening hours of the new site(s), e.g. "sam 09:00 - 12:00; mar 14:00 - 17:00" '
    "(with --window: they must open in it; without --hours the new site is taken as open "
    "in the window).",
)


def _check_window(window: str | None, hours: str | None) -> None:
    """Refuse a bad window or hours in one line, before any data is loaded."""
    from accessibility.planning.candidates import check_window

    check_window(window, hours)


def _echo_window(window: str | None, hours: str | None) -> None:
    if window is None:
        if hours:
            click.echo(f"New site hours: {hours} (no --window: not used)")
        return
    from accessibility.indicators.windows import resolve_window

    w = resolve_window(window)
    click.echo(f"Window {w.key} ({w.label}): existing sites open in it only; new site(s) "
               + (f"open {hours}" if hours else "taken as open in it"))


def _echo_gains(ev: object) -> None:
    """The communes that gain most in a siting evaluation."""
    top = ev.communes[ev.communes["newly_within"] > 0].head(5)  # type: ignore[attr-defined]
    if len(top):
        click.echo("Communes that gain most (inhabitants newly within "
                   f"{ev.threshold_min:g} min):")  # type: ignore[attr-defined]
        for r in top.itertuples(index=False):
            click.echo(
                f"  {r.commune_name:<32}{_fmt_pop(r.newly_within):>8}   mean "
                f"{r.mean_before_min:5.1f} -> {r.mean_after_min:5.1f} min"
            )


@click.command("site")
@territory_option
@category_option
@click.option(
    "--new",
    "new",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="New sites to open.",
)
@click.option(
    "--model",
    type=click.Choice(["mclp", "p-median", "p-center", "lscp"]),
    default="mclp",
    show_default=True,
    help="Siting model (lscp ignores --new: it finds the fewest sites).",
)
@click.option(
    "--threshold",
    type=MINUTES,
    help="Coverage threshold in minutes (default: the category's).",
)
@click.option(
    "--candidates",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Candidate sites: CSV (id,label,lon,lat), GeoJSON or GeoPackage (id, label). "
    "Default: the town halls of the territory.",
)
@click.option(
    "--remove",
    multiple=True,
    help="Service id of an existing site to close (repeatable), e.g. france_services/fs:2823.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the tables (default: output/<territory>_scenarios).",
)
@click.option("--no-map", is_flag=True, help="Skip the scenario map.")
@_window_option
@_hours_option
def site_cmd(
    territory: Territory,
    category: str,
    new: int,
    model: str,
    threshold: float | None,
    candidates: Path | None,
    remove: tuple[str, ...],
    out: Path | None,
    no_map: bool,
    window: str | None,
    hours: str | None,
) -> None:
    """Choose where to open new sites of a category and show what changes."""
    import geopandas as gpd

    _check_window(window, hours)

    from accessibility.core.files import atomic_write, write_table
    from accessibility.core.outputs import command_dir
    from accessibility.pipeline import open_study
    from accessibility.planning.sites import choose_sites

    study = open_study(territory)  # type: ignore[arg-type]
    choice = choose_sites(
        study,
        category,
        new=new,
        model=model,
        threshold_min=threshold,
        candidates=candidates,
        removed=remove,
        window=window, hours=hours,
    )
    ev = choice.evaluation
    res = choice.result
    slug = study.layers.territory.slug
    click.echo(
        f"{ev.category_label} — {study.layers.territory.name}: {choice.model}, "
        f"{len(res.sites)} new site(s), {len(res.existing)} existing, threshold "
        f"{choice.threshold_min:g} min ({res.method}, {res.solve_time_s:.2f} s)"
    )
    for r in choice.chosen.itertuples(index=False):
        click.echo(f"  + {getattr(r, C.SITE_ID)}  {getattr(r, C.LABEL)}")
    for r in ev.removed.itertuples(index=False):
        click.echo(f"  - {getattr(r, C.SITE_ID)}  {getattr(r, C.LABEL)} ({r.commune_code})")
    _echo_window(window, hours)
    click.echo(ev.summary_fr)
    _echo_gains(ev)
    out = out or command_dir("site", slug)
    stem = f"scenario_{category}_{model}" + (f"_{window}" if window else "")
    chosen = choice.chosen.to_crs(4326)
    xy = chosen.assign(lon=chosen.geometry.x, lat=chosen.geometry.y).drop(columns="geometry")
    written = [
        write_table(xy, out / f"{stem}_sites.csv"),
        atomic_write(out / f"{stem}_sites.geojson", lambda p: chosen.to_file(p, driver="GeoJSON")),
        write_table(ev.cells.drop(columns="geometry"), out / f"{stem}_cells.csv"),
        write_table(ev.communes, out / f"{stem}_communes.csv"),
        write_table(ev.epci, out / f"{stem}_epci.csv"),
    ]
    if not no_map:
        from accessibility.outputs.maps import attribution_fr, save_map, scenario_map

        existing = ev.existing[~ev.existing[C.SITE_ID].isin(ev.removed[C.SITE_ID])]
        m = scenario_map(
            ev.cells_before_after,
            gpd.GeoDataFrame(existing, geometry="geometry", crs=ev.existing.crs),
            choice.chosen,
            communes=study.layers.communes,
            label=f"Nouveau site {ev.category_label}",
            threshold_min=ev.threshold_min,
            attribution=attribution_fr(study, [category]),
            caption=ev.summary_fr,
        )
        written.append(save_map(m, command_dir("site", slug, maps=True) / f"{stem}.html"))
    click.echo("written: " + ", ".join(str(p) for p in written))


@click.command("project")
@territory_option
@category_option
@click.option("--at", "at", required=True, help="Where: a commune name, an INSEE code, or lon,lat.")
@click.option("--threshold", type=MINUTES, help="Threshold in minutes (default: the category's).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the sheet (default: output/<territory>_projets).",
)
@_window_option
@_hours_option
def project_cmd(
    territory: Territory,
    category: str,
    at: str,
    threshold: float | None,
    out: Path | None,
    window: str | None,
    hours: str | None,
) -> None:
    """The « fiche projet » of a proposed site: catchment, who gains, priorities, ranking."""
    _check_window(window, hours)
    from accessibility.core.outputs import command_dir
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.pipeline import open_study
    from accessibility.planning.project import project_sheet

    study = open_study(territory)  # type: ignore[arg-type]
    diagnostic = run_diagnostic(study)
    sheet = project_sheet(
        study, diagnostic, category, at, threshold_min=threshold, window=window, hours=hours
    )
    out = out or command_dir("project", study.layers.territory.slug)
    files = sheet.write(out)
    click.echo(sheet.title)
    _echo_window(window, hours)
    for r in sheet.catchment.itertuples(index=False):
        click.echo(
            f"  within {r.minutes:g} min: {_fmt_pop(r.pop_total)} inhabitants "
            f"({_fmt_pop(r.pop_65plus)} aged 65+, {_fmt_pop(r.pop_under15)} under 15)"
        )
    n = sheet.nearest
    click.echo(
        f"  nearest site for {_fmt_pop(n['population'])} inhabitants "
        f"(mean saving {n['mean_saved_min']:.1f} min); newly within "
        f"{sheet.threshold_min:g} min: {_fmt_pop(n['newly_within'])}"
    )
    click.echo(f"  priority communes reached: {len(sheet.priority)}")
    click.echo(f"  rank {sheet.rank} of {len(sheet.ranking)} sites compared")
    click.echo("written: " + ", ".join(str(p) for p in files.values()))


@click.command("tour")
@territory_option
@click.option("--depot", required=True, help="The depot's commune (name or INSEE code).")
@click.option(
    "--days", type=click.IntRange(1, 7), default=2, show_default=True, help="Tour days a week."
)
@click.option(
    "--day-hours",
    type=click.FloatRange(0, 24, min_open=True),
    default=7,
    show_default=True,
    help="Hours a day.",
)
@click.option(
    "--stop-minutes",
    type=click.FloatRange(0, 1440, min_open=True),
    default=120,
    show_default=True,
    help="Minutes at each stop.",
)
@click.option(
    "--category",
    "-c",
    default="france_services",
    show_default=True,
    callback=check_category,
    help="Category of the service (communes that host one are not stops).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(0, 3600, min_open=True),
    default=10,
    show_default=True,
    help="Solver time, seconds.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Schedule CSV (default: output/<territory>_tournees/tournee_<category>_<depot>.csv).",
)
def tour_cmd(
    territory: Territory,
    depot: str,
    days: int,
    day_hours: float,
    stop_minutes: float,
    category: str,
    time_limit: float,
    out: Path | None,
) -> None:
    """Plan an itinerant service's tour over the town halls, compared with a fixed site."""
    from accessibility.core.files import write_table
    from accessibility.core.outputs import command_dir
    from accessibility.pipeline import open_study
    from accessibility.planning.itinerant import plan_itinerant_tour
    from accessibility.planning.project import slug

    study = open_study(territory)  # type: ignore[arg-type]
    tour = plan_itinerant_tour(
        study,
        depot=depot,
        days=days,
        day_hours=day_hours,
        stop_minutes=stop_minutes,
        category=category,
        time_limit_s=time_limit,
    )
    schedule = tour.schedule()
    click.echo(f"{tour.plan.summary_fr()} (dépôt : {tour.depot_name})")
    for r in schedule.itertuples(index=False):
        depart = r.depart if isinstance(r.depart, str) else "     "
        click.echo(
            f"  day {r.day}  {r.arrive}-{depart}  {r.commune_name:<32}(drive {r.drive_min:.0f} min)"
        )
    click.echo(f"Compared with a fixed site at {tour.depot_name}:")
    for r in tour.comparison.itertuples(index=False):
        click.echo(f"  {r.indicator:<46}{r.fixed_site:>10,.1f}{r.itinerant:>10,.1f}")
    out = out or (
        command_dir("tour", study.layers.territory.slug)
        / f"tournee_{category}_{slug(tour.depot_name)}.csv"
    )
    click.echo(f"written: {write_table(schedule, out)}")


def register(group: click.Group) -> None:
    """Add the planners' commands to the ``accessibility`` group."""
    for cmd in (site_cmd, project_cmd, tour_cmd):
        group.add_command(cmd)
