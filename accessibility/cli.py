"""The ``accessibility`` command line: the only place that configures logging."""

from __future__ import annotations

import logging
import sys

import click

from ._errors import AccessibilityError
from .config import default_paths
from .territory import DEFAULT_TERRITORY

log = logging.getLogger("accessibility")

territory_option = click.option(
    "--territory",
    "-t",
    default=DEFAULT_TERRITORY,
    show_default=True,
    help="A shipped territory (maurienne, savoie, corse) or the path of a territory TOML file.",
)


class _Group(click.Group):
    """Turn the package's errors into a one-line message and exit status 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AccessibilityError as exc:
            if log.isEnabledFor(logging.DEBUG):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="accessibility")
def main(verbose: int, quiet: bool) -> None:
    """Travel times to public services over the road network, for French territories."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
    if verbose < 2:
        for noisy in ("pyogrio", "fiona", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


@main.group()
def data() -> None:
    """Fetch the upstream files and prepare a territory's layers."""


@data.command("fetch")
@click.option("--only", multiple=True, help="A catalogued path (repeatable); default: all.")
def data_fetch(only: tuple[str, ...]) -> None:
    """Fetch every catalogued file into the cache (from the mirror when one is set)."""
    from .sources import fetch, load_catalogue

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
def data_prepare(territory: str, grid: str) -> None:
    """Build the communes, population cells and services layers (GeoPackage in the cache)."""
    from .layers import prepare_layers, prepared_path, summarise, write_layers

    paths = default_paths()
    layers = prepare_layers(territory, paths=paths, grid=grid)
    out = write_layers(layers, prepared_path(layers.territory, paths, grid))
    click.echo(summarise(layers))
    click.echo(f"written: {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
