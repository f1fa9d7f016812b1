"""Click options shared by the command modules (kept apart to avoid import cycles)."""

from __future__ import annotations

import click

from accessibility.inputs.territory import DEFAULT_TERRITORY

territory_option = click.option(
    "--territory",
    "-t",
    default=DEFAULT_TERRITORY,
    show_default=True,
    help="A shipped territory (maurienne, savoie, corse) or the path of a territory TOML file.",
)
