"""INSEE gammes d'équipements: their composition, their poles, and the time to them.

This module owns the gammes: the composition file (``data/indicators/gammes.toml``, read by
:func:`load_gamme_composition`), the BPE 2013 counts per current commune
(:func:`bpe_counts`), the pole rule (:func:`type_presence`, :func:`pole_mask`) and the
times (:func:`gamme_access`). See ``docs/indicators.md`` for the sources and the limits.

* **Equipment type of a gamme**: one entry of the composition file. INSEE groups some BPE
  types offering the same service (the post office forms A206-A208, supérette and
  épicerie, the schools and their RPI classes...) and counts each group as ONE equipment
  type: a grouped type is present in a commune when any of its codes is.
* **Pole of a gamme**: a commune that hosts at least half of the gamme's types
  (``ceil(n / 2)``, n counting the types BPE 2013 has; INSEE's rule for the "pôles de
  services" of the 2012 bassins de vie), applied commune by commune to each gamme.
* **Time to the gamme** (``gamme_<g>_pole_min``): car time from a place to the town hall of
  the nearest pole of the gamme (0 for a pole commune's own town hall, plus the place's own
  access leg). Equipment is located at the town hall, as INSEE's commune-level method does.
* **Mean time to the gamme's equipment** (``gamme_<g>_mean_min``): for each type of the
  gamme, the time to the nearest commune that has it; averaged over the types (types absent
  from the whole study area are left out and reported).
* **Far from a gamme**: beyond 7 (proximité), 15 (intermédiaire) and 30 minutes
  (supérieure), the project's thresholds.

Nothing is dropped silently: a type of the file whose BPE column is missing, a count that
is not a number, a BPE commune code that maps to no current commune each give a
:class:`~accessibility.core.errors.DataWarning` with counts and examples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field, Strict

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.cache import PARQUET_TABLE, cached, code_hash
from accessibility.core.errors import DataError, ParameterError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import warn
from accessibility.engine.snapping import DEFAULT_SNAP, SnapOptions
from accessibility.inputs.communes import DECOUPAGE, current_code_map, load_town_halls
from accessibility.inputs.services import BPE_2013, GAMMES, _read_bpe2013_table
from accessibility.inputs.sources import fetch, load_catalogue
from accessibility.network.graph import RoadNetwork

log = logging.getLogger(__name__)

#: The composition in use, and the earlier reconstruction (kept for the comparison).
GAMMES_FILE = Path("indicators") / "gammes.toml"
RECONSTRUCTED_FILE = Path("indicators") / "gammes_reconstructed.toml"

#: Thresholds for "far from" each gamme, minutes (project convention, see docs).
GAMME_THRESHOLDS_MIN = {"proximite": 7.0, "intermediaire": 15.0, "superieure": 30.0}
GAMME_LABELS_FR = {
    "proximite": "gamme de proximité",
    "intermediaire": "gamme intermédiaire",
    "superieure": "gamme supérieure",
}
#: How many examples a warning lists.
_EXAMPLES = 10


# --- the composition ------------------------------------------------------------------------


@dataclass(frozen=True)
class GammeType:
    """One equipment type of a gamme: one BPE code, or a group INSEE counts as one."""

    name: str
    codes: Mapping[str, str]
    """TYPEQU code -> its column in bpe2013.xlsx; empty when BPE 2013 has no such type."""
    basis: str = ""


@dataclass(frozen=True)
class GammeComposition:
    """The equipment types of each gamme, as read from a composition file."""

    source: Path
    vintage: str
    verified: bool
    gammes: Mapping[str, tuple[GammeType, ...]]

    def types(self, gamme: str) -> tuple[GammeType, ...]:
        return self.gammes.get(gamme, ())

    def absent_from_bpe2013(self) -> dict[str, list[str]]:
        """Types of each gamme that BPE 2013 does not have (declared in the file)."""
        return {g: [t.name for t in ts if not t.codes] for g, ts in self.gammes.items()}


_Gamme = Literal["proximite", "intermediaire", "superieure"]
_Code = Annotated[str, Strict(), Field(pattern=r"^[A-G][0-9]{3}$")]


class _TypeSchema(params.Schema):
    name: params.Str
    bpe2013: Mapping[_Code, params.Str]
    """TYPEQU code -> its bpe2013.xlsx column; {} when BPE 2013 has no such type."""
    basis: params.Text = ""


class _MetaSchema(params.Schema):
    vintage: params.Text = ""
    gamme_verified: params.Bool = False
    basis: Mapping[_Gamme, params.Text] = {}


class GammesSchema(params.Schema):
    """``data/indicators/gammes.toml``: ``[meta]`` and ``[[gamme.<gamme>]]`` entries."""

    meta: _MetaSchema = _MetaSchema()
    gamme: Annotated[Mapping[_Gamme, tuple[_TypeSchema, ...]], Field(min_length=1)]


def _check_unique(file: Path, gammes: Mapping[str, tuple[GammeType, ...]]) -> None:
    """A type name once per gamme; a BPE code in one type of one gamme only."""
    seen: dict[str, str] = {}
    for g, types in gammes.items():
        names = [t.name for t in types]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError(f"{file}: [[gamme.{g}]] lists the type(s) {', '.join(dup)} twice")
        for t in types:
            for code in t.codes:
                if code in seen:
                    raise ParameterError(
                        f"{file}: BPE code {code} is in {seen[code]} and in "
                        f"[[gamme.{g}]] ({t.name}); a code belongs to one type of one gamme"
                    )
                seen[code] = f"[[gamme.{g}]] ({t.name})"


def load_gamme_composition(path: Path | str | None = None) -> GammeComposition:
    """Read and check a gamme composition file (``data/indicators/gammes.toml`` by default).

    Raises
    ------
    ParameterError
        Unknown gamme or key, a type without name, a malformed code, a code or a type name
        listed twice: the message names the file, the entry and what was expected.
    """
    file = Path(path) if path is not None else default_paths().data / GAMMES_FILE
    raw = params.load(file, GammesSchema, what="gamme composition")
    gammes = {
        g: tuple(
            GammeType(name=t.name.strip(), codes=dict(t.bpe2013), basis=t.basis)
            for t in raw.gamme.get(g, ())
        )
        for g in GAMMES
    }
    _check_unique(file, gammes)
    return GammeComposition(
        source=file, vintage=raw.meta.vintage, verified=raw.meta.gamme_verified, gammes=gammes
    )


# --- BPE 2013 counts --------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    """An empty workbook cell: None, NaN or only spaces."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _numeric_counts(table: pd.DataFrame, labels: list[str], where: str) -> pd.DataFrame:
    """The count columns as numbers; empty cells are 0, anything else non-numeric warns."""
    raw = table[labels]
    numbers = raw.apply(pd.to_numeric, errors="coerce")
    # only the cells that did not parse are looked at (millions of them are "" = none)
    rows, cols = np.nonzero(numbers.isna().to_numpy())
    values = raw.to_numpy()[rows, cols]
    suspect = np.flatnonzero(values != "")
    bad = [i for i in suspect if not _blank(values[i])]
    rows, cols = rows[bad], cols[bad]
    if len(rows):
        examples = ", ".join(
            f"{table['depcom'].iloc[r]}/{labels[c]}={raw.iat[r, c]!r}"
            for r, c in zip(rows[:_EXAMPLES], cols[:_EXAMPLES], strict=True)
        )
        warn(
            f"{where}: {len(rows)} count(s) in {len(set(cols))} column(s) are not numbers "
            f"(expected a count of equipment); they are read as 0: {examples}"
        )
    return numbers.fillna(0.0)


def counts_by_commune(
    table: pd.DataFrame, code_map: Mapping[str, str], *, where: str
) -> pd.DataFrame:
    """Sum a BPE 2013 table (``depcom`` + one column per equipment label) per current commune.

    Rows whose ``depcom`` maps to no current commune are left out with a warning (count
    and examples); counts of communes merged since 2013 are summed.
    """
    if "depcom" not in table.columns:
        raise DataError(f"{where}: no 'depcom' column (the commune code of each row)")
    labels = [c for c in table.columns if c not in ("depcom", "Total de nb_equip")]
    numbers = _numeric_counts(table, labels, where)
    current = table["depcom"].map(code_map)
    unmapped = current.isna()
    if unmapped.any():
        codes = table.loc[unmapped, "depcom"].astype(str)
        warn(
            f"{where}: {int(unmapped.sum())} row(s) have a commune code (depcom) that maps "
            f"to no current commune; their equipment is left out: "
            f"{', '.join(codes.head(_EXAMPLES))}"
        )
    numbers[C.COMMUNE_CODE] = current
    return numbers[~unmapped.to_numpy()].groupby(C.COMMUNE_CODE).sum()


#: Bump when the BPE counts must be rebuilt for a reason the code hash cannot see.
BPE_COUNTS_BUILD_VERSION = 1


def bpe_counts(paths: Paths | None = None) -> pd.DataFrame:
    """BPE 2013 counts per current (COG 2026) commune, one column per equipment label.

    Read once from the national workbook and kept in the prepared-layer cache, keyed by
    the catalogued sha256 of the workbook and of the COG, the reading code and
    :data:`BPE_COUNTS_BUILD_VERSION` (the workbook takes seconds to decode).
    """
    paths = paths or default_paths()
    catalogue = load_catalogue(paths)
    parts = {
        "layer": "bpe2013-counts",
        "sources": {
            n: catalogue[n].sha256 if n in catalogue else None for n in (BPE_2013, DECOUPAGE)
        },
        "code": code_hash(
            [__name__, "accessibility.inputs.service_readers", "accessibility.inputs.communes"]
        ),
        "build_version": BPE_COUNTS_BUILD_VERSION,
    }
    return cached(paths.prepared, "bpe2013-counts", parts, lambda: _bpe_counts(paths),
                  PARQUET_TABLE)  # fmt: skip


def _bpe_counts(paths: Paths) -> pd.DataFrame:
    path = fetch(BPE_2013, paths)
    table = _read_bpe2013_table(path)
    return counts_by_commune(table, current_code_map(paths), where=f"{BPE_2013} ({path})")


# --- the pole rule ---------------------------------------------------------------------------


def type_presence(
    counts: pd.DataFrame, types: tuple[GammeType, ...], *, where: str = "BPE counts"
) -> pd.DataFrame:
    """Which commune has which type: one boolean column per type the data can tell.

    A grouped type is present when any of its codes has a count > 0. A type declared
    absent from BPE 2013 (no code) is left out here (the composition declares it and
    :func:`gamme_times` logs it); a type
    whose columns are all missing from ``counts`` is left out with a warning; a type with
    some of its columns missing uses the others, with a warning.
    """
    out: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for t in types:
        if not t.codes:
            continue
        have = [lab for lab in t.codes.values() if lab in counts.columns]
        lacking = [f"{code} ({lab})" for code, lab in t.codes.items() if lab not in counts]
        if lacking:
            missing.append(f"{t.name}: {', '.join(lacking)}")
        if have:
            out[t.name] = (counts[have].to_numpy(dtype=float) > 0).any(axis=1)
    if missing:
        warn(
            f"{where}: {len(missing)} type(s) of the gamme have BPE columns missing from the "
            f"counts (a type with no column left is dropped from the gamme and from its "
            f"half-of-the-types rule): {'; '.join(missing[:_EXAMPLES])}"
        )
    return pd.DataFrame(out, index=counts.index)


def pole_mask(presence: pd.DataFrame) -> np.ndarray:
    """Communes hosting at least half of the types (``ceil(n / 2)`` of the n columns)."""
    n = presence.shape[1]
    if n == 0:
        return np.zeros(len(presence), dtype=bool)
    return presence.to_numpy(dtype=bool).sum(axis=1) >= math.ceil(n / 2)


def gamme_poles(
    counts: pd.DataFrame, composition: GammeComposition, *, where: str = "BPE counts"
) -> dict[str, list[str]]:
    """The pole communes (index of ``counts``) of each gamme."""
    out = {}
    for g in GAMMES:
        presence = type_presence(counts, composition.types(g), where=f"{where}, {g}")
        out[g] = presence.index[pole_mask(presence)].astype(str).tolist()
    return out


# --- times -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammeAccess:
    """Times to each gamme, for the origins given."""

    times: pd.DataFrame
    """One row per origin: ``gamme_<g>_pole_min`` and ``gamme_<g>_mean_min``."""
    poles: dict[str, list[str]]
    """Pole communes of each gamme within the study area."""
    missing_types: dict[str, list[str]]
    """Types of each gamme found nowhere in the study area, or absent from BPE 2013."""


def gamme_times(
    reach: Any,
    counts: pd.DataFrame,
    composition: GammeComposition,
    origin_ids: np.ndarray,
    *,
    origin_id: str,
) -> GammeAccess:
    """Times from the origins of ``reach`` to each gamme's poles and types.

    ``reach`` is an :class:`~accessibility.indicators.nearest.Reach` whose destinations
    are the town halls of the communes of ``counts``, in the same order.
    """
    out = pd.DataFrame({origin_id: origin_ids})
    poles: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    absent = composition.absent_from_bpe2013()
    for g in GAMMES:
        presence = type_presence(counts, composition.types(g), where=f"BPE 2013, gamme {g}")
        if presence.shape[1] == 0:
            continue
        if absent.get(g):
            log.warning(
                "gamme %s: %d type(s) of %s have no BPE 2013 equivalent and are left out "
                "(a pole needs %d of the %d others): %s",
                g,
                len(absent[g]),
                composition.source.name,
                math.ceil(presence.shape[1] / 2),
                presence.shape[1],
                ", ".join(absent[g]),
            )
        is_pole = pole_mask(presence)
        poles[g] = presence.index[is_pole].astype(str).tolist()
        out[f"gamme_{g}_pole_min"] = reach.nearest_min(is_pole)
        cols = presence.to_numpy(dtype=bool)
        per_type = [reach.nearest_min(cols[:, j]) for j in range(cols.shape[1]) if cols[:, j].any()]
        missing[g] = [n for j, n in enumerate(presence.columns) if not cols[:, j].any()]
        missing[g] += [f"{n} (not in BPE 2013)" for n in absent.get(g, [])]
        out[f"gamme_{g}_mean_min"] = np.mean(per_type, axis=0) if per_type else np.nan
        log.info(
            "gamme %s: %d types (need %d), %d poles in the study area",
            g,
            presence.shape[1],
            math.ceil(presence.shape[1] / 2),
            int(is_pole.sum()),
        )
    return GammeAccess(times=out, poles=poles, missing_types=missing)


def study_area_halls(
    net: RoadNetwork, area: gpd.GeoSeries, counts: pd.DataFrame, paths: Paths
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Town halls inside ``area`` that have BPE counts, and their counts in the same order."""
    halls = load_town_halls(paths).to_crs(net.crs)
    zone = area.to_crs(net.crs).union_all()
    halls = halls[halls.within(zone) & halls[C.COMMUNE_CODE].isin(counts.index)]
    halls = halls.reset_index(drop=True)
    return halls, counts.loc[halls[C.COMMUNE_CODE]]


def gamme_access(
    net: RoadNetwork,
    origins: gpd.GeoDataFrame,
    *,
    origin_id: str,
    area: gpd.GeoSeries,
    paths: Paths | None = None,
    composition: GammeComposition | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
    access_points: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] | None = None,
) -> GammeAccess:
    """Time from ``origins`` to the poles and equipment of each INSEE gamme.

    Parameters
    ----------
    origins
        Points (cells' demand points, or town halls) with a unique ``origin_id``.
    area
        The territory and its buffer (one or more polygons, any CRS): the communes whose
        town hall lies inside are the candidate poles and equipment places.
    composition
        The gammes' types; ``data/indicators/gammes.toml`` by default.
    snap, access_points
        The study's snapping options and the function giving a point layer what its
        access model reads (:meth:`accessibility.engine.study.Study.access_points`).
    """
    from accessibility.indicators.nearest import Reach

    paths = paths or default_paths()
    composition = composition or load_gamme_composition(paths.data / GAMMES_FILE)
    halls, counts = study_area_halls(net, area, bpe_counts(paths), paths)
    if access_points is not None:
        halls = access_points(halls)
    reach = Reach(
        net, origins, halls, origin_id=origin_id, destination_id=C.COMMUNE_CODE, snap=snap
    )
    return gamme_times(
        reach, counts, composition, origins[origin_id].to_numpy(), origin_id=origin_id
    )
