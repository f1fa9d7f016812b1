"""Many-to-many searches in bounded blocks: the memory model of the OD engine.

Owns: the CSR matrix of the network (:func:`graph_matrix`), the virtual sources that
carry each point's links (:func:`with_virtual_sources`), and :func:`destination_blocks`,
which yields the origin × destination travel times a block of destinations at a time,
so that no caller ever needs the whole dense table.

Memory model (``n`` network nodes, ``m_o`` origins, ``m_d`` destinations, ``k`` the
destinations of one block):

* held for the whole call: the reversed CSR matrix with ``m_d`` virtual nodes appended
  (about 12 bytes per edge), the snapped points (a few arrays of ``m_o + m_d``) and the
  pairs on the same road piece (usually about ``m_o``);
* held for one block: scipy's Dijkstra output, ``k × (n + m_d)`` float64 (scipy always
  returns every node's distance), then the block of totals, ``k × m_o`` float64, and at
  most three temporaries of that size while it is assembled;
* ``k`` is the largest count that keeps one block within ``block_mb`` megabytes
  (:data:`DEFAULT_BLOCK_MB`, 256 MB), counting ``8 × (n + m_d + 4 m_o)`` bytes per
  destination; at least one destination per block.

The time limit is applied inside the searches (Dijkstra stops at it, scipy's
``limit``), then to the totals of the block, so what a caller keeps of a block is only
what lies within the limit: :func:`accessibility.engine.travel_times.od_pairs` keeps
the reachable pairs only (12 bytes a pair; about 32 bytes a pair for a moment at the
end, while they are put in origin order), ``od_matrix`` writes each block straight
into its one output array, ``k_nearest`` keeps a running ``k × m_o`` best.

The block times are exactly those of a single whole-table computation (same
floating-point operations, in the same order, for each pair): chunking changes the
memory, not the numbers.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from accessibility.core import columns as C
from accessibility.engine.snapping import _Snap, same_piece_s, straight_trip_s
from accessibility.network.graph import RoadNetwork

#: Default memory budget of one block of searches, in megabytes.
DEFAULT_BLOCK_MB = 256.0

#: Added to the weights of a virtual source's edges (csgraph reads 0 as "no edge"), and
#: subtracted from the times found.
SHIFT = 1.0

#: float64 arrays of one destination's row held at once while a block is assembled
#: (the Dijkstra row counts apart): the two link gathers, their minimum, the straight-
#: trip distances.
_ROWS_PER_DESTINATION = 4

_REVERSED: weakref.WeakKeyDictionary[RoadNetwork, sp.csr_matrix] = weakref.WeakKeyDictionary()


def graph_matrix(net: RoadNetwork, *, reverse: bool = False) -> sp.csr_matrix:
    """The CSR matrix of travel times in seconds, reversed (transposed) if asked."""
    if not reverse:
        return net.csr(C.TRAVEL_TIME_S)
    if net not in _REVERSED:
        _REVERSED[net] = net.csr(C.TRAVEL_TIME_S).T.tocsr()
    return _REVERSED[net]


def best_per_node(src: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Positions in ``src`` of the smallest offset at each distinct node (first on ties)."""
    order = np.lexsort((np.arange(len(src)), off, src))
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = src[order][1:] != src[order][:-1]
    return order[keep]


def flat_links(nodes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The finite links of (m, 2) link arrays, flat: nodes, times and the point of each."""
    ok = np.isfinite(times)
    owner = np.broadcast_to(np.arange(len(nodes))[:, None], nodes.shape)
    return nodes[ok], times[ok], owner[ok]


def with_virtual_sources(
    A: sp.csr_matrix, nodes: np.ndarray, offsets: np.ndarray, owner: np.ndarray, k: int
) -> sp.csr_matrix:
    """``A`` with ``k`` virtual nodes appended (rows n .. n+k-1), virtual node j linked to
    ``nodes[owner == j]`` by edges of ``offsets + SHIFT`` (they have no incoming edge, so
    a search from one of them is a search from its links with their start times)."""
    n = A.shape[0]
    keep = best_per_node(owner * n + nodes, offsets)  # one edge per (virtual, node) pair
    nodes, offsets, owner = nodes[keep], offsets[keep], owner[keep]
    order = np.lexsort((nodes, owner))
    counts = np.bincount(owner, minlength=k)
    return sp.csr_matrix(
        (
            np.concatenate([A.data, offsets[order] + SHIFT]),
            np.concatenate([A.indices, nodes[order]]),
            np.concatenate([A.indptr, A.nnz + np.cumsum(counts)]),
        ),
        shape=(n + k, n + k),
    )


def same_piece_pairs(origins: _Snap, destinations: _Snap) -> tuple[np.ndarray, np.ndarray]:
    """Positions (origin, destination) of the pairs on the same piece (or same node when
    snapped to nodes): the only pairs that may be joined directly."""

    def key(s: _Snap) -> np.ndarray:
        return np.where(s.piece >= 0, s.piece, -1 - s.node)

    # an equi-join on the key with numpy's sorted search (a pandas merge costs ~3 ms a
    # call, and the diagnostic calls this once per category and gamme type)
    ko, kd = key(origins), key(destinations)
    order = np.argsort(kd, kind="stable")
    lo = np.searchsorted(kd[order], ko, side="left")
    counts = np.searchsorted(kd[order], ko, side="right") - lo
    io = np.repeat(np.arange(len(ko), dtype=np.int64), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    jd = order[np.repeat(lo, counts) + np.arange(int(counts.sum())) - first]
    return io, jd.astype(np.int64)


def block_size(n_nodes: int, n_origins: int, n_destinations: int, block_mb: float) -> int:
    """Destinations per block so that one block stays within ``block_mb`` megabytes
    (see the module docstring), at least 1."""
    if not block_mb > 0:
        raise ValueError(f"block_mb must be > 0 megabytes, got {block_mb}")
    per_destination = 8 * (n_nodes + n_destinations + _ROWS_PER_DESTINATION * n_origins)
    return max(1, int(block_mb * 2**20 // max(per_destination, 1)))


def _add_direct_trips(
    total: np.ndarray, osnap: _Snap, dsnap: _Snap, start: int, same: tuple[np.ndarray, ...]
) -> None:
    """Same-piece drives and straight trips off the network (when the origins' access
    model allows them) into the block of destinations ``start ..``, in place."""
    io, jd, direct = same
    if len(io):
        lo, hi = np.searchsorted(jd, [start, start + len(total)])
        np.minimum.at(total, (jd[lo:hi] - start, io[lo:hi]), direct[lo:hi])
    if np.isfinite(osnap.direct_mps).any():  # see travel_times._straight_to_nearest
        xy = dsnap.xy[start : start + len(total)]
        dx, dy = xy[:, 0, None] - osnap.xy[None, :, 0], xy[:, 1, None] - osnap.xy[None, :, 1]
        dist = np.hypot(dx, dy)
        del dx, dy
        np.minimum(total, straight_trip_s(osnap, dist), out=total)


def destination_blocks(
    net: RoadNetwork,
    osnap: _Snap,
    dsnap: _Snap,
    limit_s: float | None,
    block_mb: float = DEFAULT_BLOCK_MB,
) -> Iterator[tuple[int, np.ndarray]]:
    """The total times from every origin to each destination, a block at a time.

    One search per destination on the reversed graph, from a virtual node standing for
    its links; each origin takes the better of its two links; pairs on the same piece
    may also drive directly, and straight trips apply when the access model allows.

    Yields
    ------
    start : int
        Position of the block's first destination.
    times : numpy.ndarray
        ``(k, n_origins)`` float64 seconds for destinations ``start .. start + k - 1``;
        ``inf`` when unreached or beyond ``limit_s``. The array is the caller's.
    """
    n, md, mo = net.n_nodes, len(dsnap), len(osnap)
    nodes, offs, owner = flat_links(dsnap.in_node, dsnap.in_s)
    A = with_virtual_sources(graph_matrix(net, reverse=True), nodes, offs, owner, md)
    limit = np.inf if limit_s is None else float(limit_s) + SHIFT
    on, os_ = osnap.out_node, osnap.out_s
    io, jd = same_piece_pairs(osnap, dsnap)
    order = np.argsort(jd, kind="stable")
    io, jd = io[order], jd[order]
    same = (io, jd, same_piece_s(osnap, dsnap, io, jd) if len(io) else np.empty(0))
    k = block_size(n, mo, md, block_mb)
    for start in range(0, md, k):
        idx = np.arange(start, min(start + k, md)) + n
        block = dijkstra(A, directed=True, indices=idx, limit=limit)  # (k, n + md)
        total = np.minimum(block[:, on[:, 0]] + os_[:, 0], block[:, on[:, 1]] + os_[:, 1])
        del block
        total -= SHIFT
        _add_direct_trips(total, osnap, dsnap, start, same)
        if limit_s is not None:
            total[total > limit_s] = np.inf
        yield start, total


def ceil_float32(values: np.ndarray) -> np.ndarray:
    """``values`` as float32, each rounded *up* to the nearest float32 at or above it.

    Rounding up keeps every comparison ``t <= edge`` exactly as in float64 for any edge
    that float32 represents (every whole number of minutes, halves, quarters ...): if
    ``t <= edge`` the smallest float32 at or above ``t`` is at most ``edge``; if ``t >
    edge`` it is above. So step and banded decays weigh float32 times exactly as float64
    ones. The error is below one float32 step: 2**-13 min (0.007 s) under 2,048 min.
    """
    v = np.asarray(values, dtype=np.float64)
    out = v.astype(np.float32)
    low = out.astype(np.float64) < v
    out[low] = np.nextafter(out[low], np.float32(np.inf))
    return out


__all__ = [
    "DEFAULT_BLOCK_MB",
    "block_size",
    "ceil_float32",
    "destination_blocks",
    "graph_matrix",
    "with_virtual_sources",
]
