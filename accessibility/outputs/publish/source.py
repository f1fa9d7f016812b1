"""What one publication holds: the layers and tables ``run`` wrote, and its run id.

Owns: :class:`Publication` (the spatial layers, the plain tables, the data dictionary,
the territory, scenario, parameters and source vintages of one run), :func:`read_run_folder`
(read it from ``output/<slug>[-<scenario>]/``, the folder ``accessibility run`` writes:
the GeoPackage plus the CSV tables that ``validate`` and ``run --scenario/--compare`` add
there) and :func:`run_id` (the content hash that makes a re-publication of the same run
a no-op).

Publishing reads the files ``run`` wrote rather than recomputing: the database then holds
exactly the open data that was exported and reviewed (the CLI runs the diagnostic first
only when the folder is absent).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from accessibility.core.errors import DataError, OutputError
from accessibility.core.outputs import read_marker

if TYPE_CHECKING:
    import geopandas as gpd

    from accessibility.core.paths import Paths

#: The spatial layers of a run's GeoPackage and their CRS in the database (the Eurostat
#: grid is published in its own CRS, ETRS89-LAEA, where its cells are squares).
SPATIAL_LAYERS: dict[str, int] = {"communes": 2154, "cells": 3035, "services": 2154,
                                  "priority": 2154}
#: The plain tables of the GeoPackage.
GPKG_TABLES = ("epci_summary", "territory_summary", "indicators", "sources")
#: CSV tables other commands add to the run folder: validation, seasonal population,
#: scenario comparisons (file stem pattern -> table name; ``{0}`` is the stem).
EXTRA_CSV = (
    (re.compile(r"^validation_[a-z0-9_]+$"), "{0}"),
    (re.compile(r"^seasonal_population$"), "{0}"),
    (re.compile(r"^comparison_[a-z0-9-]+_[a-z0-9-]+$"), "scenario_comparison"),
)


@dataclass(frozen=True)
class Publication:
    """One run's outputs, ready to publish (every frame as ``run`` exported it)."""

    territory: str
    scenario: str
    spatial: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]
    dictionary: pd.DataFrame
    parameters: dict[str, object] = field(default_factory=dict)
    run_at: str = ""
    folder: str = ""

    @property
    def source_vintages(self) -> list[dict[str, str]]:
        """The catalogued sources of the run: path, vintage, sha256."""
        src = self.tables.get("sources")
        if src is None:
            return []
        keep = [c for c in ("path", "vintage", "sha256") if c in src.columns]
        return src[keep].fillna("").astype(str).to_dict("records")


def read_run_folder(folder: Path, *, territory: str, scenario: str = "",
                    paths: Paths | None = None) -> Publication:
    """The publication of the run written in ``folder`` (``output/<slug>[-<scenario>]``).

    Raises :class:`~accessibility.core.errors.OutputError` when the folder holds no
    GeoPackage of the project.
    """
    import pyogrio

    folder = Path(folder)
    gpkgs = sorted(folder.glob("accessibilite_*.gpkg"))
    if len(gpkgs) != 1:
        raise OutputError(
            f"publish: {folder} holds {len(gpkgs)} accessibilite_*.gpkg file(s), expected 1 "
            f"(run `accessibility run --territory {territory}` first)"
        )
    gpkg = gpkgs[0]
    present = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    missing = [n for n in (*SPATIAL_LAYERS, *GPKG_TABLES, "data_dictionary") if n not in present]
    if missing:
        raise OutputError(f"publish: {gpkg} lacks the layer(s) {', '.join(missing)}; "
                          "re-run `accessibility run` with this version")
    spatial = {n: pyogrio.read_dataframe(gpkg, layer=n) for n in SPATIAL_LAYERS}
    tables = {n: pyogrio.read_dataframe(gpkg, layer=n, read_geometry=False)
              for n in GPKG_TABLES}
    # validate writes its tables to output/<slug>_validation/ (older versions: the run folder)
    extra = (*folder.glob("*.csv"), *(folder.parent / f"{territory}_validation").glob("*.csv"))
    for csv in sorted(extra):
        for pattern, name in EXTRA_CSV:
            if pattern.match(csv.stem):
                tables[name.format(csv.stem)] = pd.read_csv(csv)
    dictionary = pyogrio.read_dataframe(gpkg, layer="data_dictionary", read_geometry=False)
    marker = read_marker(folder) or {}
    return Publication(
        territory=territory,
        scenario=scenario,
        spatial=spatial,
        tables=tables,
        dictionary=dictionary,
        parameters=parameters(territory, scenario, paths),
        run_at=_run_time(str(marker.get("run_id", ""))),
        folder=str(folder),
    )


def _run_time(marker_id: str) -> str:
    """The UTC time in a marker's run id (``20261206T101500Z-3f9a1c``), ISO 8601."""
    m = re.match(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z", marker_id)
    return "{}-{}-{}T{}:{}:{}Z".format(*m.groups()) if m else ""


def parameters(territory: str, scenario: str, paths: Paths | None = None) -> dict[str, object]:
    """The parameters recorded with a run: territory, scenario and the sha256 of every
    parameter file of ``data/`` (TOML) in this checkout."""
    from accessibility.core.paths import default_paths

    data = (paths or default_paths()).data
    files = {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(data.rglob("*.toml"))}
    return {"territory": territory, "scenario": scenario, "parameter_files": files}


def code_version() -> str:
    """The package version, with the git commit when running from a checkout."""
    from accessibility import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(__file__).parent,
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__


def _frame_bytes(df: pd.DataFrame) -> bytes:
    """A canonical serialisation of a frame: columns sorted, geometry as WKB hex."""
    import shapely

    out = pd.DataFrame(df).copy()
    if "geometry" in out.columns:
        out["geometry"] = shapely.to_wkb(out["geometry"].to_numpy(), hex=True)
    out = out[sorted(out.columns)]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def run_id(pub: Publication) -> str:
    """The id of a run: the first 16 hex digits of the sha256 of its parameters and of
    every layer and table (columns sorted, geometry as WKB). The same outputs and
    parameters give the same id, so publishing them again adds nothing."""
    h = hashlib.sha256()
    h.update(json.dumps(pub.parameters, sort_keys=True).encode("utf-8"))
    for name in sorted({**pub.spatial, **pub.tables}):
        frame = pub.spatial.get(name)
        h.update(name.encode("utf-8") + b"\0")
        h.update(_frame_bytes(frame if frame is not None else pub.tables[name]))
    return h.hexdigest()[:16]


def check_publication(pub: Publication) -> None:
    """Refuse a publication whose layers are not what the database expects."""
    for name, gdf in pub.spatial.items():
        if gdf.crs is None:
            raise DataError(f"publish: layer {name} has no CRS; expected EPSG:2154")
        if gdf.geometry.isna().any():
            raise DataError(f"publish: layer {name} has rows without geometry")
