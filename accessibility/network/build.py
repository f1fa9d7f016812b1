"""Network building blocks shared by the readers: polylines to graph, largest component, cache.

* :func:`polylines_to_graph` splits polylines at shared vertices and ends (the topology
  step of the OSM and LineString readers);
* :func:`directed_edges` turns those segments into the contract's directed edges;
* :func:`largest_component` keeps the largest strongly connected component and records
  what was cut off;
* :func:`cached_network` stores a built network under a hash of its inputs.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components

from accessibility.core import columns as C
from accessibility.core.cache import Store, cached, code_hash, make_key
from accessibility.core.cache import file_sha256 as file_sha256  # re-exported
from accessibility.core.errors import NetworkError, NetworkWarning
from accessibility.network.graph import RoadNetwork

log = logging.getLogger(__name__)

#: Build version of the cached networks. The source code of :data:`NETWORK_MODULES` is
#: hashed into every key, so a code change (a reader, the speed rules, the mountain
#: passes) rebuilds by itself; bump this number when networks must be rebuilt for a
#: reason that hash cannot see (a new pyosmium, a file read outside the key), and say
#: why in the commit.
BUILD_VERSION = "2"
#: The modules whose code builds a network (a package counts all its files).
NETWORK_MODULES = ("accessibility.network", "accessibility.core.columns")


# --- polylines -> graph ---------------------------------------------------------------
@dataclass(frozen=True)
class Segments:
    """Undirected pieces of polylines between graph nodes."""

    nodes: gpd.GeoDataFrame
    """Graph nodes 0..n-1 with ``x``, ``y``, ``geometry`` and ``key`` (vertex identity)."""
    u: np.ndarray
    v: np.ndarray
    line: np.ndarray
    """Index (0-based position) of the polyline each segment comes from."""
    geometry: np.ndarray
    """LineStrings from u to v."""
    length_m: np.ndarray


def polylines_to_graph(
    xy: np.ndarray, keys: np.ndarray, line: np.ndarray, *, crs: Any
) -> Segments:
    """Split polylines at vertices shared by several lines (or met twice) and at ends.

    Parameters
    ----------
    xy
        ``(n, 2)`` vertex coordinates in a metric CRS, the lines one after the other.
    keys
        ``(n,)`` int64 vertex identity: two vertices with the same key are the same
        graph point (OSM node id, or a snapped-coordinate id).
    line
        ``(n,)`` non-decreasing polyline index of each vertex. Lines need at least two
        vertices; consecutive repeats of a key must have been removed.
    crs
        CRS of ``xy``.
    """
    n = len(keys)
    if n == 0:
        raise NetworkError("no road line to build a network from")
    _, inverse, occurrences = np.unique(keys, return_inverse=True, return_counts=True)
    cut = occurrences[inverse] >= 2
    new_line = np.ones(n, dtype=bool)
    new_line[1:] = line[1:] != line[:-1]
    end_line = np.ones(n, dtype=bool)
    end_line[:-1] = new_line[1:]
    cut |= new_line | end_line

    # segment s spans cut vertices pos[s] .. pos[s+1], unless pos[s] ends a line
    pos = np.flatnonzero(cut)
    starts = pos[:-1][~end_line[pos[:-1]]]
    stops = pos[1:][~end_line[pos[:-1]]]
    counts = stops - starts + 1
    vidx = np.repeat(stops - counts.cumsum() + 1, counts) + np.arange(counts.sum())
    # vidx: vertex indices of every segment, one after the other
    seg_id = np.repeat(np.arange(len(starts)), counts)
    geoms = shapely.linestrings(xy[vidx], indices=seg_id)

    all_keys = np.concatenate((keys[starts], keys[stops]))
    end_keys, first = np.unique(all_keys, return_index=True)
    at = np.concatenate((starts, stops))[first]
    nxy = xy[at]
    nodes = gpd.GeoDataFrame(
        {"key": end_keys, "x": nxy[:, 0], "y": nxy[:, 1]},
        geometry=shapely.points(nxy),
        crs=crs,
    )
    nodes.index.name = C.NODE_ID
    return Segments(
        nodes=nodes,
        u=np.searchsorted(end_keys, keys[starts]),
        v=np.searchsorted(end_keys, keys[stops]),
        line=line[starts],
        geometry=geoms,
        length_m=shapely.length(geoms),
    )


def directed_edges(
    seg: Segments,
    lines: pd.DataFrame,
    *,
    speed_fwd: np.ndarray,
    speed_bwd: np.ndarray,
    extra_fwd: Mapping[str, np.ndarray] | None = None,
    extra_bwd: Mapping[str, np.ndarray] | None = None,
) -> gpd.GeoDataFrame:
    """The directed edges of ``seg``.

    ``lines`` has one row per polyline (positional) with boolean ``forward`` and
    ``backward`` columns, a ``road_class`` column and any attribute columns to copy.
    ``speed_fwd``/``speed_bwd`` (km/h, per line) and ``extra_*`` (per line, one array
    per column) give the values of each direction.
    """
    attrs = [c for c in lines.columns if c not in ("forward", "backward")]
    parts = []
    for fwd in (True, False):
        allowed = lines["forward" if fwd else "backward"].to_numpy(dtype=bool)[seg.line]
        if not allowed.any():
            continue
        li = seg.line[allowed]
        speed = (speed_fwd if fwd else speed_bwd)[li]
        length = seg.length_m[allowed]
        df = pd.DataFrame(
            {
                C.U: (seg.u if fwd else seg.v)[allowed],
                C.V: (seg.v if fwd else seg.u)[allowed],
                C.LENGTH_M: length,
                C.SPEED_KPH: speed,
                C.TRAVEL_TIME_S: length / (speed / 3.6),
            }
        )
        for c in attrs:
            df[c] = lines[c].to_numpy()[li]
        for col, values in ((extra_fwd if fwd else extra_bwd) or {}).items():
            df[col] = np.asarray(values)[li]
        geom = seg.geometry[allowed]
        df["geometry"] = geom if fwd else shapely.reverse(geom)
        parts.append(df)
    if not parts:
        raise NetworkError("no road open in either direction")
    crs = seg.nodes.crs
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)


# --- largest strongly connected component ----------------------------------------------
def largest_component(net: RoadNetwork, *, max_listed: int = 20) -> RoadNetwork:
    """Keep the largest strongly connected component; record what was cut off.

    Nodes are renumbered 0..n-1 (the old id is kept in ``nodes["node_id_before"]``).
    ``meta["removed"]`` holds the number of nodes and edges removed, their total length,
    and up to ``max_listed`` removed components (largest first) with their size and a
    representative coordinate. A :class:`NetworkWarning` says how much was removed,
    whenever anything was.
    """
    n = net.n_nodes
    graph = net.csr(C.LENGTH_M)
    n_comp, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=n_comp)
    main = int(np.argmax(sizes))
    keep_node = labels == main
    e = net.edges
    u = e[C.U].to_numpy()
    v = e[C.V].to_numpy()
    keep_edge = keep_node[u] & keep_node[v]
    removed_nodes = int(n - keep_node.sum())
    removed_edges = int(len(e) - keep_edge.sum())

    parts: list[dict[str, Any]] = []
    if removed_nodes:
        gone = e.loc[~keep_edge]
        comp_of_edge = np.where(keep_node[u[~keep_edge]], labels[v[~keep_edge]],
                                labels[u[~keep_edge]])  # fmt: skip
        by_comp = pd.DataFrame({"comp": comp_of_edge, "len": gone[C.LENGTH_M].to_numpy()})
        length_by_comp = by_comp.groupby("comp")["len"].sum()
        others = [c for c in np.argsort(-sizes) if c != main][:max_listed]
        for c in others:
            nid = int(np.flatnonzero(labels == c)[0])
            parts.append(
                {
                    "n_nodes": int(sizes[c]),
                    "length_m": float(length_by_comp.get(c, 0.0)),
                    "x": float(net.nodes["x"].iat[nid]),
                    "y": float(net.nodes["y"].iat[nid]),
                }
            )
    removed = {
        "n_components": int(n_comp - 1),
        "n_nodes": removed_nodes,
        "n_edges": removed_edges,
        "length_m": float(e.loc[~keep_edge, C.LENGTH_M].sum()),
        "parts": parts,
    }
    prior = net.meta.get("removed")
    if prior and not removed_nodes:
        return net  # already reduced (a reader did it): keep its record
    if prior:
        removed = _merge_removed(prior, removed, max_listed)
    meta = {**net.meta, "removed": removed}
    if not removed_nodes:
        return RoadNetwork(nodes=net.nodes, edges=net.edges, meta=meta)

    total_len = float(e[C.LENGTH_M].sum())
    warnings.warn(
        f"largest_component: removed {removed_nodes} of {n} nodes and {removed_edges} of "
        f"{len(e)} edges ({removed['length_m'] / 1000:.1f} km of {total_len / 1000:.1f} km, "
        f"{n_comp - 1} component(s)) not strongly connected to the main network; "
        f"see meta['removed']",
        NetworkWarning,
        stacklevel=2,
    )
    new_id = np.full(n, -1, dtype=np.int64)
    new_id[keep_node] = np.arange(int(keep_node.sum()))
    nodes = net.nodes.loc[keep_node].copy()
    nodes["node_id_before"] = nodes.index.to_numpy()
    nodes.index = pd.RangeIndex(len(nodes), name=net.nodes.index.name)
    edges = e.loc[keep_edge].copy()
    edges[C.U] = new_id[edges[C.U].to_numpy()]
    edges[C.V] = new_id[edges[C.V].to_numpy()]
    edges = edges.reset_index(drop=True)
    return RoadNetwork(nodes=nodes, edges=edges, meta=meta)


def _merge_removed(
    prior: Mapping[str, Any], new: Mapping[str, Any], max_listed: int
) -> dict[str, Any]:
    """What two successive reductions removed, together."""
    parts = sorted([*prior.get("parts", []), *new["parts"]], key=lambda p: -p["n_nodes"])
    return {
        **{k: prior.get(k, 0) + new[k] for k in ("n_components", "n_nodes", "n_edges")},
        "length_m": float(prior.get("length_m", 0.0)) + new["length_m"],
        "parts": parts[:max_listed],
    }


# --- build cache ------------------------------------------------------------------------
def cache_key(key_parts: Mapping[str, Any]) -> str:
    """A stable hash of ``key_parts``, the network code and :data:`BUILD_VERSION`.

    Values that are existing file paths (``pathlib.Path``) are replaced by their
    sha256, so a changed input file changes the key; other values must be
    JSON-serialisable (they are dumped with sorted keys). The source code of every
    module of :mod:`accessibility.network` (readers, speeds, :data:`MOUNTAIN_PASSES
    <accessibility.network.travelmapping.MOUNTAIN_PASSES>`...) is part of the key, so a
    code change rebuilds cached networks by itself.
    """
    return make_key(_full_parts(key_parts))


def _full_parts(key_parts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "parts": dict(key_parts),
        "code": code_hash(NETWORK_MODULES),
        "build_version": BUILD_VERSION,
    }


def _save_network(net: RoadNetwork, folder: Path) -> dict[str, Any]:
    net.nodes.to_parquet(folder / "nodes.parquet")
    net.edges.to_parquet(folder / "edges.parquet")
    return {"meta": dict(net.meta), "n_nodes": net.n_nodes, "n_edges": net.n_edges}


def _load_network(folder: Path, stored: dict[str, Any]) -> RoadNetwork:
    nodes = gpd.read_parquet(folder / "nodes.parquet")
    edges = gpd.read_parquet(folder / "edges.parquet")
    if len(nodes) != stored["n_nodes"] or len(edges) != stored["n_edges"]:
        raise ValueError(f"{len(nodes)} nodes and {len(edges)} edges read, not as stored")
    return RoadNetwork(nodes=nodes, edges=edges, meta={**stored["meta"], "cache": str(folder)})


def cached_network(
    key_parts: Mapping[str, Any],
    builder: Callable[[], RoadNetwork],
    cache_dir: str | Path,
    *,
    name: str = "network",
    keep_others: bool = True,
) -> RoadNetwork:
    """Return the network cached under ``key_parts``, building and storing it if absent.

    The key (:func:`cache_key`) hashes ``key_parts`` (input files given as
    :class:`~pathlib.Path` are hashed by content), the network code and
    :data:`BUILD_VERSION`. The network is stored as ``nodes.parquet`` and
    ``edges.parquet`` (GeoParquet) and ``entry.json`` in ``cache_dir/<name>-<key>/``,
    written to a temporary folder then renamed (:func:`accessibility.core.cache.cached`):
    a reader never sees a half-written entry, and a damaged one is rebuilt with a
    :class:`~accessibility.core.errors.CacheWarning`. With ``keep_others=False``, the
    older entries of the same ``name`` (``network-maurienne``) are removed once the new
    one is stored.
    """
    store = Store(save=_save_network, load=_load_network)
    parts = _full_parts(key_parts)
    net = cached(Path(cache_dir), name, parts, builder, store, keep_others=keep_others)
    entry = Path(cache_dir) / f"{name}-{make_key(parts)}"
    if "cache" not in net.meta and entry.is_dir():  # just built: say where it is stored
        net = RoadNetwork(nodes=net.nodes, edges=net.edges, meta={**net.meta, "cache": str(entry)})
    return net
