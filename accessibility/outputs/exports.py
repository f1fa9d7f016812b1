"""Writing outputs to disk, atomically: a temporary file in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic


def replace_folder(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a whole output folder beside ``target`` then swap it into place.

    ``build(tmp)`` writes every file into ``tmp``. Only when it has finished is the old
    folder moved aside and the new one renamed to ``target``: an interrupted run leaves
    the previous outputs intact.
    """
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; outputs are meant to be shared
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def export_diagnostic(study: Study, diagnostic: Diagnostic, out_dir: Path) -> dict[str, Path]:
    """Write the open-data exports of a diagnostic into ``out_dir`` (replaced as a whole).

    * ``accessibilite_<territory>.gpkg``: layers communes, cells, services, priority
      (with geometry) and the tables epci_summary, territory_summary, indicators,
      sources, data_dictionary;
    * the same tables as CSV (UTF-8; geometry as lon/lat of a point) and the spatial ones
      as GeoJSON (WGS84);
    * ``dictionnaire_des_donnees.csv`` and ``data_dictionary.md``: every column with its
      meaning in French and English, unit, source and vintage.
    """
    import geopandas as gpd
    import pyogrio

    from accessibility.inputs.services import load_categories
    from accessibility.inputs.sources import load_catalogue
    from accessibility.outputs.dictionary import data_dictionary

    slug = study.layers.territory.slug
    labels = {
        k: c.label
        for k, c in load_categories(study.paths.data / "services" / "categories.toml").items()
    }
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
    tables = {
        "epci_summary": diagnostic.epci,
        "territory_summary": diagnostic.territory,
        "indicators": diagnostic.indicators,
    }
    catalogue = load_catalogue(study.paths)
    sources = pd.DataFrame(
        [
            {
                "path": s.path,
                "url": s.url,
                "sha256": s.sha256,
                "licence": s.licence,
                "vintage": s.vintage,
                "description": s.description,
            }
            for s in catalogue.values()
        ]
    )
    dictionary = data_dictionary(
        {**{k: v.columns for k, v in spatial.items()}, **{k: v.columns for k, v in tables.items()}},
        labels,
    )
    written: dict[str, Path] = {}

    def build(tmp: Path) -> None:
        gpkg = tmp / f"accessibilite_{slug}.gpkg"
        for name, gdf in spatial.items():
            gdf.to_file(gpkg, layer=name, driver="GPKG")
        for name, df in {**tables, "sources": sources, "data_dictionary": dictionary}.items():
            pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG")
        written["gpkg"] = gpkg
        for name, gdf in spatial.items():
            wgs = gdf.to_crs(4326)
            wgs.to_file(tmp / f"{name}.geojson", driver="GeoJSON")
            pts = gdf.geometry.representative_point().to_crs(4326)
            flat = pd.DataFrame(gdf.drop(columns="geometry"))
            flat["lon"], flat["lat"] = pts.x.round(6).to_numpy(), pts.y.round(6).to_numpy()
            flat.to_csv(tmp / f"{name}.csv", index=False)
            written[name] = tmp / f"{name}.geojson"
        for name, df in {**tables, "sources": sources}.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
            written[name] = tmp / f"{name}.csv"
        dictionary.to_csv(tmp / "dictionnaire_des_donnees.csv", index=False)
        lines = [
            f"# Data dictionary — {study.layers.territory.name}",
            "",
            "| table | column | description (FR) | description (EN) | unit | source | vintage |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in dictionary.itertuples(index=False):
            lines.append(
                f"| {r.table} | `{r.column}` | {r.description_fr} | {r.description_en} | "
                f"{r.unit} | {r.source} | {r.vintage} |"
            )
        (tmp / "data_dictionary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written["dictionary"] = tmp / "dictionnaire_des_donnees.csv"

    replace_folder(out_dir, build)
    return {k: out_dir / v.name for k, v in written.items()}
