"""The population layer: the demand points of every analysis.

Two grids, both in ETRS89-LAEA (EPSG:3035) tiles of 256 × 256 cells:

* **Census 2021, 1 km** (Eurostat, the default): total population and age groups
  (under 15, 15–64, 65 and over). Tile ``X_Y`` holds cell ``(x, y)`` whose lower-left
  corner is ``((256 X + x) · 1000, (256 Y + y) · 1000)``.
* **Filosofi 2021, 200 m** (INSEE, optional): individuals of fiscal households only, so
  it undercounts; here it is scaled to the commune populations, and age groups are
  taken from the shares of the census 1 km cell that contains each 200 m cell. Origin
  (3 200 000, 2 000 000), cell ``(x, y)`` of tile ``(X, Y)`` at
  ``(3.2e6 + (256 X + x) · 200, 2e6 + (256 Y + y) · 200)``.

Cells are kept when they intersect the territory; each is assigned to the commune that
holds the largest part of it. The demand point of a cell (``x``, ``y`` in the territory's
CRS) is the centre of the part of the cell inside that commune, so that a border cell
is not routed from the next valley.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.errors import CorruptFileError, DataError
from accessibility.core.paths import Paths, default_paths
from accessibility.core.validate import require_columns, warn
from accessibility.inputs.sources import fetch, load_catalogue

log = logging.getLogger(__name__)

GRID_CRS = "EPSG:3035"
TILE_CELLS = 256
CENSUS_VINTAGE = "Eurostat Census 2021, 1 km grid"
FILOSOFI_VINTAGE = "INSEE Filosofi 2021, 200 m grid (scaled to commune populations)"
#: The same, for the steering committee's outputs (French).
GRID_VINTAGE_FR = {
    "census1km": "Eurostat, recensement 2021, carreaux de 1 km",
    "filosofi200m": "INSEE Filosofi 2021, carreaux de 200 m (recalés sur la population communale)",
}
FILOSOFI_ORIGIN = (3_200_000.0, 2_000_000.0)

CELL_COLUMNS = [C.CELL_ID, C.COMMUNE_CODE, C.POP_TOTAL, C.POP_UNDER15, C.POP_15_64, C.POP_65PLUS]


@dataclass(frozen=True)
class GridSpec:
    """How a tiled grid is laid out."""

    folder: str
    resolution: float
    origin: tuple[float, float]
    suffix: str

    def tile_range(self, bounds: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        """Tiles that cover ``bounds`` (minx, miny, maxx, maxy in EPSG:3035)."""
        size = self.resolution * TILE_CELLS
        x0 = int(np.floor((bounds[0] - self.origin[0]) / size))
        x1 = int(np.floor((bounds[2] - self.origin[0]) / size))
        y0 = int(np.floor((bounds[1] - self.origin[1]) / size))
        y1 = int(np.floor((bounds[3] - self.origin[1]) / size))
        return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]

    def tile_path(self, tx: int, ty: int) -> str:
        return str(PurePosixPath(self.folder) / f"{tx}_{ty}{self.suffix}")


def census_spec(folder: str = "population/census2021_1km") -> GridSpec:
    return GridSpec(folder=folder, resolution=1000.0, origin=(0.0, 0.0), suffix=".parquet")


def filosofi_spec(folder: str = "population/filosofi2021_200m") -> GridSpec:
    return GridSpec(folder=folder, resolution=200.0, origin=FILOSOFI_ORIGIN, suffix=".csv")


def _tile_names(spec: GridSpec, area: gpd.GeoSeries, paths: Paths) -> tuple[list[str], list[str]]:
    """Tiles covering ``area``: (catalogued, not catalogued)."""
    bounds = tuple(area.to_crs(GRID_CRS).total_bounds)
    catalogue = load_catalogue(paths)
    names = [spec.tile_path(tx, ty) for tx, ty in spec.tile_range(bounds)]  # type: ignore[arg-type]
    return [n for n in names if n in catalogue], [n for n in names if n not in catalogue]


def grid_sources(
    communes: gpd.GeoDataFrame,
    paths: Paths,
    *,
    grid: str,
    census_folder: str = "population/census2021_1km",
    filosofi_folder: str = "population/filosofi2021_200m",
) -> list[str]:
    """The catalogued tiles the cells of ``grid`` (``census1km`` or ``filosofi200m``)
    over ``communes`` are read from (the 200 m grid also reads the 1 km census)."""
    names = _tile_names(census_spec(census_folder), communes.geometry, paths)[0]
    if grid == "filosofi200m":
        names += _tile_names(filosofi_spec(filosofi_folder), communes.geometry, paths)[0]
    return names


def _tiles_for(spec: GridSpec, area: gpd.GeoSeries, paths: Paths, *, what: str) -> list[str]:
    present, absent = _tile_names(spec, area, paths)
    names = present + absent
    if not present:
        raise DataError(
            f"{what}: no tile of {spec.folder} covers the territory (needed: {', '.join(names)}); "
            "add them to data/sources.toml"
        )
    if absent:
        # tiles outside the covered area (sea, abroad) are legitimately absent upstream
        log.info("%s: tiles not catalogued (assumed empty): %s", what, ", ".join(absent))
    return present


def _cell_ids(ll_x: np.ndarray, ll_y: np.ndarray, resolution_m: int) -> list[str]:
    """Eurostat grid ids (``CRS3035RES1000mN<y>E<x>``, lower-left corner) of cells."""
    return [
        f"CRS3035RES{resolution_m}mN{int(y)}E{int(x)}" for x, y in zip(ll_x, ll_y, strict=True)
    ]


def _cell_polygons(ll_x: np.ndarray, ll_y: np.ndarray, size: float) -> np.ndarray:
    return shapely.box(ll_x, ll_y, ll_x + size, ll_y + size)


def read_census_tiles(names: list[str], paths: Paths) -> pd.DataFrame:
    """Read census 1 km tiles into one table with lower-left corners ``ll_x, ll_y``."""
    frames = []
    for name in names:
        path = fetch(name, paths)
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid etc.
            raise CorruptFileError(f"{path}: cannot be read as Parquet ({exc})") from exc
        require_columns(df, ["x", "y", "T", "Y_LT15", "Y_1564", "Y_GE65"], where=str(path))
        tx, ty = (int(v) for v in PurePosixPath(name).stem.split("_"))
        df = df[["x", "y", "T", "Y_LT15", "Y_1564", "Y_GE65"]].copy()
        df["ll_x"] = (tx * TILE_CELLS + df["x"].astype(int)) * 1000.0
        df["ll_y"] = (ty * TILE_CELLS + df["y"].astype(int)) * 1000.0
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def read_filosofi_tiles(names: list[str], paths: Paths, spec: GridSpec) -> pd.DataFrame:
    """Read Filosofi 200 m tiles into one table with lower-left corners ``ll_x, ll_y``."""
    frames = []
    for name in names:
        path = fetch(name, paths)
        try:
            df = pd.read_csv(path)
        except Exception as exc:
            raise CorruptFileError(f"{path}: cannot be read as CSV ({exc})") from exc
        require_columns(df, ["x", "y", "ind"], where=str(path))
        tx, ty = (int(v) for v in PurePosixPath(name).stem.split("_"))
        df["ll_x"] = spec.origin[0] + (tx * TILE_CELLS + df["x"].astype(int)) * spec.resolution
        df["ll_y"] = spec.origin[1] + (ty * TILE_CELLS + df["y"].astype(int)) * spec.resolution
        frames.append(df[["ll_x", "ll_y", "ind"]])
    return pd.concat(frames, ignore_index=True)


def _assign(cells: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Keep cells that intersect the communes; give each the commune with most of it.

    The demand point is the centroid of the cell's part inside that commune.
    """
    cells = cells.to_crs(crs)
    cells["_cell"] = np.arange(len(cells))
    pieces = gpd.overlay(
        cells[["_cell", "geometry"]],
        communes[[C.COMMUNE_CODE, "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    pieces["_area"] = pieces.geometry.area
    pieces = pieces.sort_values("_area", ascending=False)
    best = _every_commune_a_cell(pieces, pieces.drop_duplicates("_cell")).set_index("_cell")
    kept = cells[cells["_cell"].isin(best.index)].copy()
    kept[C.COMMUNE_CODE] = best.loc[kept["_cell"], C.COMMUNE_CODE].to_numpy()
    centre = best.loc[kept["_cell"]].geometry.representative_point()
    cent = best.loc[kept["_cell"]].geometry.centroid
    # centroid of the piece when it lies inside it (convex-ish pieces), else a point inside
    inside = best.loc[kept["_cell"]].geometry.contains(cent)
    pt = cent.where(inside.to_numpy(), centre)
    kept["x"] = pt.x.to_numpy()
    kept["y"] = pt.y.to_numpy()
    kept["share_in_commune"] = (
        best.loc[kept["_cell"], "_area"].to_numpy() / kept.geometry.area.to_numpy()
    )
    return kept.drop(columns="_cell")


def _every_commune_a_cell(pieces: gpd.GeoDataFrame, best: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give a commune that holds the largest part of no cell (a small commune between
    1 km cells, common outside the mountains) the cell that covers most of it, when that
    cell's commune keeps another one: without a demand point, its indicators would be
    empty. A commune whose pieces are all in single-cell communes stays without, with a
    warning (``pieces`` sorted by decreasing area; one row per cell in ``best``)."""
    lacking = set(pieces[C.COMMUNE_CODE]) - set(best[C.COMMUNE_CODE])
    if not lacking:
        return best
    best = best.set_index("_cell")
    counts = best[C.COMMUNE_CODE].value_counts().to_dict()
    left = []
    for code, group in pieces[pieces[C.COMMUNE_CODE].isin(lacking)].groupby(C.COMMUNE_CODE):
        for _, piece in group.iterrows():  # largest piece first
            owner = best.at[piece["_cell"], C.COMMUNE_CODE]
            if owner not in lacking and counts[owner] > 1:
                best.loc[piece["_cell"]] = piece.drop("_cell")
                counts[owner] -= 1
                break
        else:
            left.append(str(code))
    if left:
        warn(
            f"population grid: {len(left)} commune(s) have no cell of their own (each cell "
            f"over them is the only cell of a neighbour); their indicators are empty: "
            f"{', '.join(sorted(left))}"
        )
    return best.reset_index()


def census_cells(
    communes: gpd.GeoDataFrame,
    *,
    paths: Paths | None = None,
    folder: str = "population/census2021_1km",
) -> gpd.GeoDataFrame:
    """The census 2021 1 km cells of the territory, assigned to its communes.

    Returns a GeoDataFrame (cell polygons in the communes' CRS) with ``cell_id``,
    ``commune_code``, ``pop_total``, ``pop_under15``, ``pop_15_64``, ``pop_65plus``,
    ``x``, ``y`` (demand point), ``share_in_commune``.
    """
    paths = paths or default_paths()
    spec = census_spec(folder)
    names = _tiles_for(spec, communes.geometry, paths, what="census grid")
    df = read_census_tiles(names, paths)
    # pre-filter on the territory's bounds before any geometry work
    minx, miny, maxx, maxy = communes.to_crs(GRID_CRS).total_bounds
    df = df[
        (df.ll_x + 1000 >= minx) & (df.ll_x <= maxx) & (df.ll_y + 1000 >= miny) & (df.ll_y <= maxy)
    ]
    cells = gpd.GeoDataFrame(
        {
            C.CELL_ID: _cell_ids(df.ll_x, df.ll_y, 1000),
            C.POP_TOTAL: df["T"].to_numpy(float),
            C.POP_UNDER15: df["Y_LT15"].to_numpy(float),
            C.POP_15_64: df["Y_1564"].to_numpy(float),
            C.POP_65PLUS: df["Y_GE65"].to_numpy(float),
        },
        geometry=_cell_polygons(df.ll_x.to_numpy(), df.ll_y.to_numpy(), 1000.0),
        crs=GRID_CRS,
    )
    out = _assign(cells, communes, str(communes.crs))
    out["grid"] = "census2021_1km"
    return out.sort_values(C.CELL_ID).reset_index(drop=True)


def filosofi_cells(
    communes: gpd.GeoDataFrame,
    census: gpd.GeoDataFrame,
    *,
    paths: Paths | None = None,
    folder: str = "population/filosofi2021_200m",
) -> gpd.GeoDataFrame:
    """The Filosofi 2021 200 m cells, scaled to the commune populations.

    Filosofi counts individuals of fiscal households only. Each commune's cells are
    scaled so that they sum to its population (``communes.population``); age groups
    follow the shares of the census 1 km cell (``census``) that holds the 200 m cell
    (or, if none, of the commune's census cells).
    """
    paths = paths or default_paths()
    spec = filosofi_spec(folder)
    names = _tiles_for(spec, communes.geometry, paths, what="Filosofi grid")
    df = read_filosofi_tiles(names, paths, spec)
    minx, miny, maxx, maxy = communes.to_crs(GRID_CRS).total_bounds
    df = df[
        (df.ll_x + 200 >= minx) & (df.ll_x <= maxx) & (df.ll_y + 200 >= miny) & (df.ll_y <= maxy)
    ]
    cells = gpd.GeoDataFrame(
        {
            C.CELL_ID: _cell_ids(df.ll_x, df.ll_y, 200),
            "ind_filosofi": df["ind"].to_numpy(float),
            "_c1km": _cell_ids(df.ll_x // 1000 * 1000, df.ll_y // 1000 * 1000, 1000),
        },
        geometry=_cell_polygons(df.ll_x.to_numpy(), df.ll_y.to_numpy(), 200.0),
        crs=GRID_CRS,
    )
    out = _assign(cells, communes, str(communes.crs))
    sums = out.groupby(C.COMMUNE_CODE)["ind_filosofi"].sum()
    pop = communes.set_index(C.COMMUNE_CODE)[C.POPULATION]
    factor = (pop / sums).reindex(out[C.COMMUNE_CODE]).to_numpy()
    no_cells = sorted(set(pop.index[pop > 0]) - set(sums.index))
    if no_cells:
        warn(
            f"Filosofi grid: {len(no_cells)} commune(s) with inhabitants have no 200 m cell "
            f"(their population is missing from this layer): {', '.join(no_cells[:20])}"
        )
    out[C.POP_TOTAL] = out["ind_filosofi"].to_numpy() * factor
    ages = [C.POP_UNDER15, C.POP_15_64, C.POP_65PLUS]
    cz = census.set_index(C.CELL_ID)
    share = cz[ages].div(cz[C.POP_TOTAL].where(cz[C.POP_TOTAL] > 0), axis=0)
    commune_share = census.groupby(C.COMMUNE_CODE)[ages].sum()
    commune_share = commune_share.div(commune_share.sum(axis=1), axis=0)
    s = share.reindex(out["_c1km"]).to_numpy()
    fallback = commune_share.reindex(out[C.COMMUNE_CODE]).to_numpy()
    s = np.where(np.isnan(s), fallback, s)
    s = np.nan_to_num(s, nan=0.0)
    for i, col in enumerate(ages):
        out[col] = out[C.POP_TOTAL].to_numpy() * s[:, i]
    out["grid"] = "filosofi2021_200m"
    return out.drop(columns="_c1km").sort_values(C.CELL_ID).reset_index(drop=True)


def compare_with_communes(cells: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per commune: population of its cells vs its legal population, and the ratio."""
    grid = cells.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    pop = communes.set_index(C.COMMUNE_CODE)[[C.COMMUNE_NAME, C.POPULATION]]
    out = pop.join(grid.rename("grid_population"), how="left").fillna({"grid_population": 0.0})
    out["ratio"] = out["grid_population"] / out[C.POPULATION]
    return out.reset_index()


def demand_points(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The cells as demand points (their ``x``, ``y``), keeping every other column."""
    return gpd.GeoDataFrame(
        cells.drop(columns="geometry"),
        geometry=gpd.points_from_xy(cells["x"], cells["y"]),
        crs=cells.crs,
    )


def census_points_in_area(
    area: gpd.GeoSeries,
    *,
    paths: Paths | None = None,
    folder: str = "population/census2021_1km",
) -> gpd.GeoDataFrame:
    """Census 2021 1 km cells whose centre lies in ``area``, as points (no commune).

    Used as the demand of the buffer around a territory, so that services near the edge
    are shared with the people outside who use them too (the edge effect of floating
    catchments). Columns ``cell_id``, ``pop_total`` and the age groups.
    """
    paths = paths or default_paths()
    spec = census_spec(folder)
    names = _tiles_for(spec, area, paths, what="census grid")
    df = read_census_tiles(names, paths)
    cx = df.ll_x.to_numpy() + 500.0
    cy = df.ll_y.to_numpy() + 500.0
    pts = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=GRID_CRS).to_crs(area.crs)
    inside = pts.within(area.union_all()).to_numpy()
    df = df[inside]
    return gpd.GeoDataFrame(
        {
            C.CELL_ID: _cell_ids(df.ll_x, df.ll_y, 1000),
            C.POP_TOTAL: df["T"].to_numpy(float),
            C.POP_UNDER15: df["Y_LT15"].to_numpy(float),
            C.POP_15_64: df["Y_1564"].to_numpy(float),
            C.POP_65PLUS: df["Y_GE65"].to_numpy(float),
        },
        geometry=pts[inside].to_numpy(),
        crs=area.crs,
    )
