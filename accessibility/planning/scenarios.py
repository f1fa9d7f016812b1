"""What-if scenarios: edits of the road network and of the services, read from TOML files.

A scenario (``data/scenarios/<name>.toml``, format in ``data/scenarios/README.md``) lists

* ``[[closure]]``: close a route (by ``ref``) between two points: Travel Mapping
  waypoint labels (``"ColGab"``), commune names (``"Valloire"``) or ``[lon, lat]``;
  the edges of that route on the shortest path (by length, on the route only) between
  the two points are closed, in both directions: they get ``closed = True``, which
  routing leaves out (:attr:`RoadNetwork.open_edges`) but snapping keeps, so that a
  place beside a closed road is attached to it as on the base network and is reported
  cut off rather than silently moved to another road;
* ``[[speed]]``: multiply speeds by ``factor`` or set them to ``kph`` on the edges that
  match every selector given (``road_class``, ``mountain``, ``ref``, ``section``,
  ``min_altitude_m`` / ``max_altitude_m`` where the nodes carry ``elevation_m``);
* ``[[link]]``: add a two-way road between two ``[lon, lat]`` points;
* ``[[service]]``: add, remove or close a service (see :func:`apply_service_edits`).

:func:`apply_scenario` returns a NEW :class:`RoadNetwork` with the same nodes (so that
cell snapping keeps its meaning) and reports, in ``meta["scenario"]``, which nodes can
no longer be reached; travel times to and from them come out NaN. The base network
(and its cache entry) is never modified.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import tarfile
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from accessibility.core import columns as C
from accessibility.core.errors import NetworkError, ScenarioError
from accessibility.core.names import normalise_name
from accessibility.core.paths import Paths, default_paths
from accessibility.network.graph import RoadNetwork
from accessibility.planning.changes import paired_summary
from accessibility.planning.scenario_file import (
    SCENARIO_DIR,
    Closure,
    NewLink,
    Point,
    Scenario,
    ServiceEdit,
    SpeedEdit,
    _where,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "SCENARIO_DIR",
    "Closure",
    "NewLink",
    "Point",
    "Scenario",
    "ScenarioError",
    "ServiceEdit",
    "SpeedEdit",
    "apply_scenario",
    "apply_service_edits",
    "closed_edges",
    "compare",
    "load_scenario",
    "parse_scenario",
    "scenario_study",
    "unreachable_nodes",
]

log = logging.getLogger(__name__)

#: Largest distance (m) between a named point and the route it should lie on.
MAX_POINT_DISTANCE_M = 3_000.0
#: An added service farther than this (m) from every service of the layer is a typo.
MAX_NEW_SERVICE_DISTANCE_M = 50_000.0
#: A Travel Mapping waypoint and a network node are the same point within this (m).
LABEL_TOLERANCE_M = 5.0
#: Edge column holding the Travel Mapping route file (``fraara.d090273``).
ROUTE_ROOT = "route_root"

# --------------------------------------------------------------------------------------
# locating points
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _wpt_labels(archive: Path) -> dict[str, pd.DataFrame]:
    """Visible waypoint labels of every Savoie-region route root: root -> (label, lon, lat)."""
    out: dict[str, pd.DataFrame] = {}
    line = re.compile(r"^\s*(\S+)[^\n]*?lat=(-?[0-9.]+)&lon=(-?[0-9.]+)", re.MULTILINE)
    raw = gzip.decompress(archive.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
        for m in tar:
            if m.isfile() and m.name.endswith(".wpt"):
                text = raw[m.offset_data : m.offset_data + m.size].decode("utf-8", "replace")
                rows = [(lab, float(lo), float(la)) for lab, la, lo in line.findall(text)]
                root = m.name.rsplit("/", 1)[-1][:-4]
                out[root] = pd.DataFrame(rows, columns=["label", "lon", "lat"])
    return out


class _Locator:
    """Finds the network nodes named by a closure's or a section's points."""

    def __init__(self, net: RoadNetwork, paths: Paths, file: Path | None) -> None:
        self.net = net
        self.paths = paths
        self.file = file
        self.to_net = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        self._halls: pd.DataFrame | None = None

    def route_edges(self, ref: str, where: str) -> np.ndarray:
        e = self.net.edges
        if "ref" not in e.columns:
            raise ScenarioError(f"{where}: the network's edges have no 'ref' column")
        mask = e["ref"].astype(str).str.replace(" ", "").str.upper() == ref.replace(" ", "").upper()
        if not mask.any():
            raise ScenarioError(f"{where}: no edge of the network has ref {ref!r}")
        return np.flatnonzero(mask.to_numpy())

    def _halls_table(self) -> pd.DataFrame:
        if self._halls is None:
            from accessibility.inputs.communes import load_town_halls

            h = load_town_halls(self.paths)
            x, y = self.to_net.transform(h.geometry.x.to_numpy(), h.geometry.y.to_numpy())
            self._halls = pd.DataFrame(
                {"key": h[C.COMMUNE_NAME].map(normalise_name).to_numpy(), "x": x, "y": y}
            )
        return self._halls

    def _label_xy(self, label: str, edge_idx: np.ndarray) -> list[tuple[float, float]]:
        e = self.net.edges
        if ROUTE_ROOT not in e.columns:
            return []
        from accessibility.inputs.sources import fetch
        from accessibility.network.travelmapping import SOURCE_NAME

        labels = _wpt_labels(fetch(SOURCE_NAME, self.paths))
        found = []
        for root in pd.unique(e[ROUTE_ROOT].to_numpy()[edge_idx]):
            t = labels.get(str(root))
            if t is None:
                continue
            hit = t[t["label"].str.lstrip("+*") == label]
            for lon, lat in zip(hit["lon"], hit["lat"], strict=True):
                found.append(self.to_net.transform(lon, lat))
        return found

    def node(self, point: Point, edge_idx: np.ndarray, where: str) -> int:
        """Node of the route (edges ``edge_idx``) at ``point``."""
        e = self.net.edges
        nodes = np.unique(
            np.concatenate([e[C.U].to_numpy()[edge_idx], e[C.V].to_numpy()[edge_idx]])
        )
        xy = self.net.nodes.loc[nodes, ["x", "y"]].to_numpy()
        tree = cKDTree(xy)
        if isinstance(point, tuple):
            candidates = [self.to_net.transform(*point)]
            what, tol = f"[{point[0]}, {point[1]}]", MAX_POINT_DISTANCE_M
        else:
            candidates = self._label_xy(point, edge_idx)
            what, tol = f"waypoint label {point!r}", LABEL_TOLERANCE_M
            if not candidates:
                h = self._halls_table()
                hit = h[h["key"] == normalise_name(point)]
                candidates = list(zip(hit["x"], hit["y"], strict=True))
                what, tol = f"commune {point!r} (its town hall)", MAX_POINT_DISTANCE_M
        if not candidates:
            raise ScenarioError(
                f"{where}: {point!r} is neither a Travel Mapping waypoint label of this "
                "route nor a commune name"
            )
        d, i = tree.query(np.asarray(candidates, dtype=float))
        best = int(np.argmin(d))
        if d[best] > tol:
            raise ScenarioError(
                f"{where}: {what} is {d[best]:.0f} m from the route (more than {tol:.0f} m)"
            )
        return int(nodes[i[best]])

    def section_edges(self, ref: str, start: Point, end: Point, where: str) -> np.ndarray:
        """Rows (positions) of the route's edges on the path between two points, both ways."""
        idx = self.route_edges(ref, where)
        a, b = self.node(start, idx, where), self.node(end, idx, where)
        if a == b:
            raise ScenarioError(f"{where}: {start!r} and {end!r} are the same node of {ref}")
        e = self.net.edges
        u, v = e[C.U].to_numpy()[idx], e[C.V].to_numpy()[idx]
        w = np.maximum(e[C.LENGTH_M].to_numpy(dtype=float)[idx], 1e-6)
        n = self.net.n_nodes
        g = sp.csr_matrix((w, (u, v)), shape=(n, n))
        _, pred = dijkstra(g, directed=False, indices=a, return_predecessors=True)
        if pred[b] < 0:
            raise ScenarioError(f"{where}: {ref} does not connect {start!r} to {end!r}")
        pairs = set()
        node = b
        while node != a:
            p = int(pred[node])
            pairs.add((min(p, node), max(p, node)))
            node = p
        lo, hi = (
            np.minimum(e[C.U].to_numpy(), e[C.V].to_numpy()),
            np.maximum(e[C.U].to_numpy(), e[C.V].to_numpy()),
        )
        on_route = np.zeros(len(e), dtype=bool)
        on_route[idx] = True
        key = pd.Series(list(zip(lo, hi, strict=True)))
        return np.flatnonzero(key.isin(pairs).to_numpy() & on_route)


# --------------------------------------------------------------------------------------
# applying a scenario
# --------------------------------------------------------------------------------------


def _speed_mask(edit: SpeedEdit, net: RoadNetwork, loc: _Locator, where: str) -> np.ndarray:
    e = net.edges
    mask = np.ones(len(e), dtype=bool)
    if edit.road_class:
        mask &= e[C.ROAD_CLASS].isin(edit.road_class).to_numpy()
    if edit.mountain is not None:
        if "mountain" not in e.columns:
            raise ScenarioError(f"{where}: the network's edges have no 'mountain' column")
        mask &= e["mountain"].fillna(False).astype(bool).to_numpy() == edit.mountain
    if edit.ref:
        refs = {r.replace(" ", "").upper() for r in edit.ref}
        if "ref" not in e.columns:
            raise ScenarioError(f"{where}: the network's edges have no 'ref' column")
        mask &= e["ref"].astype(str).str.replace(" ", "").str.upper().isin(refs).to_numpy()
    if edit.exclude_ref and "ref" in e.columns:
        refs = {r.replace(" ", "").upper() for r in edit.exclude_ref}
        mask &= ~e["ref"].astype(str).str.replace(" ", "").str.upper().isin(refs).to_numpy()
    if edit.section is not None:
        sec = np.zeros(len(e), dtype=bool)
        sec[loc.section_edges(*edit.section, where)] = True
        mask &= sec
    if edit.min_altitude_m is not None or edit.max_altitude_m is not None:
        if "elevation_m" not in net.nodes.columns:
            raise ScenarioError(
                f"{where}: an altitude band needs node elevations (nodes column "
                "'elevation_m'); this network has none (Travel Mapping networks carry no "
                "elevation). Use mountain = true or a named section instead"
            )
        z = net.nodes["elevation_m"].to_numpy(dtype=float)
        mid = (z[e[C.U].to_numpy()] + z[e[C.V].to_numpy()]) / 2
        if edit.min_altitude_m is not None:
            mask &= mid >= edit.min_altitude_m
        if edit.max_altitude_m is not None:
            mask &= mid < edit.max_altitude_m
    return mask


def _describe(edit: Any) -> str:
    fields = {k: v for k, v in vars(edit).items() if k != "index" and v not in (None, (), "")}
    return ", ".join(f"{k}={v!r}" for k, v in fields.items())


def apply_scenario(
    net: RoadNetwork, scenario: Scenario, *, paths: Paths | None = None
) -> RoadNetwork:
    """Apply a scenario's road edits to ``net`` and return a new network.

    Closures come first, then speed edits in file order (factors multiply), then new
    links. Edited edges get ``travel_time_s`` scaled by old speed / new speed (equal to
    ``length_m / speed`` on networks built that way). The node table is unchanged.

    Returns
    -------
    RoadNetwork
        ``meta["scenario"]`` holds the scenario name, the edges closed and slowed per
        edit, and ``unreachable_nodes``: nodes that had a road in ``net`` and are no
        longer in the largest strongly connected part of the edited network.

    Raises
    ------
    ScenarioError
        An edit that matches nothing (the message names the file, the entry and what
        was looked for).
    """
    paths = paths or default_paths()
    loc = _Locator(net, paths, scenario.file)
    edges = net.edges.copy()
    report: dict[str, Any] = {"name": scenario.name, "closures": [], "speeds": [], "links": []}

    closed = np.zeros(len(edges), dtype=bool)
    for c in scenario.closures:
        where = f"{_where(scenario.file, 'closure', c.index)} ({c.name or c.ref})"
        rows = loc.section_edges(c.ref, c.start, c.end, where)
        if len(rows) == 0:  # pragma: no cover - section_edges raises first
            raise ScenarioError(f"{where}: matched no edge ({_describe(c)})")
        closed[rows] = True
        report["closures"].append(
            {
                "name": c.name,
                "ref": c.ref,
                "edges": len(rows),
                "length_km": float(edges[C.LENGTH_M].to_numpy()[rows].sum() / 2000),
            }
        )

    speed = edges[C.SPEED_KPH].to_numpy(dtype=float).copy()
    for s in scenario.speeds:
        where = _where(scenario.file, "speed", s.index)
        mask = _speed_mask(s, net, loc, where) & ~closed
        if not mask.any():
            raise ScenarioError(f"{where}: matched no open edge ({_describe(s)})")
        speed[mask] = speed[mask] * s.factor if s.factor is not None else s.kph
        report["speeds"].append({"index": s.index, "edges": int(mask.sum()), "note": s.note})
    old = edges[C.SPEED_KPH].to_numpy(dtype=float)
    changed = speed != old
    tt = edges[C.TRAVEL_TIME_S].to_numpy(dtype=float).copy()
    tt[changed] = tt[changed] * old[changed] / speed[changed]
    edges[C.SPEED_KPH] = speed
    edges[C.TRAVEL_TIME_S] = tt
    prior = edges["closed"].fillna(False).astype(bool).to_numpy() if "closed" in edges else False
    edges["closed"] = closed | prior

    if scenario.links:
        edges = _add_links(net, edges, scenario, report)
    edges["closed"] = edges["closed"].fillna(False).astype(bool)
    edges = gpd.GeoDataFrame(edges.reset_index(drop=True), geometry="geometry", crs=net.crs)

    meta = {k: v for k, v in net.meta.items() if k != "cache"}
    meta["scenario"] = report
    edited = RoadNetwork(nodes=net.nodes, edges=edges, meta=meta)
    unreachable = unreachable_nodes(net, edited)
    report["unreachable_nodes"] = unreachable.tolist()  # the same dict as edited.meta's
    if len(unreachable):
        log.warning(
            "scenario %s: %d nodes can no longer be reached (times to/from them are NaN)",
            scenario.name,
            len(unreachable),
        )
    return edited


def _add_links(
    net: RoadNetwork, edges: pd.DataFrame, scenario: Scenario, report: dict[str, Any]
) -> pd.DataFrame:
    from accessibility.network.speeds import load_speed_table

    to_net = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    used = np.unique(np.concatenate([net.edges[C.U].to_numpy(), net.edges[C.V].to_numpy()]))
    xy_all = net.nodes[["x", "y"]].to_numpy()
    tree = cKDTree(xy_all[used])
    rows = []
    table = None
    for lk in scenario.links:
        where = _where(scenario.file, "link", lk.index)
        ends = []
        for p in (lk.start, lk.end):
            d, i = tree.query(to_net.transform(*p))
            if d > MAX_POINT_DISTANCE_M:
                raise ScenarioError(
                    f"{where}: [{p[0]}, {p[1]}] is {d:.0f} m from the nearest road node "
                    f"(more than {MAX_POINT_DISTANCE_M:.0f} m)"
                )
            ends.append(int(used[i]))
        a, b = ends
        if a == b:
            raise ScenarioError(f"{where}: both ends snap to the same node {a}")
        length = lk.length_m or float(np.hypot(*(xy_all[a] - xy_all[b])))
        if lk.speed_kph is None:
            table = table or load_speed_table()
            try:
                kph = float(table.speed_for(lk.road_class))
            except NetworkError as exc:
                raise ScenarioError(f"{where}: {exc}") from exc
        else:
            kph = lk.speed_kph
        for p, q in ((a, b), (b, a)):
            rows.append(
                {
                    C.U: p,
                    C.V: q,
                    C.LENGTH_M: length,
                    C.SPEED_KPH: kph,
                    C.TRAVEL_TIME_S: length / (kph / 3.6),
                    C.ROAD_CLASS: lk.road_class,
                    "ref": lk.name or "scenario link",
                    "geometry": shapely.LineString([xy_all[p], xy_all[q]]),
                }
            )
        report["links"].append(
            {"name": lk.name, "from_node": a, "to_node": b, "length_m": length, "speed_kph": kph}
        )
    add = gpd.GeoDataFrame(rows, geometry="geometry", crs=net.crs)
    if "mountain" in edges.columns:
        add["mountain"] = False
    return pd.concat([edges, add], ignore_index=True)


def unreachable_nodes(base: RoadNetwork, edited: RoadNetwork) -> np.ndarray:
    """Nodes with a road in ``base`` that are outside the edited network's main part.

    The main part is the largest strongly connected component of ``edited``; a node
    outside it cannot both reach it and be reached from it. (Self-loops, such as the stubs of
    closed edges, connect nothing.)
    """

    def strong(net: RoadNetwork) -> np.ndarray:
        _, labels = connected_components(net.csr(), directed=True, connection="strong")
        return labels

    e = base.edges
    had_road = np.zeros(base.n_nodes, dtype=bool)
    had_road[e[C.U].to_numpy()] = True
    had_road[e[C.V].to_numpy()] = True
    base_labels = strong(base)
    main_base = np.bincount(base_labels[had_road]).argmax()
    labels = strong(edited)
    main = np.bincount(labels[had_road & (base_labels == main_base)]).argmax()
    return np.flatnonzero(had_road & (base_labels == main_base) & (labels != main))


def closed_edges(base: RoadNetwork, edited: RoadNetwork) -> pd.DataFrame:
    """Edges of ``base`` (u, v, ref) that are absent from ``edited``."""
    key = ["u", "v"]
    b = base.edges[[*key, *(["ref"] if "ref" in base.edges.columns else [])]]
    e = edited.edges
    open_ = e[~e["closed"].fillna(False).astype(bool)] if "closed" in e.columns else e
    m = b.merge(open_[key].drop_duplicates(), on=key, how="left", indicator=True)
    return m[m["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# services
# --------------------------------------------------------------------------------------


def apply_service_edits(services: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """Apply the ``[[service]]`` entries to a services layer; return a new layer.

    ``add`` appends a service (``service_id``, ``category``, ``lon``, ``lat``, ``count``);
    ``remove`` and ``close`` (closed for the scenario's season) drop the service with
    that ``service_id``; the result's ``meta``-like column ``scenario_edit`` says what
    was done to each added row.

    Raises
    ------
    ScenarioError
        Removing or closing an unknown id, adding an id that exists, or adding a service
        farther than :data:`MAX_NEW_SERVICE_DISTANCE_M` from every service of the layer
        (which covers the territory and its buffer): a typo in its coordinates.
    """
    out = services.copy()
    ids = set(out[C.SERVICE_ID].astype(str))
    for s in scenario.services:
        where = _where(scenario.file, "service", s.index)
        if s.action in ("remove", "close"):
            if s.service_id not in ids:
                raise ScenarioError(
                    f"{where}: no service with service_id {s.service_id!r} to {s.action}"
                )
            out = out[out[C.SERVICE_ID].astype(str) != s.service_id]
            ids.discard(s.service_id)
        else:
            if s.service_id in ids:
                raise ScenarioError(f"{where}: service_id {s.service_id!r} already exists")
            pt = gpd.GeoSeries(gpd.points_from_xy([s.lon], [s.lat]), crs="EPSG:4326")
            _check_near(pt.to_crs(out.crs).iloc[0], out, where)
            row = gpd.GeoDataFrame(
                {
                    C.SERVICE_ID: [s.service_id],
                    C.CATEGORY: [s.category],
                    C.LABEL: [s.label or s.service_id],
                    C.COUNT: [s.count],
                    C.SOURCE: [f"scenario {scenario.name}"],
                },
                geometry=pt.to_crs(out.crs).to_numpy(),
                crs=out.crs,
            )
            out = pd.concat([out, row], ignore_index=True)
            ids.add(s.service_id)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=services.crs)


def _check_near(point: Any, services: gpd.GeoDataFrame, where: str) -> None:
    if services.empty or services.crs is None or services.crs.is_geographic:
        return
    gap = float(services.geometry.distance(point).min())
    if gap > MAX_NEW_SERVICE_DISTANCE_M:
        raise ScenarioError(
            f"{where}: the added service lies {gap / 1000:.0f} km from every service of the "
            f"territory and its buffer (at most {MAX_NEW_SERVICE_DISTANCE_M / 1000:.0f} km "
            "expected): check lon and lat"
        )


# --------------------------------------------------------------------------------------
# running and comparing
# --------------------------------------------------------------------------------------


def scenario_study(study: Any, scenario: Scenario, *, cells: gpd.GeoDataFrame | None = None) -> Any:
    """A copy of ``study`` with the scenario's network and services (and ``cells``)."""
    layers = study.layers
    changes: dict[str, Any] = {}
    if scenario.services:
        changes["services"] = apply_service_edits(layers.services, scenario)
    if cells is not None:
        changes["cells"] = cells
    if changes:
        layers = replace(layers, **changes)
    net = (
        study.network
        if not (scenario.closures or scenario.speeds or scenario.links)
        else apply_scenario(study.network, scenario, paths=study.paths)
    )
    return replace(study, layers=layers, network=net)


def compare(
    diag_base: Any, diag_scenario: Any, *, labels: Sequence[str] = ("summer", "winter")
) -> pd.DataFrame:
    """Per commune and per EPCI: the change in time to each category and in population
    beyond its threshold, between two diagnostics of the same cells (e.g. summer then
    winter).

    Both times are means over the same cells (those with a time in both diagnostics)
    weighted by the same residents (those of ``diag_base``), so that the change is the
    change of the roads and services: with closures and slowdowns only, no commune or
    EPCI gets faster. Visitors (a seasonal scenario adds them to ``pop_total``) are
    reported on their own columns, never in the weights (see
    :func:`~accessibility.planning.changes.paired_summary`).

    Returns
    -------
    pandas.DataFrame
        Long table: ``level`` (commune / epci), ``code``, ``name``, ``indicator``,
        ``threshold_min``, ``<a>_min``, ``<b>_min``, ``change_min``;
        ``<a>_unreachable_pop`` / ``<b>_unreachable_pop`` (residents with no route, left
        out of both means); ``<a>_beyond_pop`` / ``<b>_beyond_pop`` and
        ``change_beyond_pop`` (residents beyond the threshold or with no route);
        ``<a>_visitors_pop`` / ``<b>_visitors_pop`` and ``<a>_visitors_beyond_pop`` /
        ``<b>_visitors_beyond_pop`` (visitors, all and beyond the threshold); ``a``,
        ``b`` = ``labels``.
    """
    a, b = labels
    ca = diag_base.cells.set_index(C.CELL_ID)
    cb = diag_scenario.cells.set_index(C.CELL_ID).reindex(ca.index)
    residents = _residents(ca)
    table = pd.DataFrame({"residents": residents}, index=ca.index)
    table["visitors_before"] = ca[C.POP_TOTAL] - residents
    table["visitors_after"] = cb[C.POP_TOTAL] - _residents(cb)
    communes = diag_base.communes.set_index(C.COMMUNE_CODE)
    epci = diag_base.epci.drop_duplicates(C.EPCI_CODE).set_index(C.EPCI_CODE)[C.EPCI_NAME]
    table["commune"] = ca[C.COMMUNE_CODE].to_numpy()
    table["epci"] = table["commune"].map(communes[C.EPCI_CODE])
    names = {"commune": communes[C.COMMUNE_NAME], "epci": epci}
    rename = {"mean_before_min": f"{a}_min", "mean_after_min": f"{b}_min"}
    for what in ("unreachable", "beyond", "visitors", "visitors_beyond"):
        rename |= {f"{what}_before": f"{a}_{what}_pop", f"{what}_after": f"{b}_{what}_pop"}
    rows = []
    for level in ("commune", "epci"):
        for ind, thr in diag_base.indicators[["indicator", "threshold_min"]].itertuples(
            index=False
        ):
            if ind not in ca.columns or ind not in cb.columns:
                continue
            t = table.assign(time_before_min=ca[ind], time_after_min=cb[ind])
            s = paired_summary(t, by=level, threshold_min=thr).reindex(names[level].index)
            s = s.rename(columns=rename).rename_axis("code").reset_index()
            s.insert(0, "level", level)
            s.insert(2, "name", names[level].to_numpy())
            s.insert(3, "indicator", ind)
            s.insert(4, "threshold_min", thr)
            rows.append(s)
    out = pd.concat(rows, ignore_index=True)
    out["change_min"] = out[f"{b}_min"] - out[f"{a}_min"]
    out["change_beyond_pop"] = out[f"{b}_beyond_pop"] - out[f"{a}_beyond_pop"]
    pairs = [(f"{a}_{w}", f"{b}_{w}") for w in ("unreachable_pop", "beyond_pop")]
    order = ["level", "code", "name", "indicator", "threshold_min", f"{a}_min", f"{b}_min",
             "change_min", *pairs[0], *pairs[1], "change_beyond_pop"]  # fmt: skip
    return out[order + [c for c in out.columns if c not in order]]


def _residents(cells: pd.DataFrame) -> pd.Series:
    """The residents of each cell (``pop_resident`` of a seasonal scenario, else
    ``pop_total``)."""
    col = "pop_resident" if "pop_resident" in cells.columns else C.POP_TOTAL
    return cells[col].astype(float)
