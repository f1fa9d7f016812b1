"""The ``serve`` command: the planner's web app on a local port (:mod:`accessibility.app`)."""

from __future__ import annotations

import click

from accessibility.cli.options import territory_option
from accessibility.inputs.territory import Territory


@click.command("serve")
@territory_option
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback makes the app reachable by others.",
)
@click.option("--no-winter", is_flag=True, help="Offer the base season only (faster start).")
def serve_cmd(territory: Territory, port: int, host: str, no_winter: bool) -> None:
    """The planner's workbench in the browser: try new sites, closures, best sites and
    itinerant tours, see the figures at once, export a scenario (page in French)."""
    from accessibility.app.server import is_loopback, serve

    if not is_loopback(host):
        click.echo(
            f"warning: --host {host}: the app is then reachable by others on the network "
            "and has no authentication; use it only on a trusted network",
            err=True,
        )
    click.echo(f"preparing {territory.name}...")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"then open http://{shown}:{port}/ (Ctrl+C to stop)")
    serve(territory, host=host, port=port, winter=not no_winter)
