"""Calibration of the coarse (Travel Mapping) model against full road networks.

Owns: routing a truth region's points on both networks, the coarse model's parameters
(route-level sinuosity factor per road class, the access leg of
:mod:`~accessibility.engine.access_model`), their fit, the leave-one-region-out
cross-validation and the error statistics (by time band, shares beyond thresholds).

Times are *to the nearest service*, both ends' access legs included. A point joins its
nearest edge at its projection and reaches both end nodes along it (both networks are
two-way: the road-line files carry no one-way tag and Travel Mapping has none), so
``time = access(origin) + network + access(destination)``, exactly. The search is a
multi-source Dijkstra (scipy) from a virtual node tied to each destination's two end
nodes: the engine's own ``nearest_node_times`` needs a ``RoadNetwork``, and the fit
re-weights the same small graph hundreds of times, so the CSR matrix is rebuilt from
arrays instead.

The truth's access leg is the full network's own: straight line to the nearest street
at the engine's off-road speed (15 km/h), short because the full network is dense.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import least_squares
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from accessibility.core import columns as C
from accessibility.engine.access_model import TODAY, AccessParams
from accessibility.engine.snapping import SnapOptions, snap_xy
from accessibility.network.graph import RoadNetwork
from accessibility.validation.truth import Points, RegionPair

#: Road classes whose route-level factor is fitted (mountain passes keep theirs).
CLASSES = ("autoroute", "nationale", "departementale")
PARAMS = (
    "factor_autoroute",
    "factor_nationale",
    "factor_departementale",
    "t0_s",
    "v_rural_kph",
    "v_urban_kph",
    "exponent",
)
#: Plausible ranges (bounds of the fit): a factor is a sinuosity (a road is never shorter
#: than its straight drawing; above 1.8 it would no
#: longer be a sinuosity; access speeds between a walk and a main road; t0 ≤ 5 min;
#: the distance exponent between 0.5 (concave: farther, faster) and 1.5 (convex).
LOWER = np.array([1.0, 1.0, 1.0, 0.0, 5.0, 5.0, 0.5])
UPPER = np.array([1.8, 1.8, 1.8, 300.0, 60.0, 60.0, 1.5])
START = np.array([1.02, 1.05, 1.1, 30.0, 15.0, 20.0, 0.9])
#: Relative errors are taken against max(true time, this): short trips count in minutes.
SCALE_S = 600.0
#: Whether trips may skip the numbered network (see :func:`predict`).
DIRECT = True
FULL_ACCESS = AccessParams()  # 15 km/h straight line to the nearest street
BANDS = ((0, 5), (5, 10), (10, 20), (20, 30), (30, 45), (45, np.inf))
SHARE_THRESHOLDS = {5: 3.0, 10: 2.0, 20: 1.5, 45: 0.5}  # minutes -> tolerance (points)


@dataclass(frozen=True)
class Snapped:
    """Points tied to a network: edge row, position on it, straight distance."""

    edge: np.ndarray
    frac: np.ndarray
    dist: np.ndarray
    density: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class Graph:
    """A two-way network as arrays: ends, base time per edge, class index."""

    n: int
    u: np.ndarray
    v: np.ndarray
    base_s: np.ndarray  # time at factor 1
    cls: np.ndarray  # index into CLASSES, -1 for a fixed-factor edge
    fixed: np.ndarray  # factor of fixed edges (1 where cls >= 0)

    def times(self, factors: np.ndarray) -> np.ndarray:
        f = np.where(self.cls >= 0, np.asarray(factors)[np.maximum(self.cls, 0)], self.fixed)
        return self.base_s * f


def graph_of(net: RoadNetwork, *, pass_factor: float = 1.0, coarse: bool = True) -> Graph:
    """Arrays of a network. Coarse: base time = straight length / class speed."""
    e = net.edges
    u = e[C.U].to_numpy(np.int64)
    v = e[C.V].to_numpy(np.int64)
    if not coarse:
        zero = np.full(len(e), -1)
        return Graph(net.n_nodes, u, v, e[C.TRAVEL_TIME_S].to_numpy(float), zero,
                     np.ones(len(e)))  # fmt: skip
    base = e["straight_m"].to_numpy(float) / (e[C.SPEED_KPH].to_numpy(float) / 3.6)
    index = {c: i for i, c in enumerate(CLASSES)}
    cls = e[C.ROAD_CLASS].map(index).fillna(-1).to_numpy(int)
    mountain = e["mountain"].to_numpy(bool) if "mountain" in e else np.zeros(len(e), bool)
    cls = np.where(mountain, -1, cls)
    fixed = np.where(mountain, pass_factor, 1.0)
    return Graph(net.n_nodes, u, v, base, cls, fixed)


def snap(net: RoadNetwork, pts: Points) -> Snapped:
    """Tie points to their nearest edge (projection, distance)."""
    if not len(pts):
        empty = np.zeros(0)
        return Snapped(empty.astype(int), empty, empty, empty, empty)
    s = snap_xy(net, pts.xy, SnapOptions(method="edge"))
    return Snapped(s.edge, s.fraction, s.distance_m, pts.density, pts.weight)


def nearest_s(
    g: Graph, tt: np.ndarray, dest: Snapped, dest_access: np.ndarray,
    orig: Snapped, orig_access: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Time (s) from each origin to its nearest destination (inf if none reachable)."""
    if not len(dest.edge):
        return np.full(len(orig.edge), np.inf)
    du, dv, dt = g.u[dest.edge], g.v[dest.edge], tt[dest.edge]
    src = np.full(2 * len(du), g.n)
    dst = np.concatenate([du, dv])
    w = np.concatenate([dest_access + dest.frac * dt, dest_access + (1 - dest.frac) * dt])
    # reversed graph (trips *to* the destination); a two-way network is its own reverse
    rows = np.concatenate([g.v, src])
    cols = np.concatenate([g.u, dst])
    data = np.concatenate([tt, w]) + 1e-9  # scipy drops explicit zeros: keep them
    m = sp.csr_matrix((data, (rows, cols)), shape=(g.n + 1, g.n + 1))
    reach = dijkstra(m, directed=True, indices=g.n)
    ou, ov, ot = g.u[orig.edge], g.v[orig.edge], tt[orig.edge]
    via_u = orig.frac * ot + reach[ou]
    via_v = (1 - orig.frac) * ot + reach[ov]
    return orig_access + np.minimum(via_u, via_v)


@dataclass
class RegionData:
    """What the fit needs of one region: coarse arrays, snaps, true times."""

    code: str
    coarse: Graph
    origins: dict[str, Snapped]
    dests: dict[str, Snapped]
    truth_s: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    direct_m: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def pairs(self) -> list[tuple[str, str]]:
        return list(self.truth_s)


def prepare_region(pair: RegionPair, *, pass_factor: float = 1.45) -> RegionData:
    """Snap every point on both networks and route the truth once."""
    full = graph_of(pair.full, coarse=False)
    tt_full = full.times(np.ones(len(CLASSES)))
    data = RegionData(
        pair.code,
        graph_of(pair.coarse, pass_factor=pass_factor),
        {k: snap(pair.coarse, p) for k, p in pair.origins.items()},
        {k: snap(pair.coarse, p) for k, p in pair.destinations.items()},
    )
    f_orig = {k: snap(pair.full, p) for k, p in pair.origins.items()}
    f_dest = {k: snap(pair.full, p) for k, p in pair.destinations.items()}
    for okind, o in f_orig.items():
        for cat, d in f_dest.items():
            if okind == cat or not len(d.edge) or not len(o.edge):
                continue  # a town hall's nearest town hall is itself
            t = nearest_s(full, tt_full, d, FULL_ACCESS.time_s(d.dist), o,
                          FULL_ACCESS.time_s(o.dist))  # fmt: skip
            data.truth_s[(okind, cat)] = t
            tree = cKDTree(pair.destinations[cat].xy)
            data.direct_m[(okind, cat)] = tree.query(pair.origins[okind].xy)[0]
    return data


def split(theta: np.ndarray) -> tuple[np.ndarray, AccessParams]:
    """Parameter vector -> class factors, access parameters."""
    t = np.asarray(theta, dtype=float)
    return t[:3], AccessParams(t0_s=t[3], v_rural_kph=t[4], v_urban_kph=t[5], exponent=t[6])


def predict(
    data: RegionData, factors: np.ndarray, access: AccessParams, *, direct: bool = DIRECT
) -> dict:
    """Coarse times (s) of every (origin kind, category) routed in the truth.

    ``direct``: a trip may also go straight from the origin to its nearest destination
    (crow-fly), costed by the access model, when that is faster than the numbered
    roads: two neighbours in a town do not drive out to the D-road and back. That leg
    uses the access speeds and ``t0`` with no distance exponent (a concave leg would make
    long straight trips across roadless country too fast).
    """
    tt = data.coarse.times(factors)
    straight = replace(access, exponent=1.0)
    out = {}
    for okind, cat in data.pairs():
        o, d = data.origins[okind], data.dests[cat]
        t = nearest_s(data.coarse, tt, d, access.time_s(d.dist, d.density), o,
                      access.time_s(o.dist, o.density))  # fmt: skip
        if direct:  # straight to the nearest destination, off the numbered roads
            t = np.minimum(t, straight.time_s(data.direct_m[(okind, cat)], o.density))
        out[(okind, cat)] = t
    return out


def _residuals(
    theta: np.ndarray, regions: Sequence[RegionData], kind: str, direct: bool = DIRECT
) -> np.ndarray:
    """Weighted relative errors of every observation of the training regions.

    Each region weighs the same, and within a region each band of the true time
    (:data:`BANDS`) weighs the same, its people in proportion to their number: the
    targets are per band, and short trips (most people) would otherwise drown the rest.
    """
    factors, access = split(theta)
    parts = []
    for data in regions:
        pred = predict(data, factors, access, direct=direct)
        keys = [k for k in data.pairs() if k[0] == kind]
        f = np.concatenate([data.truth_s[k] for k in keys])
        c = np.concatenate([pred[k] for k in keys])
        w = np.concatenate([data.origins[kind].weight for _ in keys])
        ok = np.isfinite(f) & np.isfinite(c)
        f, c, w = f[ok], c[ok], w[ok]
        band = np.digitize(f / 60, [hi for _, hi in BANDS[:-1]])
        per_band = np.bincount(band, weights=w, minlength=len(BANDS))
        w = w / per_band[band] / np.count_nonzero(per_band)
        parts.append(np.sqrt(w) * (c - f) / np.maximum(f, SCALE_S))
    return np.concatenate(parts) if parts else np.zeros(1)


def fit(
    regions: Sequence[RegionData], *, kind: str = "cell", direct: bool = DIRECT
) -> np.ndarray:
    """Fit the parameter vector on the regions (population-weighted, robust loss)."""
    res = least_squares(
        _residuals, START, bounds=(LOWER, UPPER), args=(list(regions), kind, direct),
        loss="soft_l1", f_scale=0.05, diff_step=1e-3, max_nfev=400,
    )  # fmt: skip
    return res.x


def leave_one_out(
    regions: Mapping[str, RegionData], *, kind: str = "cell", direct: bool = DIRECT
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """For each region: the parameters fitted on all the *other* regions."""
    out = {}
    for held in regions:
        train = [code for code in regions if code != held]
        out[held] = (fit([regions[c] for c in train], kind=kind, direct=direct), train)
    return out


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    if not len(x):
        return float("nan")
    o = np.argsort(x)
    cw = np.cumsum(w[o])
    return float(x[o][np.searchsorted(cw, 0.5 * cw[-1])])


def band_stats(coarse_min: np.ndarray, full_min: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """Errors by band of the true time: weighted mean signed % and median absolute."""
    rows = []
    err = coarse_min - full_min
    for lo, hi in ((0, 10), (10, np.inf), *BANDS):
        m = (full_min >= lo) & (full_min < hi)
        sw = float(w[m].sum())
        fsum = float((w[m] * full_min[m]).sum())
        rel = 100 * np.abs(err[m]) / np.maximum(full_min[m], 1e-9)
        rows.append(
            {
                "band": f"{lo}-{hi:g}" if np.isfinite(hi) else f">{lo}",
                "n": int(m.sum()),
                "weight": sw,
                "mean_signed_pct": 100 * float((w[m] * err[m]).sum()) / fsum if fsum else np.nan,
                "median_abs_min": weighted_median(np.abs(err[m]), w[m]),
                "median_abs_pct": weighted_median(rel, w[m]),
            }
        )
    return pd.DataFrame(rows)


def share_stats(coarse_min: np.ndarray, full_min: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """Shares (%) of the weight beyond 5, 10, 20, 45 min on both, difference in points."""
    tot = float(w.sum())
    rows = []
    for t, tol in SHARE_THRESHOLDS.items():
        sf = 100 * float(w[full_min > t].sum()) / tot
        sc = 100 * float(w[coarse_min > t].sum()) / tot
        rows.append({"beyond_min": t, "share_full_pct": sf, "share_coarse_pct": sc,
                     "diff_pts": sc - sf, "tolerance_pts": tol})  # fmt: skip
    return pd.DataFrame(rows)


def _band_rows(region: str, model: str, c: np.ndarray, f: np.ndarray, w: np.ndarray) -> list:
    ok = np.isfinite(c) & np.isfinite(f)
    c, f, w = c[ok] / 60, f[ok] / 60, w[ok]
    rows = []
    for r in band_stats(c, f, w).to_dict("records"):
        rows.append({"region": region, "model": model, "statistic": "band", **r})
    for r in share_stats(c, f, w).to_dict("records"):
        rows.append({"region": region, "model": model, "statistic": "share", **r})
    return rows


def error_table(
    regions: Mapping[str, RegionData],
    models: Mapping[str, tuple[Mapping[str, np.ndarray], bool]],
    *,
    kind: str = "cell",
    category: str | None = None,
) -> pd.DataFrame:
    """Error statistics per region and pooled, for each model (``category``: one only).

    ``models[name] = (by_region, direct)``: ``by_region[code]`` is the parameter vector
    used *for that region* (for held-out errors: the one fitted without it), ``direct``
    whether trips may skip the numbered roads (:func:`predict`). Pooled rows put every region's
    observations together, each region's population as it is.
    """
    rows = []
    for name, (by_region, direct) in models.items():
        pool_c, pool_f, pool_w = [], [], []
        for code, data in regions.items():
            factors, access = split(by_region[code])
            pred = predict(data, factors, access, direct=direct)
            keys = [k for k in data.pairs() if k[0] == kind and category in (None, k[1])]
            if not keys:
                continue
            c = np.concatenate([pred[k] for k in keys])
            f = np.concatenate([data.truth_s[k] for k in keys])
            w = np.concatenate([data.origins[kind].weight for _ in keys])
            rows += _band_rows(code, name, c, f, w)
            pool_c.append(c)
            pool_f.append(f)
            pool_w.append(w)
        if not pool_c:
            continue
        rows += _band_rows("pooled", name, np.concatenate(pool_c), np.concatenate(pool_f),
                           np.concatenate(pool_w))  # fmt: skip
    return pd.DataFrame(rows)


def today_theta(sinuosity: Mapping[str, float]) -> np.ndarray:
    """Today's model as a parameter vector: piece factors, 15 km/h straight access."""
    return np.array([*(sinuosity[c] for c in CLASSES), TODAY.t0_s, TODAY.v_rural_kph,
                     TODAY.v_urban_kph, TODAY.exponent])  # fmt: skip
