"""Territories as data: a small TOML file names the communes, the buffer and the sources.

A territory file (``data/communes/<slug>.toml``) looks like::

    slug = "maurienne"
    name = "Pays de Maurienne"
    buffer_km = 30          # services this far outside still count
    crs = "EPSG:2154"

    [communes]              # the union of these selectors (COG 2026), minus `exclude`
    epci = ["247300676", ...]   # EPCI SIREN
    insee = []                  # INSEE commune codes
    arrondissement = []         # e.g. "733"
    departement = []            # e.g. "73"
    exclude = []
    expected_count = 53         # optional: checked

    [sources]
    commune_polygons = ["communes/communes-73-savoie.geojson"]
    census_grid = "population/census2021_1km"
    filosofi_grid = "population/filosofi2021_200m"   # optional finer demand layer

    [sources.network]
    reader = "travelmapping"    # or "osm" / "lines"
    source = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"

A third territory needs only a new file (or a path given to ``--territory``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from accessibility.core.errors import TerritoryError
from accessibility.core.paths import Paths, default_paths

DEFAULT_TERRITORY = "maurienne"
SELECTORS = ("epci", "insee", "arrondissement", "departement")
_TOP_KEYS = {"slug", "name", "description", "buffer_km", "crs", "communes", "sources"}


@dataclass(frozen=True)
class Territory:
    """A territory: its communes (as selectors), buffer, CRS and sources."""

    slug: str
    name: str
    file: Path
    selectors: Mapping[str, tuple[str, ...]]
    exclude: tuple[str, ...] = ()
    expected_count: int | None = None
    buffer_km: float = 20.0
    crs: str = "EPSG:2154"
    description: str = ""
    sources: Mapping[str, Any] = field(default_factory=dict)

    @property
    def buffer_m(self) -> float:
        return self.buffer_km * 1000.0

    def source(self, key: str) -> Any:
        """A ``[sources]`` entry, with an error naming the file when it is missing."""
        try:
            return self.sources[key]
        except KeyError:
            raise TerritoryError(f"{self.file}: [sources] has no {key!r} entry") from None


def territory_file(name: str, paths: Paths | None = None) -> Path:
    """The file of territory ``name`` (a shipped slug, or a path to a TOML file)."""
    candidate = Path(name)
    if candidate.suffix == ".toml" or candidate.is_file():
        if not candidate.is_file():
            raise TerritoryError(f"territory file {candidate} does not exist")
        return candidate
    paths = paths or default_paths()
    file = paths.data / "communes" / f"{name}.toml"
    if not file.is_file():
        known = sorted(p.stem for p in (paths.data / "communes").glob("*.toml"))
        raise TerritoryError(
            f"unknown territory {name!r}: no file {file}; shipped territories: "
            f"{', '.join(known)} (or give the path of a .toml file)"
        )
    return file


def load_territory(name: str = DEFAULT_TERRITORY, paths: Paths | None = None) -> Territory:
    """Read and check a territory file (see the module docstring for its fields)."""
    file = territory_file(name, paths)
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise TerritoryError(f"{file}: not valid TOML ({exc})") from exc
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise TerritoryError(f"{file}: unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("slug", "name"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise TerritoryError(f"{file}: field {key!r} must be a non-empty string")
    communes = raw.get("communes")
    if not isinstance(communes, dict):
        raise TerritoryError(f"{file}: a [communes] table is required")
    extra = set(communes) - {*SELECTORS, "exclude", "expected_count"}
    if extra:
        raise TerritoryError(
            f"{file}: [communes] has unknown field(s) {', '.join(sorted(extra))}; "
            f"expected {', '.join(SELECTORS)}, exclude, expected_count"
        )
    selectors: dict[str, tuple[str, ...]] = {}
    for key in (*SELECTORS, "exclude"):
        values = communes.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TerritoryError(f"{file}: [communes].{key} must be a list of strings (codes)")
        selectors[key] = tuple(values)
    if not any(selectors[k] for k in SELECTORS):
        raise TerritoryError(
            f"{file}: the territory is empty: give at least one of [communes] "
            f"{', '.join(SELECTORS)}"
        )
    buffer_km = raw.get("buffer_km", 20.0)
    if not isinstance(buffer_km, int | float) or buffer_km < 0:
        raise TerritoryError(f"{file}: buffer_km must be a number >= 0, got {buffer_km!r}")
    expected = communes.get("expected_count")
    if expected is not None and (not isinstance(expected, int) or expected <= 0):
        raise TerritoryError(f"{file}: [communes].expected_count must be a positive integer")
    sources = raw.get("sources", {})
    if not isinstance(sources, dict):
        raise TerritoryError(f"{file}: [sources] must be a table")
    return Territory(
        slug=raw["slug"],
        name=raw["name"],
        file=file,
        selectors=MappingProxyType({k: selectors[k] for k in SELECTORS}),
        exclude=selectors["exclude"],
        expected_count=expected,
        buffer_km=float(buffer_km),
        crs=str(raw.get("crs", "EPSG:2154")),
        description=str(raw.get("description", "")),
        sources=MappingProxyType(sources),
    )


def resolve_communes(territory: Territory, paths: Paths | None = None) -> list[str]:
    """The current (COG 2026) INSEE codes of the territory's communes, sorted.

    Raises :class:`TerritoryError` for a code unknown to COG 2026 (naming the file,
    the field and the code), an empty result, or a count different from
    ``expected_count``.
    """
    from accessibility.inputs.communes import load_cog

    cog = load_cog(paths)
    table = cog.communes
    file = territory.file
    known = {
        "insee": set(table["commune_code"]),
        "epci": set(cog.epci["epci_code"]),
        "arrondissement": set(table["departement"].str.cat(table["arrondissement"].str[-1:]))
        | set(table["arrondissement"]),
        "departement": set(table["departement"]),
    }
    chosen: set[str] = set()
    for key in SELECTORS:
        values = territory.selectors.get(key, ())
        bad = [v for v in values if v not in known[key]]
        if bad:
            hint = ""
            if key == "insee":
                olds = [v for v in bad if v in cog.code_map]
                if olds:
                    hint = (
                        " (former codes, now: "
                        + ", ".join(f"{v}->{cog.code_map[v]}" for v in olds)
                        + ")"
                    )
            raise TerritoryError(
                f"{file}: [communes].{key} has code(s) unknown to COG 2026: {', '.join(bad)}{hint}"
            )
        if not values:
            continue
        if key == "insee":
            sel = table["commune_code"].isin(values)
        elif key == "epci":
            sel = table["epci_code"].isin(values)
        elif key == "arrondissement":
            sel = table["arrondissement"].isin(values)
        else:
            sel = table["departement"].isin(values)
        chosen |= set(table.loc[sel, "commune_code"])
    bad_excl = [v for v in territory.exclude if v not in known["insee"]]
    if bad_excl:
        raise TerritoryError(
            f"{file}: [communes].exclude has code(s) unknown to COG 2026: {', '.join(bad_excl)}"
        )
    chosen -= set(territory.exclude)
    if not chosen:
        raise TerritoryError(f"{file}: the selectors of [communes] match no commune")
    if territory.expected_count is not None and len(chosen) != territory.expected_count:
        raise TerritoryError(
            f"{file}: [communes] selects {len(chosen)} communes, expected_count is "
            f"{territory.expected_count}"
        )
    return sorted(chosen)
