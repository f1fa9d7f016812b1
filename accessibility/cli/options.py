"""Click options shared by the command modules (kept apart to avoid import cycles).

Owns: the validation of every argument before any data is loaded. Parameter files are
small TOML files, read here to check ``--territory``, ``--category``, ``--scenario``;
numbers get click ranges. A bad value is a click usage error (one line, exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from accessibility.core.errors import AccessibilityError
from accessibility.inputs.territory import DEFAULT_TERRITORY, Territory, load_territory

_NETWORK_KEY = "accessibility.network"


def _network(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    ctx.meta[_NETWORK_KEY] = value


def _territory(ctx: click.Context, param: click.Parameter, value: str) -> Territory:
    """Read and check the territory file now: a bad file fails before any data is read."""
    try:
        return load_territory(value, network=ctx.meta.get(_NETWORK_KEY))
    except AccessibilityError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def territory_option(f: Any) -> Any:
    """``--territory`` (a shipped slug or a TOML file) and ``--network PATH``."""
    f = click.option(
        "--territory",
        "-t",
        default=DEFAULT_TERRITORY,
        show_default=True,
        callback=_territory,
        help="A shipped territory (maurienne, savoie, corse), the path of a territory TOML "
        "file, or a shorthand: dep:38 (or dep:2A,2B), epci:200070464, "
        "communes:73248,73257,... or france (metropolitan France and Corsica).",
    )(f)
    return click.option(
        "--network",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        is_eager=True,
        expose_value=False,
        callback=_network,
        help="A road-network file to use instead of the territory's [sources.network] "
        "source (e.g. a regional .osm.pbf extract), read with the territory's reader.",
    )(f)


def check_category(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A service category of ``data/services/categories.toml``."""
    if value is None:
        return None
    from accessibility.core.params import closest
    from accessibility.inputs.categories import load_categories

    cats = load_categories()
    if value not in cats:
        raise click.BadParameter(
            f"unknown category {value!r}{closest(value, cats)}; known: {', '.join(sorted(cats))}",
            ctx=ctx,
            param=param,
        )
    return value


def check_scenario(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A shipped scenario name or a scenario file, read and checked now."""
    if value is None:
        return None
    from accessibility.planning.scenario_file import load_scenario

    try:
        load_scenario(value)
    except AccessibilityError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
    return value


def check_table_suffix(ctx: click.Context, param: click.Parameter, value: Path | None) -> Any:
    """A table file written as CSV or Parquet."""
    if value is not None and value.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter(
            f"{value}: expected a .csv or .parquet file name", ctx=ctx, param=param
        )
    return value


def check_sources(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    """Names of the source catalogue (``data/sources.toml``)."""
    from accessibility.core.params import closest
    from accessibility.inputs.sources import load_catalogue

    if not value:
        return value
    try:
        known = load_catalogue()
    except AccessibilityError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
    bad = [v for v in value if v not in known]
    if bad:
        raise click.BadParameter(
            f"{bad[0]!r} is not in the source catalogue{closest(bad[0], known)} "
            "(see data/sources.toml)",
            ctx=ctx,
            param=param,
        )
    return value


#: Minutes of a threshold: > 0 and at most 4 hours.
MINUTES = click.FloatRange(min=0, max=240, min_open=True)

category_option = click.option(
    "--category",
    "-c",
    required=True,
    callback=check_category,
    help="Service category (see data/services/categories.toml).",
)
