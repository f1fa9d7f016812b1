"""Benchmark of the travel-time engine against networkx, raw scipy csgraph and pandana.

Run from the repository root (needs the data mirror and pandana)::

    .venv/bin/python benchmarks/bench_engine.py [--networks liechtenstein,nominatim,...]

For each real network (largest strongly connected component):

* nearest service for every node, 5 categories of 100 random service nodes (seed 0);
* a 2,000-origin × 200-site matrix (random nodes), without and with a 120-minute limit.

Compared: ours (:mod:`accessibility.engine.travel_times`: ``nearest_node_times`` for the
engine core, ``nearest``/``od_matrix`` for the public calls with snapping and the long
table), scipy csgraph called directly, the networkx idioms (nearest: one
``multi_source_dijkstra_path_length`` per category on the reversed graph, every node;
matrix: one ``single_source_dijkstra`` per site on the reversed graph, 10 sites timed and
extrapolated) and pandana
(contraction hierarchies; building them included in its time). Times are wall-clock
seconds, best of 3 for the fast calls. Peak memory: tracemalloc peak of our public call
(run again, untimed) and the process's max RSS at the end.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy.sparse.csgraph import dijkstra

from accessibility.core import columns as C
from accessibility.engine.travel_times import graph_matrix, nearest, nearest_node_times, od_matrix
from accessibility.inputs.sources import fetch
from accessibility.network.build import largest_component
from accessibility.network.graph import RoadNetwork

N_CATEGORIES, N_SERVICES = 5, 100
N_ORIGINS, N_SITES = 2000, 200
LIMIT_MIN = 120.0
SKIP: set[str] = set()  # "pandana", "networkx": left out with --skip (quick before/after runs)


def load(name: str) -> RoadNetwork:
    if name == "liechtenstein":
        from accessibility.network.osm import read_osm

        net = read_osm(fetch("roads/osm/liechtenstein-latest.osm.pbf"))
    elif name == "nominatim":
        from accessibility.network.osm import read_osm

        net = read_osm(fetch("roads/osm/nominatim_apidb-test-data.pbf"))
    elif name == "grenoble":
        from accessibility.network.lines import read_road_lines

        net = read_road_lines(fetch("roads/osm_derived/GRE_roads.geojson.gz"))
    elif name == "travelmapping":
        from accessibility.network import travelmapping as tm

        try:
            net = tm.read_travel_mapping(fetch(tm.SOURCE_NAME))
        except Exception as exc:  # the sinuosity table may be missing: straight lengths
            print(f"  (default read failed: {exc}; reading with sinuosity factors 1.0)")
            ones = dict.fromkeys(("autoroute", "nationale", "departementale", "mountain_pass"), 1.0)
            net = tm.read_travel_mapping(fetch(tm.SOURCE_NAME), sinuosity=ones)
    else:
        raise SystemExit(f"unknown network {name!r}")
    return largest_component(net)


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def node_points(net: RoadNetwork, nodes: np.ndarray, name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {name: nodes}, geometry=net.nodes.geometry.to_numpy()[nodes], crs=net.crs
    )


def pandana_network(net: RoadNetwork):  # type: ignore[no-untyped-def]
    import pandana
    import pandas as pd

    e = net.edges
    # pandana has no parallel edges: keep the fastest, as the CSR matrix does
    e = e.sort_values(C.TRAVEL_TIME_S).drop_duplicates([C.U, C.V])
    nodes = net.nodes
    pn = pandana.Network(
        nodes["x"],
        nodes["y"],
        e[C.U],
        e[C.V],
        pd.DataFrame({"tt": e[C.TRAVEL_TIME_S].to_numpy()}, index=e.index),
        twoway=False,
    )
    # no pn.precompute(): it builds the range tables of aggregate() only (and for an
    # hour-long horizon on 150k nodes would not fit in memory); the contraction
    # hierarchy that nearest_pois/shortest_path_lengths use is built by the constructor
    return pn


def bench(name: str) -> None:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load(name)
    print(
        f"\n## {name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges (read in "
        f"{time.perf_counter() - t:.1f} s)"
    )
    n = net.n_nodes
    rng = np.random.default_rng(0)
    cats = [rng.choice(n, N_SERVICES, replace=False) for _ in range(N_CATEGORIES)]
    AT = graph_matrix(net, reverse=True)
    g = None if "networkx" in SKIP else net.to_networkx()

    # --- nearest service, every node, 5 categories -------------------------------------
    t_core, ours = best_of(lambda: [nearest_node_times(net, c)[0] for c in cats])
    t_scipy, raw = best_of(
        lambda: [dijkstra(AT, directed=True, indices=c, min_only=True) for c in cats]
    )
    diff_scipy = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, raw, strict=True))
    all_nodes = node_points(net, np.arange(n), "pid")
    svc = [node_points(net, c, "sid") for c in cats]

    def public() -> list:
        return [nearest(net, all_nodes, s, origin_id="pid", destination_id="sid") for s in svc]

    t_public, tables = best_of(public, repeat=1)
    diff_public = max(
        float(np.nanmax(np.abs(tab[C.TRAVEL_TIME_MIN].to_numpy() * 60 - o)))
        for tab, o in zip(tables, ours, strict=True)
    )
    # networkx idiom (what an osmnx user writes): one multi-source Dijkstra per category
    # on the reversed graph, from all its services at once (time from every node to the
    # nearest one); every node, not a sample
    nx_diff = 0.0
    t = time.perf_counter()
    if g is not None:
        rev = g.reverse(copy=False)
        for c, arr in zip(cats, ours, strict=True):
            d = nx.multi_source_dijkstra_path_length(
                rev, {int(s) for s in c}, weight=C.TRAVEL_TIME_S
            )
            ref = np.array([d.get(i, np.inf) for i in range(n)])
            ok = np.isfinite(ref)
            nx_diff = max(nx_diff, float(np.max(np.abs(ref[ok] - arr[ok]))))
    t_nx = time.perf_counter() - t
    mem = peak_mb(lambda: nearest_node_times(net, cats[0]))
    print(f"nearest, {n:,} nodes × {N_CATEGORIES} categories of {N_SERVICES} services:")
    print(f"  ours (engine core)    {t_core:9.3f} s   peak {mem:.0f} MB (one category)")
    print(f"  ours (nearest() incl. snapping {n:,} points, tables) {t_public:.3f} s")
    print(f"  scipy csgraph direct  {t_scipy:9.3f} s   ours/scipy = {t_core / t_scipy:.2f}")
    print(
        f"  networkx multi-source {t_nx:9.1f} s   (one search per category, reversed graph) "
        f"-> ours {t_nx / t_core:,.1f}× faster (public call: {t_nx / t_public:,.1f}×)"
    )
    print(
        f"  max |ours - scipy| = {diff_scipy:.3g} s, |ours - networkx| = {nx_diff:.3g} s, "
        f"|nearest() - core| = {diff_public:.3g} s"
    )

    # --- pandana (nearest POI) ----------------------------------------------------------
    try:
        if "pandana" in SKIP:
            raise RuntimeError("skipped (--skip pandana)")
        t = time.perf_counter()
        pn = pandana_network(net)
        t_pre = time.perf_counter() - t
        t = time.perf_counter()
        pd_diff_rev = pd_diff_fwd = 0.0
        fwd = [dijkstra(graph_matrix(net), directed=True, indices=c, min_only=True) for c in cats]
        for i, c in enumerate(cats):
            xy = net.nodes.iloc[c]
            pn.set_pois(f"c{i}", 7200.0, 1, xy["x"], xy["y"])
            got = pn.nearest_pois(7200.0, f"c{i}", num_pois=1)[1].to_numpy()
            ok = (got < 7200.0) & np.isfinite(ours[i]) & (ours[i] < 7200.0)
            pd_diff_rev = max(pd_diff_rev, float(np.max(np.abs(got[ok] - ours[i][ok]))))
            okf = ok & np.isfinite(fwd[i])
            pd_diff_fwd = max(pd_diff_fwd, float(np.max(np.abs(got[okf] - fwd[i][okf]))))
        t_pq = time.perf_counter() - t
        print(
            f"  pandana               {t_pre + t_pq:9.3f} s   (network + CH {t_pre:.2f} s + "
            f"queries {t_pq:.3f} s); max |pandana - ours| = {pd_diff_rev:.3g} s "
            f"(to the service), {pd_diff_fwd:.3g} s (from it)"
        )
    except Exception as exc:
        pn = None
        print(f"  pandana failed: {type(exc).__name__}: {exc}")

    # --- matrix 2,000 × 200 --------------------------------------------------------------
    onodes = rng.choice(n, N_ORIGINS, replace=False)
    snodes = rng.choice(n, N_SITES, replace=False)
    origins = node_points(net, onodes, "pid")
    sites = node_points(net, snodes, "sid")
    for limit in (None, LIMIT_MIN):
        lim_s = np.inf if limit is None else limit * 60

        def ours_od(limit=limit):  # type: ignore[no-untyped-def]
            return od_matrix(
                net, origins, sites, origin_id="pid", destination_id="sid", limit_min=limit
            )

        t_od, table = best_of(ours_od)
        t_sc, rawm = best_of(
            lambda lim_s=lim_s: dijkstra(AT, directed=True, indices=snodes, limit=lim_s)[:, onodes]
        )
        got = table[C.TRAVEL_TIME_MIN].to_numpy().reshape(N_ORIGINS, N_SITES) * 60
        exp = rawm.T.copy()
        exp[exp > lim_s] = np.inf
        same_nan = np.array_equal(np.isnan(got), np.isinf(exp))
        fin = np.isfinite(exp)
        d_sc = float(np.max(np.abs(got[fin] - exp[fin]))) if fin.any() else 0.0
        # networkx idiom: one single-source search per site on the reversed graph (the
        # sites are the fewer), timed on 10 sites and extrapolated to all of them
        sample = np.arange(10)
        t = time.perf_counter()
        nxd = 0.0
        rev = g.reverse(copy=False) if g is not None else None
        for j in sample if rev is not None else []:
            d = nx.single_source_dijkstra_path_length(
                rev, int(snodes[j]), cutoff=None if limit is None else lim_s,
                weight=C.TRAVEL_TIME_S,
            )
            ref = np.array([d.get(int(o), np.inf) for o in onodes])
            ok = np.isfinite(ref)
            if ok.any():
                nxd = max(nxd, float(np.max(np.abs(ref[ok] - got[:, j][ok]))))
        t_nxm = (time.perf_counter() - t) / len(sample) * N_SITES
        mem = peak_mb(ours_od)
        label = "no limit" if limit is None else f"limit {limit:.0f} min"
        print(f"matrix {N_ORIGINS:,} × {N_SITES} ({label}):")
        print(f"  ours (od_matrix, incl. snapping and table) {t_od:7.3f} s   peak {mem:.0f} MB")
        print(f"  scipy csgraph direct  {t_sc:9.3f} s   ours/scipy = {t_od / t_sc:.2f}")
        print(
            f"  networkx per site     {t_nxm:9.1f} s   (extrapolated from {len(sample)} "
            f"sites) -> ours {t_nxm / t_od:,.1f}× faster"
        )
        print(
            f"  max |ours - scipy| = {d_sc:.3g} s (same unreachable set: {same_nan}), "
            f"|ours - networkx| = {nxd:.3g} s"
        )
        if pn is not None and limit is None:
            t = time.perf_counter()
            pl = pn.shortest_path_lengths(
                np.repeat(onodes, N_SITES).tolist(),
                np.tile(snodes, N_ORIGINS).tolist(),
                imp_name="tt",
            )
            t_pm = time.perf_counter() - t
            pl = np.asarray(pl, dtype=float).reshape(N_ORIGINS, N_SITES)
            ok = fin & (pl < 4e6)
            print(
                f"  pandana shortest_path_lengths {t_pm:.3f} s (+ CH build {t_pre:.2f} s); "
                f"max |pandana - ours| = {float(np.max(np.abs(pl[ok] - got[ok]))):.3g} s"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS so far: {rss:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--networks",
        default="liechtenstein,nominatim,grenoble,travelmapping",
        help="comma-separated: liechtenstein, nominatim, grenoble, travelmapping",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated comparisons to leave out: pandana, networkx"
    )
    args = parser.parse_args()
    SKIP.update(x.strip() for x in args.skip.split(",") if x.strip())
    for name in args.networks.split(","):
        bench(name.strip())


if __name__ == "__main__":
    main()
