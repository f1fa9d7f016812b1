"""Seasonal population: residents plus the visitors of the resort communes at a peak.

Visitors of a commune at a peak =

    secondary homes × persons per home × their peak occupancy
  + classified tourist beds × their peak occupancy

* secondary homes: INSEE census 2018, ``P18_RSECOCC`` (résidences secondaires et
  logements occasionnels) of ``population/base_cc_comparateur_csv.zip``, per commune
  of COG 2018, summed into the current (COG 2026) communes;
* classified beds: Atout France's classified accommodation
  (``population/hebergements_classes.csv``, ``CAPACITÉ D'ACCUEIL (PERSONNES)``), matched
  to communes by postcode and name (the file has no INSEE code), names of former
  (merged) communes included;
* the persons-per-home and occupancy figures are assumptions written in the scenario
  file's ``[population]`` table (``data/scenarios/winter.toml``) and in
  ``docs/seasons.md``.

Visitors are spread over the commune's cells in proportion to their resident
population (the resort village itself cannot be located from these sources).
"""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning, MissingColumnError
from accessibility.core.names import normalise_name
from accessibility.core.paths import Paths, default_paths
from accessibility.inputs.communes import DECOUPAGE, current_code_map
from accessibility.inputs.sources import fetch, open_zip, read_tar_member

log = logging.getLogger(__name__)

INSEE_SOURCE = "population/base_cc_comparateur_csv.zip"
INSEE_TABLE = "base_cc_comparateur.CSV"
INSEE_DICTIONARY = "meta_base_cc_comparateur.CSV"
SECONDARY_HOMES = "P18_RSECOCC"
ATOUT_FRANCE_SOURCE = "population/hebergements_classes.csv"
AF_POSTCODE = "CODE POSTAL"
AF_COMMUNE = "COMMUNE"
AF_CAPACITY = "CAPACITÉ D'ACCUEIL (PERSONNES)"
AF_NAME = "NOM COMMERCIAL"
AF_TYPE = "TYPOLOGIE ÉTABLISSEMENT"

POP_RESIDENT = "pop_resident"
VISITORS = "visitors"
#: Ski-resort names used as the commune name by some Atout France rows, with the
#: INSEE code of the commune the resort lies in (project-authored, from the communes'
#: own descriptions: La Toussuire is a village of Fontcouverte-la-Toussuire, La Norma
#: of Villarodin-Bourget, Les Karellis of Montricher-Albanne).
RESORT_ALIASES: Mapping[str, str] = {
    "la toussuire": "73116",
    "la norma": "73322",
    "les karellis": "73173",
}
PARAMETER_KEYS = (
    "persons_per_secondary_home",
    "secondary_home_occupancy",
    "classified_bed_occupancy",
)


@dataclass(frozen=True)
class SeasonParameters:
    """Persons per secondary home and peak occupancy rates (assumptions: docs/seasons.md)."""

    persons_per_secondary_home: float
    secondary_home_occupancy: float
    classified_bed_occupancy: float

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> SeasonParameters:
        """Read and check the ``[population]`` table of a scenario file."""
        values = {}
        for key in PARAMETER_KEYS:
            v = raw.get(key)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise DataError(f"{where}: [population] {key} must be a number; got {v!r}")
            if v < 0 or (key.endswith("occupancy") and v > 1):
                raise DataError(
                    f"{where}: [population] {key} = {v} out of range "
                    f"({'0 to 1' if key.endswith('occupancy') else '>= 0'})"
                )
            values[key] = float(v)
        return cls(**values)


@dataclass(frozen=True, eq=False)
class SeasonalPopulation:
    """Cells and communes at a seasonal peak."""

    cells: gpd.GeoDataFrame
    """The input cells with ``pop_total`` = residents + visitors, ``pop_resident`` and
    ``visitors`` (age columns stay residents only)."""
    communes: pd.DataFrame
    """commune_code, commune_name, resident population, secondary_homes,
    classified_beds, visitors, peak_population, peak_ratio, visitors_unplaced."""
    unmatched: pd.DataFrame
    """Atout France rows with a postcode of the territory that matched no commune."""
    parameters: SeasonParameters


# --------------------------------------------------------------------------------------
# readers
# --------------------------------------------------------------------------------------


def read_secondary_homes(
    path: str | Path | None = None, *, paths: Paths | None = None,
    code_map: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Secondary homes per current commune, from the INSEE comparateur zip.

    Returns
    -------
    pandas.DataFrame
        ``commune_code`` (COG 2026), ``secondary_homes`` (``P18_RSECOCC``, census 2018,
        summed over the 2018 communes that merged since), ``population_2018``.

    Raises
    ------
    DataError
        The variable dictionary does not describe ``P18_RSECOCC``, or a column is missing.
    """
    paths = paths or default_paths()
    file = Path(path) if path is not None else fetch(INSEE_SOURCE, paths)
    with open_zip(file) as zf:
        names = {n.rsplit("/", 1)[-1].lower(): n for n in zf.namelist()}
        try:
            table = zf.read(names[INSEE_TABLE.lower()])
        except KeyError:
            raise DataError(f"{file}: no member {INSEE_TABLE}") from None
        meta = zf.read(names[INSEE_DICTIONARY.lower()]) if INSEE_DICTIONARY.lower() in names \
            else None
    if meta is not None:
        # the dictionary of the 2018 zip is UTF-8 while the table is latin-1: try both
        try:
            text = meta.decode("utf-8")
        except UnicodeDecodeError:
            text = meta.decode("latin-1")
        d = pd.read_csv(io.StringIO(text), sep=";", dtype=str)
        row = d[d.get("COD_VAR", pd.Series(dtype=str)) == SECONDARY_HOMES]
        label = "" if row.empty else normalise_name(str(row["LIB_VAR_LONG"].iloc[0]))
        if "residences secondaires" not in label:
            raise DataError(
                f"{file}:{INSEE_DICTIONARY}: {SECONDARY_HOMES} is not described as "
                f"'résidences secondaires' (found {label!r})"
            )
    df = pd.read_csv(io.BytesIO(table), sep=";", encoding="latin-1", dtype={"CODGEO": str})
    missing = [c for c in ("CODGEO", SECONDARY_HOMES, "P18_POP") if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{file}:{INSEE_TABLE}: missing column(s) {', '.join(missing)}")
    cmap = code_map if code_map is not None else current_code_map(paths)
    codes = df["CODGEO"].str.zfill(5)
    current = codes.map(lambda c: cmap.get(c, c))
    out = pd.DataFrame({
        C.COMMUNE_CODE: current,
        "secondary_homes": pd.to_numeric(df[SECONDARY_HOMES], errors="coerce").fillna(0.0),
        "population_2018": pd.to_numeric(df["P18_POP"], errors="coerce").fillna(0.0),
    })
    return out.groupby(C.COMMUNE_CODE, as_index=False).sum()


def commune_name_index(paths: Paths | None = None, *, archive: Path | None = None) -> pd.DataFrame:
    """Every commune name, current and former, with its current code and postcodes.

    Former names are those of the communes déléguées / associées of ``communes.json``
    (``@etalab/decoupage-administratif``), mapped to the current commune (``chefLieu``).

    Returns
    -------
    pandas.DataFrame
        ``key`` (normalised name), ``commune_code`` (current), ``postcode`` (one row per
        postcode of the current commune).
    """
    paths = paths or default_paths()
    archive = archive or fetch(DECOUPAGE, paths)
    communes = json.loads(read_tar_member(archive, "package/data/communes.json"))
    current = {c["code"]: c for c in communes if c.get("type") == "commune-actuelle"}
    rows = []
    for c in communes:
        if c.get("type") == "commune-actuelle":
            code = c["code"]
        elif c.get("type") in ("commune-deleguee", "commune-associee"):
            code = c.get("chefLieu", "")
        else:
            continue
        if code not in current:
            continue
        for pc in current[code].get("codesPostaux", []) or [""]:
            rows.append((normalise_name(c["nom"]), code, pc))
    return pd.DataFrame(rows, columns=["key", C.COMMUNE_CODE, "postcode"]).drop_duplicates()


def read_classified_beds(
    communes: pd.DataFrame,
    path: str | Path | None = None,
    *,
    names: pd.DataFrame | None = None,
    paths: Paths | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Classified tourist beds (persons) per commune of ``communes``.

    A row matches a commune when its postcode is one of the commune's and its
    normalised name is the commune's current or a former name. Rows whose postcode
    belongs to one of ``communes`` but whose name matches none are returned as
    unmatched (and reported with a :class:`DataWarning`).

    Returns
    -------
    beds : pandas.DataFrame
        ``commune_code``, ``classified_beds``, ``establishments`` (every commune of
        ``communes``, 0 where none).
    unmatched : pandas.DataFrame
        The unmatched rows of the territory's postcodes (name, postcode, commune, capacity).
    """
    paths = paths or default_paths()
    file = Path(path) if path is not None else fetch(ATOUT_FRANCE_SOURCE, paths)
    df = pd.read_csv(file, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in (AF_POSTCODE, AF_COMMUNE, AF_CAPACITY) if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{file}: missing column(s) {', '.join(missing)}")
    names = names if names is not None else commune_name_index(paths)
    alias_rows = names[names[C.COMMUNE_CODE].isin(set(RESORT_ALIASES.values()))]
    aliases = pd.DataFrame(
        [(k, code, pc) for k, code in RESORT_ALIASES.items()
         for pc in alias_rows.loc[alias_rows[C.COMMUNE_CODE] == code, "postcode"].unique()],
        columns=["key", C.COMMUNE_CODE, "postcode"],
    )
    names = pd.concat([names, aliases], ignore_index=True)
    codes = set(communes[C.COMMUNE_CODE])
    ours = names[names[C.COMMUNE_CODE].isin(codes)]
    df = df.assign(
        postcode=df[AF_POSTCODE].str.strip().str.zfill(5),
        key=df[AF_COMMUNE].map(normalise_name),
        capacity=pd.to_numeric(df[AF_CAPACITY].str.replace(" ", ""), errors="coerce"),
    )
    df = df[df["postcode"].isin(set(ours["postcode"]))]
    m = df.merge(ours[["key", "postcode", C.COMMUNE_CODE]].drop_duplicates(["key", "postcode"]),
                 on=["key", "postcode"], how="left")
    unmatched = m[m[C.COMMUNE_CODE].isna()]
    # a postcode shared with communes outside the territory is not ours to report
    all_names = names[names["postcode"].isin(set(unmatched["postcode"]))]
    elsewhere = unmatched.merge(all_names[["key", "postcode"]].drop_duplicates(),
                                on=["key", "postcode"], how="inner")
    unmatched = unmatched[~unmatched.set_index(["key", "postcode"]).index.isin(
        elsewhere.set_index(["key", "postcode"]).index)]
    unmatched = unmatched[[c for c in (AF_NAME, AF_TYPE) if c in unmatched.columns]
                          + ["postcode", AF_COMMUNE, "capacity"]].reset_index(drop=True)
    if len(unmatched):
        warnings.warn(
            f"{file}: {len(unmatched)} classified establishment(s) with a postcode of the "
            f"territory match no commune name ({', '.join(sorted(set(unmatched[AF_COMMUNE])))});"
            " their beds are left out",
            DataWarning,
            stacklevel=2,
        )
    matched = m.dropna(subset=[C.COMMUNE_CODE])
    no_capacity = matched["capacity"].isna().sum()
    if no_capacity:
        log.info("%d matched establishments have no capacity in persons", no_capacity)
    beds = matched.groupby(C.COMMUNE_CODE).agg(
        classified_beds=("capacity", "sum"), establishments=("capacity", "size")
    )
    beds = beds.reindex(sorted(codes), fill_value=0).rename_axis(C.COMMUNE_CODE).reset_index()
    return beds, unmatched


# --------------------------------------------------------------------------------------
# the peak population
# --------------------------------------------------------------------------------------


def visitors_per_commune(
    homes: pd.DataFrame, beds: pd.DataFrame, params: SeasonParameters
) -> pd.DataFrame:
    """``commune_code``, ``secondary_homes``, ``classified_beds``, ``visitors``."""
    t = beds[[C.COMMUNE_CODE, "classified_beds"]].merge(
        homes[[C.COMMUNE_CODE, "secondary_homes"]], on=C.COMMUNE_CODE, how="left"
    )
    t["secondary_homes"] = t["secondary_homes"].fillna(0.0)
    t[VISITORS] = (
        t["secondary_homes"] * params.persons_per_secondary_home * params.secondary_home_occupancy
        + t["classified_beds"] * params.classified_bed_occupancy
    )
    return t


def place_visitors(cells: gpd.GeoDataFrame, visitors: pd.DataFrame) -> tuple[gpd.GeoDataFrame,
                                                                              pd.Series]:
    """Spread each commune's visitors over its cells in proportion to resident population.

    A commune with cells but no resident gets its visitors spread evenly over its cells.
    Returns the new cells and the visitors that could not be placed (commune with no
    cell), by commune.
    """
    out = cells.copy()
    out[POP_RESIDENT] = out[C.POP_TOTAL].astype(float)
    v = visitors.set_index(C.COMMUNE_CODE)[VISITORS]
    code = out[C.COMMUNE_CODE]
    res = out[POP_RESIDENT]
    total = res.groupby(code).transform("sum")
    n = code.map(code.value_counts())
    share = np.where(total > 0, res / total.where(total > 0, 1.0), 1.0 / n)
    out[VISITORS] = code.map(v).fillna(0.0).to_numpy() * share
    out[C.POP_TOTAL] = out[POP_RESIDENT] + out[VISITORS]
    unplaced = v[~v.index.isin(set(code)) & (v > 0)]
    return out, unplaced


def seasonal_population(
    cells: gpd.GeoDataFrame,
    communes: pd.DataFrame,
    params: SeasonParameters | Mapping[str, Any],
    *,
    homes: pd.DataFrame | None = None,
    beds: pd.DataFrame | None = None,
    unmatched: pd.DataFrame | None = None,
    paths: Paths | None = None,
) -> SeasonalPopulation:
    """Residents plus peak visitors, on the cells and per commune.

    Parameters
    ----------
    cells, communes
        The territory's population cells and communes (``Layers.cells``, ``.communes``).
    params
        :class:`SeasonParameters`, or a scenario's ``[population]`` table.
    homes, beds
        Secondary homes and classified beds per commune (default: read from the mirror
        with :func:`read_secondary_homes` and :func:`read_classified_beds`).
    """
    paths = paths or default_paths()
    if not isinstance(params, SeasonParameters):
        params = SeasonParameters.from_mapping(params, "scenario")
    if homes is None:
        homes = read_secondary_homes(paths=paths)
    if beds is None:
        beds, unmatched = read_classified_beds(communes, paths=paths)
    visitors = visitors_per_commune(homes, beds, params)
    new_cells, unplaced = place_visitors(cells, visitors)
    if len(unplaced):
        warnings.warn(
            f"{len(unplaced)} commune(s) with visitors have no population cell: "
            f"{', '.join(unplaced.index)}; {unplaced.sum():.0f} visitors are not placed",
            DataWarning,
            stacklevel=2,
        )
    t = communes[[C.COMMUNE_CODE, C.COMMUNE_NAME, C.POPULATION]].merge(
        visitors, on=C.COMMUNE_CODE, how="left"
    ).fillna({"secondary_homes": 0.0, "classified_beds": 0.0, VISITORS: 0.0})
    t = t.rename(columns={C.POPULATION: "resident_population"})
    t["peak_population"] = t["resident_population"] + t[VISITORS]
    t["peak_ratio"] = t["peak_population"] / t["resident_population"]
    t["visitors_unplaced"] = t[C.COMMUNE_CODE].map(unplaced).fillna(0.0)
    return SeasonalPopulation(
        cells=gpd.GeoDataFrame(new_cells, geometry="geometry", crs=cells.crs),
        communes=t,
        unmatched=unmatched if unmatched is not None else pd.DataFrame(),
        parameters=params,
    )
