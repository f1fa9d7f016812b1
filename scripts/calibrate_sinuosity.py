"""Calibrate the sinuosity factors of Travel Mapping segments on real OSM mountain roads.

Travel Mapping draws a road as straight segments between junctions and sparse shaping
points, so its lengths are too short on winding roads. This script measures, on the
OpenStreetMap extracts of Andorra and Liechtenstein (the mountain networks in the data
mirror), how much longer the real road is than a Travel-Mapping-like drawing of it, by
road class, and writes the factors to ``data/network/sinuosity.toml``.

Method (details and figures: ``docs/network-calibration.md``):

1. The typical spacing of Travel Mapping waypoints on Savoie D-roads
   (``hwy_data/FRA-ARA/fraarad73``, shaping points included) is measured in the archive.
2. OSM roads of the classes Travel Mapping carries (motorway, trunk, primary, secondary,
   tertiary) are read with :func:`accessibility.network.osm.read_osm`, split at their
   junctions. Each junction-to-junction piece is resampled at that spacing (points every
   ``spacing`` metres along the real geometry, plus its end) and the real length is
   compared with the length of the resampled polyline: factor = sum(real) / sum(sampled)
   by class (length-weighted).
3. Andorra pieces get an elevation profile from the SRTM3 tile N42E001 (mean absolute
   grade); pieces climbing at >= ``--grade`` (default 5 %) give the ``mountain_pass``
   factor.
4. Travel times: for ``--pairs`` random origin-destination pairs (fixed seed) of
   junction nodes, the time over the Travel-Mapping-like graph (straight resampled
   segments x factor, Travel Mapping class speeds) is divided by the time over the full
   OSM network (read_osm: maxspeed x 0.8 or class speed). Median and 90th percentile
   of the ratio are printed, without and with the factors.

Run from the repository root::

    .venv/bin/python scripts/calibrate_sinuosity.py            # prints, writes the TOML
    .venv/bin/python scripts/calibrate_sinuosity.py --dry-run  # prints only
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer
from scipy.ndimage import map_coordinates
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from accessibility.core import columns as C
from accessibility.core.errors import NetworkWarning
from accessibility.core.paths import project_data_dir
from accessibility.inputs.sources import fetch
from accessibility.network.osm import read_osm
from accessibility.network.speeds import load_speed_table

TM_ARCHIVE = "roads/travelmapping/HighwayData-3d7993c9-FRA.tar.gz"
EXTRACTS = {
    "Andorra": "roads/osm/andorra.osm.pbf",
    "Liechtenstein": "roads/osm/liechtenstein-latest.osm.pbf",
}
DEM_TILE = "roads/elevation/N42E001.hgt.zip"  # SRTM3, 1°x1° from (1 E, 42 N): Andorra
#: OSM highway class -> the Travel Mapping class it stands for.
TM_CLASS = {
    "motorway": "autoroute",
    "trunk": "autoroute",
    "primary": "nationale",
    "secondary": "departementale",
    "tertiary": "departementale",
}
SEED = 20240801
_LATLON = re.compile(rb"lat=(-?[0-9.]+)&lon=(-?[0-9.]+)")


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------


def resample(line: shapely.LineString, spacing: float) -> shapely.LineString:
    """The polyline through points every ``spacing`` metres along ``line``, and its end."""
    length = line.length
    d = np.append(np.arange(0.0, length, spacing), length)
    return shapely.LineString(shapely.get_coordinates(shapely.line_interpolate_point(line, d)))


def sinuosity_ratio(line: shapely.LineString, spacing: float) -> float:
    """Real length of ``line`` / length of its resampling at ``spacing`` (>= 1)."""
    return line.length / resample(line, spacing).length


def tm_waypoint_spacing(archive: Path, system: str = "fraarad73") -> dict[str, float]:
    """Geodesic spacing (m) of consecutive waypoints of one Travel Mapping system."""
    geod = Geod(ellps="WGS84")
    gaps: list[np.ndarray] = []
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar:
            parts = m.name.split("/")
            if m.isfile() and m.name.endswith(".wpt") and len(parts) >= 2 and parts[-2] == system:
                fh = tar.extractfile(m)
                pts = np.array(_LATLON.findall(fh.read() if fh else b""), dtype=float)
                if len(pts) >= 2:
                    gaps.append(geod.inv(pts[:-1, 1], pts[:-1, 0], pts[1:, 1], pts[1:, 0])[2])
    g = np.concatenate(gaps)
    g = g[g > 0]
    return {
        "routes": len(gaps),
        "segments": len(g),
        "median_m": float(np.median(g)),
        "mean_m": float(g.mean()),
        "p25_m": float(np.percentile(g, 25)),
        "p75_m": float(np.percentile(g, 75)),
    }


def read_dem(zip_path: Path) -> tuple[np.ndarray, float, float]:
    """SRTM3 ``.hgt`` in a zip: (elevation grid, west lon, north lat)."""
    with zipfile.ZipFile(zip_path) as z:
        name = z.namelist()[0]
        data = np.frombuffer(z.read(name), dtype=">i2")
    n = round(np.sqrt(data.size))
    grid = data.reshape(n, n).astype(float)
    grid[grid < -1000] = np.nan  # SRTM void = -32768
    m = re.match(r"([NS])(\d+)([EW])(\d+)", Path(name).stem)
    assert m is not None, name  # the catalogued tile is named N42E001.hgt
    south = int(m.group(2)) * (1 if m.group(1) == "N" else -1)
    west = int(m.group(4)) * (1 if m.group(3) == "E" else -1)
    return grid, float(west), float(south + 1)


def mean_grade(line: shapely.LineString, dem: tuple[np.ndarray, float, float],
               to_lonlat: Transformer, step: float = 90.0) -> float:
    """Mean absolute grade of ``line`` (Δh / distance) sampled every ``step`` metres."""
    grid, west, north = dem
    n = grid.shape[0] - 1
    d = np.append(np.arange(0.0, line.length, step), line.length)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(line, d))
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    h = map_coordinates(grid, [(north - lat) * n, (lon - west) * n], order=1, mode="nearest")
    return float(np.nansum(np.abs(np.diff(h))) / line.length) if line.length > 0 else 0.0


def numbered_pieces(net) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """One row per undirected piece of the classes Travel Mapping carries."""
    e = net.edges
    e = e[e["highway"].isin(list(TM_CLASS))]
    a = np.minimum(e[C.U], e[C.V])
    b = np.maximum(e[C.U], e[C.V])
    e = e.assign(a=a, b=b).drop_duplicates(["osm_way_id", "a", "b"])
    e = e[e.geometry.length > 0]
    return e.assign(tm_class=e["highway"].map(TM_CLASS))


def measure(pieces: pd.DataFrame, spacing: float, dem=None, to_lonlat=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    rows = []
    for geom, hw, ref in zip(pieces.geometry, pieces["highway"], pieces["ref"], strict=True):
        sampled = resample(geom, spacing)
        chord = shapely.distance(shapely.Point(geom.coords[0]), shapely.Point(geom.coords[-1]))
        grade = mean_grade(geom, dem, to_lonlat) if dem is not None else np.nan
        has_ref = bool(pd.notna(ref)) and bool(ref)
        rows.append((hw, TM_CLASS[hw], has_ref, geom.length, sampled.length, chord, grade))
    return pd.DataFrame(rows, columns=["highway", "tm_class", "has_ref", "real_m", "sampled_m",
                                       "chord_m", "grade"])


def ratio(df: pd.DataFrame) -> float:
    return float(df["real_m"].sum() / df["sampled_m"].sum()) if len(df) else float("nan")


# --------------------------------------------------------------------------------------
# travel times
# --------------------------------------------------------------------------------------


def tm_like_graph(pieces: pd.DataFrame, spacing: float | None, node_of_osm: dict[int, int],
                  factors: dict[str, float] | None, speeds, mountain: np.ndarray,
                  own_speed: bool = False) -> csr_matrix:  # type: ignore[no-untyped-def]
    """Travel-Mapping-like graph: straight resampled segments, TM class speeds (seconds).

    Junction nodes keep the ids of the full OSM graph (``node_of_osm``); shaping points
    get new ids after them.
    """
    n_next = max(node_of_osm.values()) + 1
    us, vs, ws = [], [], []
    for (geom, tmc, osm_u, osm_v, kph), mnt in zip(
        pieces[["geometry", "tm_class", "osm_u", "osm_v", C.SPEED_KPH]].itertuples(index=False),
        mountain,
        strict=True,
    ):
        pts = shapely.get_coordinates(geom if spacing is None else resample(geom, spacing))
        k = len(pts)
        ids = np.arange(n_next, n_next + k)
        n_next += k
        ids[0], ids[-1] = node_of_osm[osm_u], node_of_osm[osm_v]
        seg = np.hypot(*np.diff(pts, axis=0).T)
        key = "mountain_pass" if mnt else tmc
        f = factors.get(key, factors[tmc]) if factors else 1.0
        t = seg * f / ((kph if own_speed else speeds.speed_for(key)) / 3.6)
        us += [ids[:-1], ids[1:]]
        vs += [ids[1:], ids[:-1]]
        ws += [t, t]
    u, v, w = np.concatenate(us), np.concatenate(vs), np.concatenate(ws)
    return csr_matrix((np.maximum(w, 1e-9), (u, v)), shape=(n_next, n_next))


def travel_time_ratios(net, pieces: pd.DataFrame, spacing: float, factors: dict[str, float],
                       speeds, mountain: np.ndarray, n_pairs: int, seed: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    osm_ids = net.nodes["osm_id"].to_numpy()
    node_of_osm = {int(o): i for i, o in enumerate(osm_ids)}
    p = pieces.assign(osm_u=osm_ids[pieces[C.U].to_numpy()], osm_v=osm_ids[pieces[C.V].to_numpy()])
    full = net.csr(C.TRAVEL_TIME_S)
    graphs = {
        "TM speeds, straight": tm_like_graph(p, spacing, node_of_osm, None, speeds, mountain),
        "TM speeds, with factors": tm_like_graph(p, spacing, node_of_osm, factors, speeds,
                                                 mountain),
        "OSM speeds, straight": tm_like_graph(p, spacing, node_of_osm, None, speeds, mountain,
                                              own_speed=True),
        "OSM speeds, with factors": tm_like_graph(p, spacing, node_of_osm, factors, speeds,
                                                  mountain, own_speed=True),
    }
    raw = graphs["TM speeds, straight"]
    # reference 2: the same numbered roads with their real OSM geometry and speeds
    numbered = tm_like_graph(p, None, node_of_osm, None, speeds, mountain, own_speed=True)
    # junctions of the numbered network, in its largest component
    junctions = np.unique(np.concatenate([p[C.U].to_numpy(), p[C.V].to_numpy()]))
    _, lab = connected_components(raw, directed=False)
    main = np.bincount(lab[junctions]).argmax()
    junctions = junctions[lab[junctions] == main]
    rng = np.random.default_rng(seed)
    orig = rng.choice(junctions, size=n_pairs)
    dest = rng.choice(junctions, size=n_pairs)
    keep = orig != dest
    orig, dest = orig[keep], dest[keep]
    out: dict[str, dict[str, float]] = {}
    t_osm = np.array([dijkstra(full, indices=o)[d] for o, d in zip(orig, dest, strict=True)])
    t_num = np.array([dijkstra(numbered, indices=o)[d] for o, d in zip(orig, dest, strict=True)])
    for name, g in graphs.items():
        t = np.array([dijkstra(g, indices=o)[d] for o, d in zip(orig, dest, strict=True)])
        for ref_name, t_ref in (("vs full OSM", t_osm), ("vs OSM numbered", t_num)):
            ok = np.isfinite(t) & np.isfinite(t_ref) & (t_ref > 0)
            r = t[ok] / t_ref[ok]
            out[f"{name}, {ref_name}"] = {
                "pairs": int(ok.sum()), "median": float(np.median(r)),
                "p10": float(np.percentile(r, 10)), "p90": float(np.percentile(r, 90))}
    return out


# --------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------


#: First line of the block of scripts/calibrate_access.py, kept when rewriting the file.
ROUTE_BLOCK = "# --- route-level factors"


def write_toml(path: Path, tables: dict[str, dict[str, float]],
               notes: dict[str, dict[str, str]], command: str) -> None:
    """Write the factor tables with a header; temp file then rename (never half-written)."""
    lines = [
        "# Sinuosity factors of Travel Mapping straight segments, by road class:",
        "# real road length / length of the straight Travel-Mapping-like drawing.",
        "# Read by accessibility.network.travelmapping.load_sinuosity(). [pieces]: averaged",
        "# over road pieces (this script); [mountain_area]: all Andorra pieces; [factors]",
        "# (the default, last block): fitted on whole routes by scripts/calibrate_access.py.",
        "#",
        "# GENERATED by scripts/calibrate_sinuosity.py; do not edit by hand. Command:",
        f"#   {command}",
        "# Method, figures and limits: docs/network-calibration.md",
    ]
    for tname, factors in tables.items():
        lines += ["", f"[{tname}]"]
        lines += [f"{k} = {v:.3f}  # {notes[tname][k]}" for k, v in factors.items()]
    text = "\n".join(lines) + "\n"
    if path.is_file():  # keep the route-level block of scripts/calibrate_access.py
        old = path.read_text(encoding="utf-8")
        at = old.find(ROUTE_BLOCK)
        if at >= 0:
            text += "\n" + old[at:]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sinuosity-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=200, help="OD pairs per extract (200)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--grade", type=float, default=0.05, help="mountain grade threshold")
    ap.add_argument("--out", type=Path, default=project_data_dir() / "network" / "sinuosity.toml")
    ap.add_argument("--dry-run", action="store_true", help="print only, write nothing")
    args = ap.parse_args(argv)
    speeds = load_speed_table()

    sp = tm_waypoint_spacing(fetch(TM_ARCHIVE))
    spacing = sp["median_m"]
    print(f"Travel Mapping fraarad73 waypoint spacing: {sp['segments']} segments on "
          f"{sp['routes']} routes; median {sp['median_m']:.0f} m, mean {sp['mean_m']:.0f} m, "
          f"quartiles {sp['p25_m']:.0f}-{sp['p75_m']:.0f} m -> resampling at {spacing:.0f} m")

    dem = read_dem(fetch(DEM_TILE))
    to_lonlat = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    measured, nets, pieces_of = [], {}, {}
    for country, name in EXTRACTS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NetworkWarning)  # cut-off parts, reported by read_osm
            net = read_osm(fetch(name))
        pieces = numbered_pieces(net)
        m = measure(pieces, spacing, dem if country == "Andorra" else None, to_lonlat)
        m["country"] = country
        measured.append(m)
        nets[country], pieces_of[country] = net, pieces
    df = pd.concat(measured, ignore_index=True)

    print("\nReal length / resampled length, by extract and class (length-weighted):")
    table = df.groupby(["country", "highway"]).apply(
        lambda d: pd.Series({"pieces": len(d), "with_ref": int(d["has_ref"].sum()),
                             "km": d["real_m"].sum() / 1000, "factor": ratio(d),
                             "chord_factor": d["real_m"].sum() / d["chord_m"].sum()}),
        include_groups=False,
    )
    print(table.round(3).to_string())

    # [pieces], for any territory: Liechtenstein + Andorra pieces below the grade
    # threshold; [mountain_area]: every Andorra piece (a mountain country).
    steep = (df["country"] == "Andorra") & (df["grade"] >= args.grade)
    samples = {"pieces": df[~steep], "mountain_area": df[df["country"] == "Andorra"]}
    what = {"pieces": f"Liechtenstein + Andorra below {args.grade:.0%} grade",
            "mountain_area": "Andorra, all grades"}
    tables: dict[str, dict[str, float]] = {}
    notes: dict[str, dict[str, str]] = {}
    for tname, sample in samples.items():
        f: dict[str, float] = {}
        n: dict[str, str] = {}
        for tmc in ("nationale", "departementale"):
            sub = sample[sample["tm_class"] == tmc]
            f[tmc] = round(ratio(sub), 3)
            km = sub["real_m"].sum() / 1000
            n[tmc] = f"measured: {len(sub)} OSM pieces, {km:.0f} km, {what[tname]}"
        auto = sample[sample["tm_class"] == "autoroute"]
        if len(auto):
            f["autoroute"] = round(ratio(auto), 3)
            n["autoroute"] = f"measured: {len(auto)} OSM pieces"
        else:
            f["autoroute"] = 1.0
            n["autoroute"] = ("NOT measured: no motorway/trunk in the extracts; wide-radius "
                              "curves, so straight segments lose little (assumption)")
        f["mountain_pass"] = round(ratio(df[steep]), 3)
        km = df.loc[steep, "real_m"].sum() / 1000
        n["mountain_pass"] = (f"measured: {int(steep.sum())} Andorra pieces with mean grade >= "
                              f"{args.grade:.0%} (SRTM3), {km:.0f} km")
        tables[tname], notes[tname] = f, n
    andorra = df[df["country"] == "Andorra"]
    print("\nAndorra, by mean grade (SRTM3 N42E001):")
    bins = pd.cut(andorra["grade"], [0, 0.02, 0.05, 0.08, 1.0], include_lowest=True)
    print(andorra.groupby(bins, observed=True).apply(
        lambda d: pd.Series({"pieces": len(d), "km": d["real_m"].sum() / 1000,
                             "factor": ratio(d)}), include_groups=False).round(3).to_string())
    print("\nFactors:", tables)

    print(f"\nTravel time, Travel-Mapping-like / full OSM network ({args.pairs} random pairs "
          f"of junctions, seed {args.seed}):")
    # [pieces] goes with mountain flags (here: the SRTM grade, in Andorra only);
    # [mountain_area] stands for a territory whose mountain roads are not flagged.
    runs = [("Andorra", "pieces", True), ("Andorra", "mountain_area", False),
            ("Liechtenstein", "pieces", False)]
    for country, tname, flagged in runs:
        pieces = pieces_of[country]
        mnt = np.zeros(len(pieces), dtype=bool)
        if flagged:
            mnt = df.loc[df["country"] == country, "grade"].to_numpy() >= args.grade
        r = travel_time_ratios(nets[country], pieces, spacing, tables[tname], speeds, mnt,
                               args.pairs, args.seed)
        flags = f"pieces >= {args.grade:.0%} grade flagged mountain" if flagged else "no flag"
        print(f"  {country}, factors of [{tname}], {flags}:")
        for name, x in r.items():
            print(f"    {name:44s} pairs {x['pairs']}, median {x['median']:.3f}, "
                  f"p10 {x['p10']:.3f}, p90 {x['p90']:.3f}")

    if not args.dry_run:
        command = ".venv/bin/python scripts/calibrate_sinuosity.py" + (
            " " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
        write_toml(args.out, tables, notes, command)
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
