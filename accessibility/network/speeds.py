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
from typing import Any

from accessibility.core.errors import NetworkError
from accessibility.core.paths import project_data_dir
from accessibility.core.validate import read_toml

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


def _kph(entry: Any, *, what: str, file: Path) -> tuple[float, str]:
    """Read one ``{ kph = .., source = ".." }`` entry; reject bad speeds."""
    if isinstance(entry, Mapping):
        kph, source = entry.get("kph"), entry.get("source")
    else:
        kph, source = entry, None
    if isinstance(kph, bool) or not isinstance(kph, int | float) or not math.isfinite(kph):
        raise NetworkError(f"{file}: {what} must be a number of km/h, got {kph!r}")
    if kph <= 0:
        raise NetworkError(f"{file}: {what} has speed {kph} km/h; speeds must be > 0")
    if not source:
        raise NetworkError(f"{file}: {what} has no 'source' (say where {kph} km/h comes from)")
    return float(kph), str(source)


def load_speed_table(path: str | Path | None = None) -> SpeedTable:
    """Read and check a speed table (default: ``data/network/speeds.toml``).

    Raises
    ------
    NetworkError
        On a missing or malformed file, a speed that is not a positive number (naming
        the class and the file), or a class map that points at an unknown class.
    """
    file = Path(path) if path is not None else project_data_dir() / SPEEDS_FILE
    raw = read_toml(file, what="speed table", error=NetworkError)

    classes = raw.get("classes")
    if not isinstance(classes, Mapping) or not classes:
        raise NetworkError(f"{file}: missing or empty [classes] table")
    speeds: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name, entry in classes.items():
        speeds[name], sources[name] = _kph(entry, what=f"road class {name!r}", file=file)

    maxspeed = raw.get("maxspeed", {})
    factor = maxspeed.get("factor", 1.0)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor <= 1:
        raise NetworkError(f"{file}: [maxspeed] factor must be in (0, 1], got {factor!r}")
    symbols = {
        k.lower(): _kph(v, what=f"maxspeed symbol {k!r}", file=file)[0]
        for k, v in maxspeed.get("symbols", {}).items()
    }
    zones = {
        k.lower(): _kph(v, what=f"maxspeed zone default {k!r}", file=file)[0]
        for k, v in maxspeed.get("zone_defaults", {}).items()
    }
    mph = maxspeed.get("mph_to_kph", 1.609344)

    class_maps: dict[str, Mapping[str, str]] = {}
    for map_name, mapping in raw.get("class_maps", {}).items():
        unknown = {k: v for k, v in mapping.items() if v not in speeds}
        if unknown:
            raise NetworkError(
                f"{file}: [class_maps.{map_name}] maps to unknown class(es) "
                f"{', '.join(f'{k} -> {v}' for k, v in unknown.items())}"
            )
        class_maps[map_name] = MappingProxyType(dict(mapping))

    return SpeedTable(
        speeds=MappingProxyType(speeds),
        sources=MappingProxyType(sources),
        maxspeed_factor=float(factor),
        maxspeed_symbols=MappingProxyType(symbols),
        zone_defaults=MappingProxyType(zones),
        class_maps=MappingProxyType(class_maps),
        mph_to_kph=float(mph),
        path=file,
    )
