"""The ``validate`` command: the validation report of a territory."""

from __future__ import annotations

import time
from pathlib import Path

import click

from accessibility.cli.options import territory_option


@click.command("validate")
@territory_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="One folder for validation.html and the CSV tables (default: the HTML in "
    "maps/<territory>_validation/, the tables in output/<territory>_validation/, which "
    "a new `run` keeps).",
)
@click.option(
    "--no-national",
    is_flag=True,
    help="Skip the national France Services check (15-30 s and 1 GB the first time).",
)
def validate_cmd(territory: str, out: Path | None, no_national: bool) -> None:
    """Validation des temps de trajet: coarse vs full network, well-known routes, the
    national check and the population far from the network (HTML + CSV)."""
    from accessibility.core.outputs import command_dir
    from accessibility.core.paths import default_paths
    from accessibility.outputs.validation_report import compute_validation, write_validation

    t0 = time.perf_counter()

    def progress(message: str) -> None:
        click.echo(f"  {message}... ({time.perf_counter() - t0:.0f} s)", err=True)

    v = compute_validation(
        territory, paths=default_paths(), national=not no_national, progress=progress
    )
    slug = v.territory.slug
    # its own folders, never run's (which a new run replaces as a whole)
    html_dir = out or command_dir("validate", slug, maps=True)
    csv_dir = out or command_dir("validate", slug)
    written = write_validation(v, html_dir=html_dir, csv_dir=csv_dir)
    from accessibility.outputs.validation_report import reliability

    r = reliability(
        comparison=v.comparison, heldout=v.heldout, routes=v.routes, communes_far=v.communes_far
    )
    click.echo(r["text"])
    click.echo(f"Report: {written['html']}")
    click.echo(f"Tables: {len(written) - 1} CSV in {csv_dir}/")
