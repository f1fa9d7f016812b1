"""The one loader of the project's parameter files (TOML), with their shared field types.

Owns: reading a TOML file, checking it against its schema and turning every problem into
one project error that names the file, the key path and what was expected, e.g.
``data/scenarios/winter.toml: [[speed]] #2 .factor: must be >= 0.05 (got 1000)``.
May import nothing above :mod:`accessibility.core`.

Each parameter file declares its schema once, as a pydantic model (a well-kept library
for declarative validation: types, bounds, patterns, required/optional keys) next to the
code that uses it; :func:`load` reads and checks the file, :func:`validate` checks a
mapping already read. Models forbid unknown keys (with a "did you mean" when a known key
is close) and are frozen; :func:`freeze` turns what is left of plain dicts and lists
into read-only mappings and tuples.

Field types shared by the schemas: :data:`Str` (non-empty text), :data:`Text`,
:data:`Slug` (``^[a-z0-9][a-z0-9-]*$``: slugs and scenario names become folder names),
:data:`Num` / :data:`PositiveNum` (finite numbers, never booleans), :data:`Bool`,
:data:`Crs` (anything pyproj accepts), :data:`LonLat`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
)

from accessibility.core.errors import DataError, ParameterError

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"

Model = TypeVar("Model", bound="Schema")


class Schema(BaseModel):
    """Base of every parameter-file schema: unknown keys rejected, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _crs(value: str) -> str:
    from pyproj import CRS
    from pyproj.exceptions import CRSError as PyprojCRSError

    try:
        CRS.from_user_input(value)
    except PyprojCRSError:
        raise ValueError(
            "expected a coordinate reference system pyproj knows, such as 'EPSG:2154'"
        ) from None
    return value


def _lonlat(value: Any) -> tuple[float, float]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )
    if not ok or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
        raise ValueError("expected a [lon, lat] pair in degrees (lon in -180..180, lat in -90..90)")
    return (float(value[0]), float(value[1]))


Str = Annotated[str, Strict(), Field(min_length=1)]
Text = Annotated[str, Strict()]
Slug = Annotated[str, Strict(), Field(pattern=SLUG_PATTERN, max_length=64)]
Num = Annotated[float, Strict(), Field(allow_inf_nan=False)]
PositiveNum = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
Bool = Annotated[bool, Strict()]
Crs = Annotated[str, Strict(), AfterValidator(_crs)]
LonLat = Annotated[tuple[float, float], BeforeValidator(_lonlat)]


# --- reading ------------------------------------------------------------------------------


def read(file: Path | str, *, what: str, error: type[DataError] = ParameterError) -> dict[str, Any]:
    """Read a TOML file; ``error`` names the file when it is missing or malformed
    (``what`` says which file it is, e.g. "speed table")."""
    try:
        with Path(file).open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{file}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{file}: {what} is a folder, expected a TOML file") from None
    except UnicodeDecodeError as exc:
        raise error(f"{file}: not valid TOML (not UTF-8 text: {exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{file}: not valid TOML: {exc}") from None


def load(
    file: Path | str,
    schema: type[Model],
    *,
    what: str,
    error: type[DataError] = ParameterError,
    context: Mapping[str, Any] | None = None,
) -> Model:
    """Read ``file`` and check it against ``schema``; raise ``error`` naming the file,
    the key path and the expectation."""
    return validate(read(file, what=what, error=error), schema, file=file, error=error,
                    context=context)


def validate(
    raw: Mapping[str, Any],
    schema: type[Model],
    *,
    file: Path | str | None,
    error: type[DataError] = ParameterError,
    context: Mapping[str, Any] | None = None,
) -> Model:
    """Check an already parsed mapping against ``schema`` (see :func:`load`)."""
    try:
        return schema.model_validate(raw, context=dict(context or {}))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        more = exc.error_count() - 1
        tail = f" (and {more} more problem(s))" if more else ""
        raise error(f"{file or '<parameters>'}: {describe(first, schema)}{tail}") from None


# --- messages -----------------------------------------------------------------------------


def key_path(loc: tuple[int | str, ...]) -> str:
    """Where a value sits, in TOML's words: ``('closure', 2, 'factor')`` ->
    ``[[closure]] #3 .factor``; ``('category', 'fs', 'label')`` -> ``[category.fs].label``;
    ``('communes', 'insee', 0)`` -> ``[communes].insee[0]`` (list items 0-based)."""
    if not loc:
        return "(top level)"
    if len(loc) > 1 and isinstance(loc[0], str) and isinstance(loc[1], int):
        rest = key_path(loc[2:]) if len(loc) > 2 else ""
        rest = rest.replace("[", ".", 1).replace("]", "", 1) if rest.startswith("[") else rest
        return f"[[{loc[0]}]] #{loc[1] + 1}" + (f" .{rest.lstrip('.')}" if rest else "")
    run = 0
    while run < len(loc) and isinstance(loc[run], str):
        run += 1
    table = loc[: run - 1] if run == len(loc) else loc[: max(run - 1, 0)]
    out = f"[{'.'.join(map(str, table))}]" if table else ""
    for part in loc[len(table) :]:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(err: Mapping[str, Any], schema: type[Schema]) -> str:
    """One line for one pydantic error: key path, expectation, value found."""
    loc = tuple(p for p in err["loc"] if not _is_tag(p)) or tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _fields_at(schema, loc[:-1])
        name = str(loc[-1])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{key_path(loc)}: unknown key{hint} (expected one of: {', '.join(known)})"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if kind == "missing":
        return f"{key_path(loc)}: required key is missing"
    for old, new in _WORDING:
        msg = msg.replace(old, new)
    value = err.get("input")
    if isinstance(value, Mapping) and kind != "dict_type":  # a check of a whole table
        where = key_path(loc)
        if loc and all(isinstance(p, str) for p in loc):
            where = f"[{'.'.join(map(str, loc))}]"
        return f"{where or 'top level'}: {msg}"
    return f"{key_path(loc)}: {msg} (got {_short(value)})"


_WORDING = (
    ("Input should be a valid tuple", "expected a list"),
    ("Input should be a valid dictionary or instance of", "expected a table:"),
    ("Input should be a valid dictionary", "expected a table"),
    ("Input should be a finite number", "expected a finite number"),
    ("Input should be", "expected"),
    ("String should", "expected to"),
    ("Tuple should", "expected a list to"),
    ("Value should", "expected to"),
)


def _is_tag(part: Any) -> bool:
    # pydantic may add a validator's name to the location (``function-after[...]``): not a
    # key. Bare TOML keys cannot hold "[", so a user's key is never taken for one.
    return isinstance(part, str) and "[" in part and part.endswith("]")


def _models_in(annotation: Any) -> list[type[Schema]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[Schema]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _fields_at(schema: type[Schema], loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows at ``loc`` (for an unknown-key message)."""
    model: type[BaseModel] = schema
    for part in loc:
        if isinstance(part, str) and part in model.model_fields:
            inner = _models_in(model.model_fields[part].annotation)
            if not inner:
                break
            model = inner[0]
    return [f.alias or n for n, f in model.model_fields.items()]


# --- frozen results -----------------------------------------------------------------------


def freeze(value: Any) -> Any:
    """Deep read-only copy: dicts become MappingProxyType, lists tuples."""
    if isinstance(value, BaseModel):
        return value
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def re_slug(value: str) -> bool:
    """Whether ``value`` is a slug (:data:`SLUG_PATTERN`, at most 64 characters)."""
    return bool(re.fullmatch(SLUG_PATTERN, value)) and len(value) <= 64


def closest(name: str, known: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one of ``known`` is close to ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


__all__ = [
    "SLUG_PATTERN",
    "Bool",
    "Crs",
    "LonLat",
    "Num",
    "PositiveInt",
    "PositiveNum",
    "Schema",
    "Slug",
    "Str",
    "Text",
    "closest",
    "describe",
    "freeze",
    "key_path",
    "load",
    "re_slug",
    "read",
    "validate",
]
