"""The open-data exports of a diagnostic: GeoPackage, CSV, GeoJSON and data dictionary.

Owns: :func:`write_exports` (write every export into a folder) and
:func:`export_diagnostic` (the same, swapped in as a whole folder, see
:func:`accessibility.core.outputs.staged_folders`). Folder safety (markers, refusing to
replace a folder the project did not write) lives in :mod:`accessibility.core.outputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from accessibility.core.escape import html_text
from accessibility.core.outputs import staged_folders

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic


def replace_folder(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a whole output folder beside ``target`` then swap it into place.

    ``build(tmp)`` writes every file into ``tmp``. ``target`` must be absent, empty or
    carry the project's marker (else :class:`~accessibility.core.errors.OutputError`);
    an interrupted run leaves the previous outputs intact.
    """
    with staged_folders({"out": target}) as stage:
        build(stage["out"])
    return Path(target)


def export_diagnostic(study: Study, diagnostic: Diagnostic, out_dir: Path) -> dict[str, Path]:
    """Write the open-data exports of a diagnostic into ``out_dir`` (replaced as a whole).

    ``out_dir`` must be absent, empty or a folder the project wrote (its marker file);
    see :func:`write_exports` for the files.
    """
    with staged_folders({"out": out_dir}) as stage:
        written = write_exports(study, diagnostic, stage["out"])
    return {k: stage.final(v) for k, v in written.items()}


def export_tables(study: Study, diagnostic: Diagnostic) -> tuple[dict, dict]:
    """The spatial layers and the plain tables of the exports (name -> frame)."""
    import geopandas as gpd

    from accessibility.inputs.sources import load_catalogue

    communes = diagnostic.communes
    priority_geo = communes[["commune_code", "geometry"]].merge(
        diagnostic.priority, on="commune_code"
    )
    spatial = {
        "communes": communes,
        "cells": diagnostic.cells,
        "services": study.layers.services,
        "priority": gpd.GeoDataFrame(priority_geo, geometry="geometry", crs=communes.crs),
    }
    fields = ("path", "url", "sha256", "licence", "vintage", "description")
    sources = pd.DataFrame(
        [{f: getattr(s, f) for f in fields} for s in load_catalogue(study.paths).values()],
        columns=list(fields),
    )
    tables = {
        "epci_summary": diagnostic.epci,
        "territory_summary": diagnostic.territory,
        "indicators": diagnostic.indicators,
        "sources": sources,
    }
    return spatial, tables


def write_exports(study: Study, diagnostic: Diagnostic, folder: Path) -> dict[str, Path]:
    """Write every export of a diagnostic into ``folder`` (which must exist).

    * ``accessibilite_<territory>.gpkg``: layers communes, cells, services, priority
      (with geometry) and the tables epci_summary, territory_summary, indicators,
      sources, data_dictionary;
    * the same tables as CSV (UTF-8; geometry as lon/lat of a point) and the spatial ones
      as GeoJSON (WGS84);
    * ``dictionnaire_des_donnees.csv`` and ``data_dictionary.md``: every column with its
      meaning in French and English, unit, source and vintage;
    * ``accessibilite_<territory>.qgs``: a QGIS project on the GeoPackage (the atlas's
      classes and colours, French layer names, the dictionary as field aliases).
    """
    import pyogrio

    from accessibility.inputs.services import load_categories
    from accessibility.outputs.dictionary import data_dictionary

    folder = Path(folder)
    cats = load_categories(study.paths.data / "services" / "categories.toml")
    spatial, tables = export_tables(study, diagnostic)
    dictionary = data_dictionary(
        {k: v.columns for k, v in {**spatial, **tables}.items() if k != "sources"},
        {k: c.label for k, c in cats.items()},
    )
    gpkg = folder / f"accessibilite_{study.layers.territory.slug}.gpkg"
    written: dict[str, Path] = {"gpkg": gpkg}
    for name, gdf in spatial.items():
        gdf.to_file(gpkg, layer=name, driver="GPKG")
    for name, df in {**tables, "data_dictionary": dictionary}.items():
        pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG")
    for name, gdf in spatial.items():
        gdf.to_crs(4326).to_file(folder / f"{name}.geojson", driver="GeoJSON")
        pts = gdf.geometry.representative_point().to_crs(4326)
        flat = pd.DataFrame(gdf.drop(columns="geometry"))
        flat["lon"], flat["lat"] = pts.x.round(6).to_numpy(), pts.y.round(6).to_numpy()
        flat.to_csv(folder / f"{name}.csv", index=False)
        written[name] = folder / f"{name}.geojson"
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
        written[name] = folder / f"{name}.csv"
    dictionary.to_csv(folder / "dictionnaire_des_donnees.csv", index=False)
    written["dictionary"] = folder / "dictionnaire_des_donnees.csv"
    _dictionary_markdown(dictionary, str(study.layers.territory.name), folder)
    from accessibility.outputs.publish.qgis import write_run_projects  # the QGIS project

    written["qgis"] = write_run_projects(
        gpkg, {**spatial, **tables, "data_dictionary": dictionary}, dictionary,
        {k: c.label for k, c in cats.items()},
        title=f"Accessibilité — {study.layers.territory.name}")
    return written


def _md(value: Any) -> str:
    """A Markdown table cell: HTML-escaped (Markdown renders HTML) and ``|`` escaped."""
    return html_text(value).replace("|", "\\|").replace("\n", " ")


def _dictionary_markdown(dictionary: pd.DataFrame, territory: str, folder: Path) -> Path:
    lines = [
        f"# Data dictionary — {_md(territory)}",
        "",
        "| table | column | description (FR) | description (EN) | unit | source | vintage |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in dictionary.itertuples(index=False):
        cells = [r.table, f"`{r.column}`", r.description_fr, r.description_en, r.unit,
                 r.source, r.vintage]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    path = folder / "data_dictionary.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
