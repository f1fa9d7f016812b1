"""Tests of the largest strongly connected component and of the build cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accessibility.core.errors import NetworkWarning
from accessibility.network.build import cache_key, cached_network, largest_component
from accessibility.network.osm import read_osm

TINY = Path(__file__).parent / "fixtures" / "net_tiny.osm"


def test_largest_component_by_hand():
    # net_tiny.osm (see test_network_osm.py): strongly connected components are
    #   {1, 2, 3, 5, 7, 16}: ways 101, 103, 106, 113 are two-way -> 6 nodes, 10 edges;
    #   {4, 8, 10}: reached by the oneway 3->4 but with no way back;
    #   {11, 15}: left only by the oneway 11->10 and the motorway 15->16.
    net = read_osm(TINY)
    with pytest.warns(NetworkWarning, match=r"removed 5 of 11 nodes and 9 of 19 edges"):
        lc = largest_component(net)
    assert sorted(lc.nodes["osm_id"]) == [1, 2, 3, 5, 7, 16]
    assert lc.n_edges == 10
    assert list(lc.nodes.index) == list(range(6))
    removed = lc.meta["removed"]
    assert removed["n_nodes"] == 5 and removed["n_edges"] == 9
    assert removed["n_components"] == 2
    assert [p["n_nodes"] for p in removed["parts"]] == [3, 2]
    gone = net.edges[~net.edges["osm_way_id"].isin([101, 103, 106, 113])]
    assert removed["length_m"] == pytest.approx(gone["length_m"].sum())
    # renumbered edges still join the same OSM nodes
    osm = lc.nodes["osm_id"].to_numpy()
    pairs = set(zip(osm[lc.edges["u"]], osm[lc.edges["v"]], strict=True))
    assert (1, 2) in pairs and (16, 1) in pairs and (2, 5) in pairs


def test_largest_component_no_op_says_nothing():
    lc = largest_component(read_osm(TINY, bbox=(5.9, 44.9, 6.0025, 45.1)))
    # ways 101, 103, 106, 113 only: one component, nothing removed, no warning
    assert lc.meta["removed"]["n_nodes"] == 0 and lc.n_nodes == 6


def test_cache_builds_once_and_rebuilds_on_change(tmp_path):
    calls = []

    def builder(bbox=None):
        calls.append(1)
        return read_osm(TINY, bbox=bbox)

    key = {"source": TINY, "reader": "osm", "bbox": None}
    first = cached_network(key, builder, tmp_path)
    second = cached_network(key, builder, tmp_path)
    assert len(calls) == 1
    assert second.n_nodes == first.n_nodes and second.n_edges == first.n_edges
    np.testing.assert_allclose(second.edges["length_m"], first.edges["length_m"])
    assert second.edges.crs == first.edges.crs
    assert second.meta["ways"] == first.meta["ways"]
    assert second.edges.geometry.geom_equals(first.edges.geometry).all()
    # a changed parameter rebuilds
    bbox = (5.9, 44.9, 6.0025, 45.1)
    third = cached_network({**key, "bbox": list(bbox)}, lambda: builder(bbox), tmp_path)
    assert len(calls) == 2 and third.n_nodes == 6
    # no temporary folder left behind
    assert sorted(p.name.startswith("network-") for p in tmp_path.iterdir()) == [True, True]


def test_cache_key_follows_file_content(tmp_path):
    f = tmp_path / "a.osm"
    f.write_text("one", encoding="utf-8")
    k1 = cache_key({"source": f})
    f.write_text("two", encoding="utf-8")
    assert cache_key({"source": f}) != k1
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})
