"""Scenario files: their schema, and the frozen :class:`Scenario` read from them.

Owns: the format of ``data/scenarios/<name>.toml`` (``data/scenarios/README.md``, bounds
in ``docs/parameters.md``), :func:`parse_scenario` and :func:`load_scenario`. May import
the layers up to :mod:`accessibility.indicators`. Applying a scenario to a network or to
the services is :mod:`accessibility.planning.scenarios`.

Plausibility bounds (a typo should fail, not silently change every figure):

* speed ``factor`` in [0.05, 2]: 0.05 turns 80 km/h into walking pace (4 km/h), the
  slowest a road still open can be; 2 doubles the table's average speeds, which already
  follow the legal limits (a faster road is a new road class, not a factor);
* ``kph`` / ``speed_kph`` in [1, 200] km/h (the French motorway limit is 130);
* a new link at most 100 km long; altitudes in [-500, 9000] m;
* a service edit names a known category (``data/services/categories.toml``); an added
  service lies in France's plausible extent, with a count in [1, 1000];
* the scenario ``name`` is a slug (``^[a-z0-9][a-z0-9-]*$``): it becomes a folder name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from accessibility.core import params
from accessibility.core.errors import ScenarioError
from accessibility.core.paths import project_data_dir

SCENARIO_DIR = Path("scenarios")

Point = str | tuple[float, float]


def _where(file: Path | str | None, table: str, index: int) -> str:
    return f"{file or '<scenario>'}: [[{table}]] #{index + 1}"


# --------------------------------------------------------------------------------------
# the frozen results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closure:
    """Close route ``ref`` between two points (labels, commune names or lon/lat)."""

    index: int
    ref: str
    start: Point
    end: Point
    name: str = ""
    source: str = ""
    usual_dates: str = ""


@dataclass(frozen=True)
class SpeedEdit:
    """Change the speed of the edges that match every given selector."""

    index: int
    factor: float | None = None
    kph: float | None = None
    road_class: tuple[str, ...] = ()
    mountain: bool | None = None
    ref: tuple[str, ...] = ()
    exclude_ref: tuple[str, ...] = ()
    section: tuple[str, Point, Point] | None = None
    min_altitude_m: float | None = None
    max_altitude_m: float | None = None
    note: str = ""


@dataclass(frozen=True)
class NewLink:
    """A two-way road between the nodes nearest two lon/lat points."""

    index: int
    start: tuple[float, float]
    end: tuple[float, float]
    road_class: str
    speed_kph: float | None = None
    length_m: float | None = None
    name: str = ""


@dataclass(frozen=True)
class ServiceEdit:
    """Add, remove or close (for the scenario's season) a service."""

    index: int
    action: str
    service_id: str
    category: str = ""
    label: str = ""
    lon: float | None = None
    lat: float | None = None
    count: float = 1.0
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    """A named set of edits (see :mod:`accessibility.planning.scenarios`)."""

    name: str
    file: Path | None
    description: str = ""
    season: str = ""
    closures: tuple[Closure, ...] = ()
    speeds: tuple[SpeedEdit, ...] = ()
    links: tuple[NewLink, ...] = ()
    services: tuple[ServiceEdit, ...] = ()
    population: Mapping[str, Any] = field(default_factory=dict)
    """The ``[population]`` table (seasonal visitors), read by
    :mod:`accessibility.inputs.seasonal`."""

    @property
    def is_empty(self) -> bool:
        return not (self.closures or self.speeds or self.links or self.services)


# --------------------------------------------------------------------------------------
# the schema
# --------------------------------------------------------------------------------------


def _point(value: Any) -> Point:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("expected a waypoint label, a commune name or [lon, lat]")
        return value.strip()
    if isinstance(value, list | tuple):
        return params._lonlat(value)
    raise ValueError("expected a waypoint label, a commune name or [lon, lat]")


def _strings(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


_Point = Annotated[Point, BeforeValidator(_point)]
_Refs = Annotated[tuple[params.Str, ...], BeforeValidator(_strings)]
_Kph = Annotated[params.Num, Field(ge=1, le=200)]
_Altitude = Annotated[params.Num, Field(ge=-500, le=9000)]


class _Closure(params.Schema):
    ref: params.Str
    start: _Point = Field(alias="from")
    end: _Point = Field(alias="to")
    name: params.Text = ""
    source: params.Text = ""
    usual_dates: params.Text = ""
    note: params.Text = ""


class _Section(params.Schema):
    ref: params.Str
    start: _Point = Field(alias="from")
    end: _Point = Field(alias="to")


class _Speed(params.Schema):
    factor: Annotated[params.Num, Field(ge=0.05, le=2)] | None = None
    kph: _Kph | None = None
    road_class: _Refs = ()
    mountain: params.Bool | None = None
    ref: _Refs = ()
    exclude_ref: _Refs = ()
    section: _Section | None = None
    min_altitude_m: _Altitude | None = None
    max_altitude_m: _Altitude | None = None
    note: params.Text = ""
    source: params.Text = ""

    @model_validator(mode="after")
    def _one_change_some_selector(self) -> _Speed:
        if (self.factor is None) == (self.kph is None):
            raise ValueError("give exactly one of factor or kph")
        selectors = (self.road_class, self.ref, self.section, self.mountain is not None,
                     self.min_altitude_m is not None, self.max_altitude_m is not None)  # fmt: skip
        if not any(selectors):
            raise ValueError("no selector (road_class, mountain, ref, section, altitude)")
        return self


class _Link(params.Schema):
    start: params.LonLat = Field(alias="from")
    end: params.LonLat = Field(alias="to")
    road_class: params.Str
    speed_kph: _Kph | None = None
    length_m: Annotated[params.Num, Field(gt=0, le=100_000)] | None = None
    name: params.Text = ""
    note: params.Text = ""


class _Service(params.Schema):
    action: Literal["add", "remove", "close"]
    service_id: params.Str
    category: params.Str | None = None
    label: params.Text = ""
    lon: Annotated[params.Num, Field(ge=-180, le=180)] | None = None
    lat: Annotated[params.Num, Field(ge=-90, le=90)] | None = None
    count: Annotated[params.Num, Field(ge=1, le=1000)] = 1.0
    note: params.Text = ""

    @field_validator("category")
    @classmethod
    def _known(cls, value: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("categories")
        if value is not None and known is not None and value not in known:
            raise ValueError(
                f"expected a known category{params.closest(value, known)}: {', '.join(known)}"
            )
        return value

    @model_validator(mode="after")
    def _added_where(self) -> _Service:
        if self.action != "add":
            return self
        missing = [k for k in ("category", "lon", "lat") if getattr(self, k) is None]
        if missing:
            raise ValueError(f"an added service needs {', '.join(missing)}")
        from accessibility.inputs.service_readers import FRANCE_BOXES

        if not any(x0 <= self.lon <= x1 and y0 <= self.lat <= y1  # type: ignore[operator]
                   for x0, y0, x1, y1 in FRANCE_BOXES):  # fmt: skip
            raise ValueError(
                f"an added service must lie in France (lon {self.lon}, lat {self.lat} is "
                "outside; swapped lon and lat?)"
            )
        return self


class _Population(params.Schema):
    persons_per_secondary_home: Annotated[params.Num, Field(ge=0, le=20)]
    secondary_home_occupancy: Annotated[params.Num, Field(ge=0, le=1)]
    classified_bed_occupancy: Annotated[params.Num, Field(ge=0, le=1)]


class ScenarioSchema(params.Schema):
    """The keys of a scenario file (``data/scenarios/README.md``)."""

    name: params.Slug | None = None
    description: params.Text = ""
    season: params.Text = ""
    closure: tuple[_Closure, ...] = ()
    speed: tuple[_Speed, ...] = ()
    link: tuple[_Link, ...] = ()
    service: tuple[_Service, ...] = ()
    population: _Population | None = None


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def parse_scenario(
    raw: Mapping[str, Any],
    *,
    name: str,
    file: Path | None = None,
    categories: Iterable[str] | None = None,
) -> Scenario:
    """Build a :class:`Scenario` from a parsed TOML mapping (see :func:`load_scenario`).

    ``categories`` are the known service categories (the shipped ones by default).
    """
    if categories is None and raw.get("service"):
        from accessibility.inputs.categories import load_categories

        categories = list(load_categories())
    s = params.validate(
        raw,
        ScenarioSchema,
        file=file or "<scenario>",
        error=ScenarioError,
        context={"categories": None if categories is None else list(categories)},
    )
    scenario_name = s.name or name
    if not params.re_slug(scenario_name):
        raise ScenarioError(
            f"{file or '<scenario>'}: name: expected to match pattern {params.SLUG_PATTERN} "
            f"(it becomes a folder name; got {scenario_name!r}): add name = \"...\" to the file"
        )
    closures = tuple(
        Closure(index=i, **c.model_dump(exclude={"note"})) for i, c in enumerate(s.closure)
    )
    speeds = tuple(
        SpeedEdit(
            index=i,
            section=(e.section.ref, e.section.start, e.section.end) if e.section else None,
            **e.model_dump(exclude={"section", "source"}),
        )
        for i, e in enumerate(s.speed)
    )
    links = tuple(NewLink(index=i, **e.model_dump(exclude={"note"})) for i, e in enumerate(s.link))
    services = tuple(
        ServiceEdit(index=i, **{**e.model_dump(), "category": e.category or ""})
        for i, e in enumerate(s.service)
    )
    return Scenario(
        name=scenario_name,
        file=file,
        description=s.description,
        season=s.season,
        closures=closures,
        speeds=speeds,
        links=links,
        services=services,
        population=params.freeze(s.population.model_dump() if s.population else {}),
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read a scenario: a shipped name (``"winter"``) or the path of a TOML file.

    Raises
    ------
    ScenarioError
        Unknown name, invalid TOML, or a malformed entry (the message names the file,
        the entry and the field).
    """
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = project_data_dir() / SCENARIO_DIR / f"{name_or_path}.toml"
    if not p.is_file():
        shipped = sorted(f.stem for f in (project_data_dir() / SCENARIO_DIR).glob("*.toml"))
        raise ScenarioError(
            f"scenario {name_or_path!r}: no file {p}; shipped scenarios: {', '.join(shipped)}"
        )
    raw = params.read(p, what="scenario file", error=ScenarioError)
    return parse_scenario(raw, name=p.stem, file=p)
