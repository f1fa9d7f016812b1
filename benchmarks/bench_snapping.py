"""Before/after timing of exact snapping on the national Travel Mapping network.

The public calls, snapping included, on the national network (largest strongly
connected component, 157,391 nodes): ``nearest`` from every node to 100 random service
nodes; ``od_matrix`` of 2,000 × 200 random node points, and of 2,000 random points up
to 500 m off the road × 200 node points; scipy's Dijkstra from the 200 site nodes as a
reference. Seed 0; one run each (wall clock; the machine is shared and noisy).

To compare with the code before exact snapping (commit 5b2f220), run the same file
against both trees, alternating, from the repository root::

    mkdir -p /tmp/before && git archive 5b2f220 | tar -x -C /tmp/before
    for root in /tmp/before $PWD /tmp/before $PWD; do
      (cd $root && PYTHONPATH=$root .venv/bin/python $OLDPWD/benchmarks/bench_snapping.py)
    done
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import geopandas as gpd
import numpy as np
from scipy.sparse.csgraph import dijkstra

from accessibility.engine.travel_times import graph_matrix, nearest, od_matrix
from accessibility.inputs.sources import fetch
from accessibility.network import travelmapping as tm
from accessibility.network.build import largest_component


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    warnings.simplefilter("ignore")
    net = largest_component(tm.read_travel_mapping(fetch(tm.SOURCE_NAME)))
    n = net.n_nodes
    rng = np.random.default_rng(0)
    xy = net.nodes[["x", "y"]].to_numpy()

    def layer(pts: np.ndarray, name: str) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {name: np.arange(len(pts))}, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]),
            crs=net.crs,
        )  # fmt: skip

    every = layer(xy, "pid")
    services = layer(xy[rng.choice(n, 100, replace=False)], "sid")
    origins = layer(xy[rng.choice(n, 2000, replace=False)], "pid")
    site_nodes = rng.choice(n, 200, replace=False)
    sites = layer(xy[site_nodes], "sid")
    off = xy[rng.choice(n, 2000, replace=False)] + rng.uniform(-500, 500, (2000, 2))
    off_road = layer(off, "pid")
    AT = graph_matrix(net, reverse=True)
    kw = {"origin_id": "pid", "destination_id": "sid"}
    rows = {
        f"nearest(): {n:,} node points, 100 services": timed(
            lambda: nearest(net, every, services, **kw)
        ),
        "od_matrix 2,000 node points × 200": timed(lambda: od_matrix(net, origins, sites, **kw)),
        "od_matrix 2,000 off-road points × 200": timed(
            lambda: od_matrix(net, off_road, sites, **kw)
        ),
        "scipy dijkstra from the 200 site nodes": timed(
            lambda: dijkstra(AT, directed=True, indices=site_nodes)
        ),
    }
    for k, v in rows.items():
        print(f"  {k:<50}{v:8.2f} s")


if __name__ == "__main__":
    main()
