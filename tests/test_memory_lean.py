"""The memory-lean engine: searches in blocks, limits inside the searches, float32 pairs,
catchments from the reachable pairs in chunks.

Hand-checked on the 5 × 5 grid of tests/tt_grid.py (1 minute per edge, so times between
nodes are Manhattan distances in minutes), then on the Maurienne: blocks of one
destination equal one block; a limit inside the searches equals a filter after;
float32 pairs are the float64 ones rounded up by less than one float32 step; 2SFCA,
E2SFCA and APL from the sparse pairs equal those of the long table exactly and, for
2SFCA, PySAL access.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from access import Access
from hypothesis import given, settings
from hypothesis import strategies as st
from tt_grid import X0, Y0, grid_network, manhattan_min, node_points, node_xy, points

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DuplicateIdError
from accessibility.engine.blocks import block_size, ceil_float32
from accessibility.engine.matrix import SparseTimes
from accessibility.engine.travel_times import k_nearest, od_matrix, od_pairs
from accessibility.indicators import catchment as K

N = 5
TINY = 1e-6  # megabytes: one destination per block
DEST_NODES = [12, 2, 10, 0, 24]
KW = {"origin_id": "oid", "destination_id": "did"}


@pytest.fixture(scope="module")
def grid():
    return grid_network(N)


def _origins():
    # every node, then a point on edge 0-1, 500 m east of node 0 (30 s from each end)
    nodes = node_points(list(range(N * N)), N, "oid")
    mid = points([(X0 + 500, Y0)], ["mid"], "oid")
    return pd.concat([nodes.astype({"oid": object}), mid], ignore_index=True)


def _destinations():
    # grid nodes, then a point on edge 0-1, 250 m east of node 0 (same piece as "mid")
    nodes = node_points(DEST_NODES, N, "did")
    quarter = points([(X0 + 250, Y0)], ["quarter"], "did")
    return pd.concat([nodes.astype({"did": object}), quarter], ignore_index=True)


def _hand_minutes() -> np.ndarray:
    """(origins, destinations) minutes worked out by hand."""
    t = np.empty((N * N + 1, len(DEST_NODES) + 1))
    for o in range(N * N):
        t[o, :-1] = [manhattan_min(o, d, N) for d in DEST_NODES]
        # to "quarter": to node 0 then 250 m (0.25 min), or to node 1 then 750 m back
        t[o, -1] = min(manhattan_min(o, 0, N) + 0.25, manhattan_min(o, 1, N) + 0.75)
    # from "mid": 0.5 min to node 0 or to node 1, then on; to "quarter" directly, 250 m
    t[-1, :-1] = [
        min(0.5 + manhattan_min(0, d, N), 0.5 + manhattan_min(1, d, N)) for d in DEST_NODES
    ]
    t[-1, -1] = 0.25
    return t


# --- blocks ------------------------------------------------------------------------------


def test_block_size_follows_the_budget():
    # 8 bytes × (n + m_d + 4 m_o) a destination: 8 × (1000 + 10 + 4 × 5000) = 168,080 B
    assert block_size(1000, 5000, 10, 168_080 * 3 / 2**20) == 3
    assert block_size(1000, 5000, 10, TINY) == 1
    with pytest.raises(ValueError, match="block_mb"):
        block_size(10, 10, 10, 0)


def test_od_matrix_in_blocks_of_one_equals_one_block_and_the_hand_values(grid):
    one = od_matrix(grid, _origins(), _destinations(), **KW)
    tiny = od_matrix(grid, _origins(), _destinations(), **KW, block_mb=TINY)
    pd.testing.assert_frame_equal(one, tiny, check_exact=True)
    got = one[C.TRAVEL_TIME_MIN].to_numpy().reshape(N * N + 1, -1)
    np.testing.assert_allclose(got, _hand_minutes(), rtol=0, atol=1e-9)


def test_k_nearest_in_blocks_keeps_ties_in_input_order(grid):
    # from node 0: node 0 (0 min), "quarter" (0.25), then nodes 2 and 10 tie at 2 min:
    # node 2 comes first in the destinations, so it ranks before node 10
    one = k_nearest(grid, _origins(), _destinations(), 4, **KW)
    tiny = k_nearest(grid, _origins(), _destinations(), 4, **KW, block_mb=TINY)
    pd.testing.assert_frame_equal(one, tiny, check_exact=True)
    first = tiny[tiny["origin_id"] == 0]
    assert first["destination_id"].tolist() == [0, "quarter", 2, 10]
    np.testing.assert_allclose(first[C.TRAVEL_TIME_MIN], [0.0, 0.25, 2.0, 2.0], atol=1e-9)


def test_a_limit_inside_the_searches_equals_a_filter_after(grid):
    full = od_matrix(grid, _origins(), _destinations(), **KW)
    after = full[full[C.TRAVEL_TIME_MIN] <= 3.0].reset_index(drop=True)
    for block_mb in (None, TINY):
        pairs = od_pairs(
            grid, _origins(), _destinations(), **KW, limit_min=3.0, dtype=np.float64,
            block_mb=block_mb,
        )  # fmt: skip
        pd.testing.assert_frame_equal(pairs.to_long(), after, check_dtype=False, check_exact=True)
    hand = _hand_minutes()
    assert len(after) == int((hand <= 3.0 + 1e-9).sum())


def test_od_pairs_skip_unreachable_pairs(grid):
    # node 25: a oneway dead end entered from node 4 only (4 -> 25, nothing out), so
    # from node 25 only itself is reached (a point to itself takes 0)
    spur = grid_network(N, extra=[((X0 + 5000, Y0), [(4, 25)])])
    origins = points([node_xy(0, N), node_xy(6, N), (X0 + 5000, Y0)], [0, 6, 25], "oid")
    dest = points([node_xy(0, N), (X0 + 5000, Y0)], ["home", "spur"], "did")
    long = od_pairs(spur, origins, dest, **KW).to_long()
    assert long[[C.ORIGIN_ID, C.DESTINATION_ID]].values.tolist() == [
        [0, "home"], [0, "spur"], [6, "home"], [6, "spur"], [25, "spur"],
    ]  # fmt: skip
    np.testing.assert_allclose(long[C.TRAVEL_TIME_MIN], [0, 5, 2, 5, 0], atol=1e-5)
    with pytest.raises(ValueError, match="float32 or numpy.float64"):
        od_pairs(grid, origins.iloc[:1], dest.iloc[:1], **KW, dtype=np.int32)


# --- float32 -----------------------------------------------------------------------------


def test_float32_resolution_of_times():
    # 10^5 s (28 h) lies in [2^16, 2^17): float32 steps of 2^(16-23) = 1/128 s < 0.01 s;
    # in minutes, 1,667 min lies in [2^10, 2^11): steps of 2^-13 min = 0.0073 s
    assert np.spacing(np.float32(1e5)) == 2.0**-7
    assert np.spacing(np.float32(1e5 / 60)) * 60 == pytest.approx(0.00732421875)
    minutes = np.linspace(0.0, 1e5 / 60, 100_001)
    up = ceil_float32(minutes).astype(np.float64) - minutes
    assert up.min() >= 0 and up.max() * 60 <= 0.0074


EDGES = [5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0]
DECAYS = [K.step(30.0), K.drees_apl(), K.luo_qi_2009(), K.drees_apl_2012()]


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(min_value=0.0, max_value=2000.0, allow_nan=False))
def test_ceil_float32_keeps_every_comparison_with_a_band_edge(t):
    near = np.array([t] + [f(e) for e in EDGES for f in (float, _below, _above)])
    r = ceil_float32(near)
    assert (r.astype(np.float64) >= near).all()
    # the smallest float32 at or above: one step down is below the float64 value
    assert (np.nextafter(r, np.float32(-np.inf)).astype(np.float64) < near).all()
    for e in EDGES:
        np.testing.assert_array_equal(r <= e, near <= e)
        np.testing.assert_array_equal(K.step(e)(r), K.step(e)(near))
    for decay in DECAYS:
        np.testing.assert_array_equal(decay(r), decay(near))


def _below(e: float) -> float:
    return float(np.nextafter(e, -np.inf))


def _above(e: float) -> float:
    return float(np.nextafter(e, np.inf))


# --- SparseTimes ------------------------------------------------------------------------


def _sparse(o, d, t, n_o=3, n_d=2) -> SparseTimes:
    return SparseTimes(
        pd.Index([f"o{i}" for i in range(n_o)]),
        pd.Index([f"s{j}" for j in range(n_d)]),
        np.asarray(o, np.int32),
        np.asarray(d, np.int32),
        np.asarray(t, np.float32),
    )


def test_sparse_times_are_checked():
    with pytest.raises(DuplicateIdError, match="pair appears twice"):
        _sparse([1, 0, 1], [0, 1, 0], [1, 2, 3])
    with pytest.raises(DataError, match=r"destination positions must lie in 0\.\.1"):
        _sparse([0], [2], [1.0])
    with pytest.raises(DataError, match="finite and >= 0"):
        _sparse([0], [0], [np.nan])
    s = _sparse([0, 2], [1, 0], [4.0, 6.5])
    assert s.nbytes == 2 * (4 + 4 + 4)
    assert s.to_long().values.tolist() == [["o0", "s1", 4.0], ["o2", "s0", 6.5]]


# --- catchments from the sparse pairs -----------------------------------------------------


def _instance(seed: int = 3):
    """40 origins × 12 sites with random times, a third beyond 30 minutes (dropped)."""
    rng = np.random.default_rng(seed)
    o_ids = pd.Index([f"o{i}" for i in range(40)])
    s_ids = pd.Index([f"s{j}" for j in range(12)])
    t = rng.uniform(0, 45, (40, 12)).round(2)  # (some exactly on band edges)
    t[0, :4] = [10.0, 15.0, 20.0, 30.0]
    o, d = np.nonzero(t <= 30)
    long = pd.DataFrame(
        {C.ORIGIN_ID: o_ids[o], C.DESTINATION_ID: s_ids[d], C.TRAVEL_TIME_MIN: t[o, d]}
    )
    sparse = SparseTimes(
        o_ids, s_ids, o.astype(np.int32), d.astype(np.int32), ceil_float32(t[o, d])
    )
    pop = pd.Series(rng.integers(0, 500, 40).astype(float), index=o_ids)
    supply = pd.Series(rng.integers(1, 6, 12).astype(float), index=s_ids)
    return long, sparse, pop, supply


@pytest.mark.parametrize("chunk", [K.CHUNK_PAIRS, 7])
def test_catchments_from_sparse_pairs_equal_the_long_table(chunk, monkeypatch):
    long, sparse, pop, supply = _instance()
    ref = {
        "2sfca": K.two_step_fca(long, pop, supply).by_origin[C.ACCESSIBILITY],
        "e2sfca": K.enhanced_two_step_fca(long, pop, supply).by_origin[C.ACCESSIBILITY],
        "apl": K.apl(long, pop, supply * 4000).by_origin[C.APL],
    }
    monkeypatch.setattr(K, "CHUNK_PAIRS", chunk)
    got = {
        "2sfca": K.two_step_fca(sparse, pop, supply).by_origin[C.ACCESSIBILITY],
        "e2sfca": K.enhanced_two_step_fca(sparse, pop, supply).by_origin[C.ACCESSIBILITY],
        "apl": K.apl(sparse, pop, supply * 4000).by_origin[C.APL],
    }
    for name in ref:
        if chunk > len(long):  # one chunk: the same sums in the same order
            np.testing.assert_array_equal(got[name].to_numpy(), ref[name].to_numpy())
        else:  # chunks' sums added: rounding only
            np.testing.assert_allclose(got[name], ref[name], rtol=1e-12, atol=0)
    theirs = (
        Access(
            demand_df=pop.rename("pop").rename_axis("geoid").to_frame(), demand_index=True,
            demand_value="pop", supply_df=supply.rename("cap").rename_axis("geoid").to_frame(),
            supply_index=True, supply_value="cap", cost_df=long, cost_origin=C.ORIGIN_ID,
            cost_dest=C.DESTINATION_ID, cost_name=C.TRAVEL_TIME_MIN,
        )
        .two_stage_fca(max_cost=30)
        .iloc[:, 0]
        .reindex(pop.index)
        .fillna(0.0)
    )  # fmt: skip
    np.testing.assert_allclose(got["2sfca"], theirs, rtol=1e-9, atol=0)


def test_catchment_names_a_sparse_id_missing_from_the_demand():
    _, sparse, pop, supply = _instance()
    with pytest.raises(DataError, match=r"origin id\(s\) that are not in the demand.*o5"):
        K.two_step_fca(sparse, pop.drop("o5"), supply)


# --- the Maurienne -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def maurienne_od(maurienne_study):
    from accessibility.inputs.population import demand_points

    s = maurienne_study
    cells = s.access_points(demand_points(s.layers.cells))
    services = s.layers.services.reset_index(drop=True)
    gp = services[services[C.CATEGORY] == "general_practitioner"]
    kw = {"origin_id": C.CELL_ID, "destination_id": C.SERVICE_ID, "snap": s.snap}
    return s, cells, services, gp, kw


@pytest.mark.integration
def test_maurienne_blocks_equal_one_block(maurienne_od):
    s, cells, services, _, kw = maurienne_od
    assert np.isfinite(s.snap.access_model.direct({}, 1)[1]).all()  # straight trips on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = od_matrix(s.network, cells, services, **kw, limit_min=45)
        blocks = od_matrix(s.network, cells, services, **kw, limit_min=45, block_mb=2)
        near = k_nearest(s.network, cells, services, 3, **kw)
        near_blocks = k_nearest(s.network, cells, services, 3, **kw, block_mb=2)
    assert block_size(s.network.n_nodes, len(cells), len(services), 2) < len(services) / 10
    pd.testing.assert_frame_equal(one, blocks, check_exact=True)
    pd.testing.assert_frame_equal(near, near_blocks, check_exact=True)
    assert 0.1 < one[C.TRAVEL_TIME_MIN].notna().mean() < 0.9  # both kinds of pairs


@pytest.mark.integration
def test_maurienne_limit_inside_equals_filter_after_and_float32(maurienne_od):
    s, cells, services, _, kw = maurienne_od
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = od_matrix(s.network, cells, services, **kw)
        exact = od_pairs(s.network, cells, services, **kw, limit_min=20, dtype=np.float64)
        single = od_pairs(s.network, cells, services, **kw, limit_min=20, block_mb=2)
    after = full[full[C.TRAVEL_TIME_MIN] <= 20].reset_index(drop=True)
    assert 0 < len(after) < len(full) / 2
    pd.testing.assert_frame_equal(exact.to_long(), after, check_exact=True)
    np.testing.assert_array_equal(single.origin, exact.origin)
    np.testing.assert_array_equal(single.destination, exact.destination)
    up = single.minutes.astype(np.float64) - exact.minutes
    assert up.min() >= 0 and up.max() <= np.spacing(np.float32(20.0))
    assert single.nbytes == 12 * len(single)


@pytest.mark.integration
def test_maurienne_catchments_from_pairs_equal_the_long_table(maurienne_od):
    # what the diagnostic did before (the long table without its NaN rows) and now
    s, cells, _, gp, kw = maurienne_od
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = s.access_points(gp)
        long = od_matrix(s.network, cells, sites, **kw, limit_min=30).dropna()
        pairs = od_pairs(s.network, cells, sites, **kw, limit_min=30)
        demand = cells.set_index(C.CELL_ID)[C.POP_TOTAL].astype(float)
        supply = gp.set_index(C.SERVICE_ID)[C.COUNT].astype(float)
        for fn in (K.two_step_fca, K.enhanced_two_step_fca):
            a = fn(long, demand, supply).by_origin[C.ACCESSIBILITY]
            b = fn(pairs, demand, supply).by_origin[C.ACCESSIBILITY]
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
            assert (a > 0).mean() > 0.5
        a = K.apl(long, demand, supply, decay=K.drees_apl()).by_origin[C.APL]
        b = K.apl(pairs, demand, supply, decay=K.drees_apl()).by_origin[C.APL]
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
