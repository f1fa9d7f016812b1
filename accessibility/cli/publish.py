"""The ``publish`` command: a run into PostGIS (dated versions), comparisons, QGIS project."""

from __future__ import annotations

from pathlib import Path

import click

from accessibility.cli.options import check_scenario, territory_option
from accessibility.inputs.territory import Territory


@click.command("publish")
@territory_option
@click.option(
    "--database",
    "-d",
    default="",
    help="postgresql://user@host/db or a libpq conninfo (\"service=observatoire\"); "
    "default: the PG* environment variables (PGHOST, PGDATABASE, PGUSER, PGSERVICE...).",
)
@click.option(
    "--scenario",
    "-s",
    callback=check_scenario,
    help="Publish the run of this scenario (output/<territory>-<scenario>/).",
)
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, path_type=Path),
    help="The run folder to publish (default: output/<territory>[-<scenario>]/; when it "
    "is absent, the diagnostic is run first, without atlas nor report).",
)
@click.option(
    "--compare",
    nargs=2,
    metavar="RUN_A RUN_B",
    help="Compare two published runs instead (services opened or closed, times, priority "
    "communes): table <schema>.comparisons and a CSV.",
)
def publish_cmd(
    territory: Territory, database: str, scenario: str | None, source: Path | None,
    compare: tuple[str, str] | None,
) -> None:
    """Publish a run into PostGIS (schema acc_<territory>) with a QGIS project on it."""
    from accessibility.core.outputs import OUTPUT_ROOT, check_name, run_dirs
    from accessibility.outputs.publish.postgis import connect, schema_name

    slug = territory.slug
    schema = schema_name(slug)
    name = ""
    if scenario:
        from accessibility.planning.scenario_file import load_scenario

        name = check_name(load_scenario(scenario).name, what="scenario name")
    out = OUTPUT_ROOT / f"{slug}_publication"
    with connect(database) as conn:
        if compare:
            _compare(conn, schema, compare, out)
            return
        folder = source or run_dirs(f"{slug}-{name}" if name else slug)[0]
        _publish(conn, database, territory, name, scenario, folder, schema, out)


def _publish(conn: object, database: str, territory: Territory, name: str,
             scenario: str | None, folder: Path, schema: str, out: Path) -> None:
    from accessibility.inputs.services import load_categories
    from accessibility.outputs.publish.postgis import dsn_parts, publish
    from accessibility.outputs.publish.qgis import postgis_source, project_layers, write_project
    from accessibility.outputs.publish.source import SPATIAL_LAYERS, read_run_folder

    if not (Path(folder) / ".accessibility-output").exists() and not any(
            Path(folder).glob("accessibilite_*.gpkg")):
        from accessibility.pipeline import run_job

        click.echo(f"{folder}: no run yet; running the diagnostic (no atlas, no report)...")
        run_job(territory, scenario=scenario, out_dir=folder, atlas=False,  # type: ignore[arg-type]
                report=False)
    pub = read_run_folder(folder, territory=territory.slug, scenario=name)
    done = publish(conn, pub, schema=schema)  # type: ignore[arg-type]
    if done.new:
        total = sum(done.rows.values())
        click.echo(f"Published run {done.run_id} into schema {schema}: {len(done.rows)} "
                   f"tables, {total:,} rows.")
    else:
        click.echo(f"Run {done.run_id} is already in {schema}.runs: nothing written.")
    labels = {k: c.label for k, c in load_categories().items()}
    frames = {**pub.spatial, **pub.tables, "data_dictionary": pub.dictionary}
    layers = project_layers(frames, pub.dictionary, labels, srids=SPATIAL_LAYERS,
                            note=f"Vue {schema}.<table>_latest : dernière publication.")
    qgs = write_project(out / f"accessibilite_{territory.slug}_postgis.qgs", layers,
                        postgis_source(dsn_parts(conn, database), schema),  # type: ignore[arg-type]
                        title=f"Observatoire de l'accessibilité — {territory.name}")
    click.echo(f"QGIS project on the PostGIS layers: {qgs}")


def _compare(conn: object, schema: str, runs: tuple[str, str], out: Path) -> None:
    from accessibility.core.files import write_table
    from accessibility.outputs.publish.compare import compare_runs, store_comparison

    a, b = runs
    table = compare_runs(conn, schema, a, b)  # type: ignore[arg-type]
    store_comparison(conn, schema, table, a, b)  # type: ignore[arg-type]
    csv = write_table(table, out / f"comparaison_{a}_{b}.csv")
    counts = table["kind"].value_counts()
    click.echo(f"{a} -> {b}: " + (", ".join(f"{n} {k}" for k, n in counts.items())
                                  or "no difference"))
    click.echo(f"Table {schema}.comparisons; CSV: {csv}")
