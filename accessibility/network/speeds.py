"""The speed table: an average car speed per road class, and OSM ``maxspeed`` parsing.

The figures live in ``data/network/speeds.toml``, each with its source (French legal
limits, the OSRM car profile, or a stated assumption). :func:`load_speed_table` reads
and checks that file into a frozen :class:`SpeedTable` that readers pass down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated

from pydantic import Field, model_validator

from accessibility.core import params
from accessibility.core.errors import NetworkError
from accessibility.core.paths import project_data_dir

SPEEDS_FILE = Path("network") / "speeds.toml"

# "50", "50 km/h", "50kmh", "30 mph", "50;70" (first value), "50.5"
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|mp/h|knots)?\s*$", re.IGNORECASE)
# "FR:urban", "CH:rural", "DE-BY:urban"
_ZONE = re.compile(r"^\s*([a-z]{2}(?:-[a-z0-9]+)?):([a-z_0-9]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class SpeedTable:
    """Average speeds per road class and the rules to read OSM ``maxspeed`` values."""

    speeds: Mapping[str, float]
    """Road class -> average speed, km/h (all > 0)."""
    sources: Mapping[str, str]
    """Road class -> where its figure comes from."""
    maxspeed_factor: float
    """Factor from a legal limit to a realistic average speed (0 < factor <= 1)."""
    maxspeed_symbols: Mapping[str, float] = field(default_factory=dict)
    """Lower-case symbolic maxspeed (``"fr:urban"``) -> legal limit, km/h."""
    zone_defaults: Mapping[str, float] = field(default_factory=dict)
    """Zone name (``"urban"``) -> legal limit, km/h, for countries not in the symbols."""
    class_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Named maps from a foreign class column (``"osm_derived"``) to a class above."""
    mph_to_kph: float = 1.609344
    path: Path | None = None
    """The file the table was read from (named in errors)."""

    @property
    def classes(self) -> tuple[str, ...]:
        """The known road classes, sorted."""
        return tuple(sorted(self.speeds))

    def has(self, road_class: str) -> bool:
        """Whether ``road_class`` has a speed."""
        return road_class in self.speeds

    def speed_for(self, road_class: str) -> float:
        """Average speed (km/h) of ``road_class``.

        Raises
        ------
        NetworkError
            If the class is not in the table (the message lists the known classes).
        """
        try:
            return self.speeds[road_class]
        except KeyError:
            raise NetworkError(
                f"{self.path or 'speed table'}: no speed for road class {road_class!r}; "
                f"known classes: {', '.join(self.classes)}"
            ) from None

    def class_map(self, name: str) -> Mapping[str, str]:
        """The named map from a foreign class column to this table's classes."""
        try:
            return self.class_maps[name]
        except KeyError:
            raise NetworkError(
                f"{self.path or 'speed table'}: no class map {name!r} "
                f"(known: {', '.join(sorted(self.class_maps)) or 'none'})"
            ) from None

    def parse_maxspeed(self, value: str | None) -> float | None:
        """Legal limit (km/h) of an OSM ``maxspeed`` value, or ``None`` if it gives none.

        Rules: a number is km/h unless followed by ``mph`` (converted); several values
        separated by ``;`` take the first; symbolic values (``FR:urban`` = 50,
        ``FR:rural`` = 80, ``FR:motorway`` = 130, ``walk``...) come from the table, then
        ``XX:zone`` falls back on the table's zone defaults. ``none`` (no legal limit),
        ``signals``, ``variable``, zero, negative or unreadable values give ``None``:
        the caller then uses the class speed. The result is the *legal* limit; multiply
        it by :attr:`maxspeed_factor` for an average speed.
        """
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        if ";" in text:
            text = text.split(";", 1)[0].strip()
        m = _NUMBER.match(text)
        if m:
            kph = float(m.group(1))
            unit = (m.group(2) or "").lower()
            if unit in ("mph", "mp/h"):
                kph *= self.mph_to_kph
            elif unit == "knots":
                kph *= 1.852
            return kph if kph > 0 and math.isfinite(kph) else None
        key = text.lower()
        if key in self.maxspeed_symbols:
            return self.maxspeed_symbols[key]
        z = _ZONE.match(text)
        if z and z.group(2).lower() in self.zone_defaults:
            return self.zone_defaults[z.group(2).lower()]
        return None

    def average_from_maxspeed(self, legal_kph: float) -> float:
        """A realistic average speed (km/h) from a legal limit."""
        return legal_kph * self.maxspeed_factor


class _Speed(params.Schema):
    #: 1 to 200 km/h: walking pace to above the French motorway limit (130)
    kph: Annotated[params.Num, Field(ge=1, le=200)]
    source: params.Str


class _MaxSpeed(params.Schema):
    #: a legal limit is an upper bound of the average speed: 0.3 <= factor <= 1
    factor: Annotated[params.Num, Field(ge=0.3, le=1)] = 1.0
    factor_source: params.Text = ""
    mph_to_kph: Annotated[params.Num, Field(ge=1.6, le=1.61)] = 1.609344
    symbols: Mapping[str, _Speed] = {}
    zone_defaults: Mapping[str, _Speed] = {}


class SpeedSchema(params.Schema):
    """The keys of ``speeds.toml``: ``[classes]``, ``[maxspeed]``, ``[class_maps.NAME]``."""

    classes: Annotated[Mapping[str, _Speed], Field(min_length=1)]
    maxspeed: _MaxSpeed = _MaxSpeed()
    class_maps: Mapping[str, Mapping[str, params.Str]] = {}

    @model_validator(mode="after")
    def _maps_to_known_classes(self) -> SpeedSchema:
        for name, mapping in self.class_maps.items():
            unknown = {k: v for k, v in mapping.items() if v not in self.classes}
            if unknown:
                raise ValueError(
                    f"[class_maps.{name}] maps to unknown class(es) "
                    f"{', '.join(f'{k} -> {v}' for k, v in unknown.items())}; known: "
                    f"{', '.join(sorted(self.classes))}"
                )
        return self


def load_speed_table(path: str | Path | None = None) -> SpeedTable:
    """Read and check a speed table (default: ``data/network/speeds.toml``).

    Raises
    ------
    NetworkError
        On a missing or malformed file, a speed outside 1-200 km/h or without a source
        (naming the class and the file), or a class map that points at an unknown class.
    """
    file = Path(path) if path is not None else project_data_dir() / SPEEDS_FILE
    raw = params.load(file, SpeedSchema, what="speed table", error=NetworkError)
    m = raw.maxspeed
    return SpeedTable(
        speeds=MappingProxyType({k: v.kph for k, v in raw.classes.items()}),
        sources=MappingProxyType({k: v.source for k, v in raw.classes.items()}),
        maxspeed_factor=m.factor,
        maxspeed_symbols=MappingProxyType({k.lower(): v.kph for k, v in m.symbols.items()}),
        zone_defaults=MappingProxyType({k.lower(): v.kph for k, v in m.zone_defaults.items()}),
        class_maps=MappingProxyType(
            {k: MappingProxyType(dict(v)) for k, v in raw.class_maps.items()}
        ),
        mph_to_kph=m.mph_to_kph,
        path=file,
    )
