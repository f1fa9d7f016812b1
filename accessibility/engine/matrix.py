"""Long travel-time tables and dense matrices, one converter both ways.

Owns: :func:`to_matrix` (long table → dense matrix) and :func:`to_long` (the reverse),
used by every model that needs a matrix (siting, itinerant tours), and
:class:`SparseTimes`, the reachable pairs only, by position (what
:func:`accessibility.engine.travel_times.od_pairs` returns for large territories: 12
bytes a reachable pair in float32, where the long table takes 24 bytes for *every*
pair, reachable or not, plus its id objects).

The rule for unreachable pairs, in one place:

* in a **long table** (``origin_id``, ``destination_id``, ``travel_time_min``, as
  :func:`accessibility.engine.travel_times.od_matrix` writes it) an unreachable pair is
  NaN, ``inf`` or simply absent;
* in a **dense matrix** it is ``inf`` (the IEEE "no path", so ``min`` along an axis
  works and no unreachable pair can pass for a number);
* :func:`to_long` writes ``inf`` back as NaN, like ``od_matrix``.

What unreachable *means* is the caller's decision, not this module's: the siting models
drop demand that reaches no site (:mod:`accessibility.planning.siting`), an itinerant
tour sets aside a stop it cannot reach (:mod:`accessibility.planning.tours`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DuplicateIdError
from accessibility.core.validate import require_columns

_COLUMNS = (C.ORIGIN_ID, C.DESTINATION_ID, C.TRAVEL_TIME_MIN)


@dataclass(frozen=True, eq=False)
class TimeMatrix:
    """A dense travel-time matrix in minutes, ``inf`` where unreachable."""

    times: np.ndarray
    """``(len(row_ids), len(column_ids))`` float minutes; ``inf``: unreachable."""
    row_ids: pd.Index
    """Origin ids, one per row."""
    column_ids: pd.Index
    """Destination ids, one per column."""


@dataclass(frozen=True, eq=False)
class SparseTimes:
    """The reachable pairs of a travel-time table, as positions into two id indexes.

    An unreachable pair (or one beyond the limit it was computed with) is simply absent.
    Checked on construction: lengths, positions within the indexes, unique ids, unique
    pairs, times finite and >= 0.
    """

    origin_ids: pd.Index
    """Every origin, reachable or not."""
    destination_ids: pd.Index
    """Every destination, reachable or not."""
    origin: np.ndarray
    """int32 position in ``origin_ids`` of each pair."""
    destination: np.ndarray
    """int32 position in ``destination_ids`` of each pair."""
    minutes: np.ndarray
    """float32 (rounded up, see :func:`accessibility.engine.blocks.ceil_float32`) or
    float64 minutes of each pair."""

    def __post_init__(self) -> None:
        where = "sparse travel times"
        n = len(self.minutes)
        if len(self.origin) != n or len(self.destination) != n:
            raise DataError(f"{where}: origin, destination and minutes differ in length")
        for name, ids, pos in (
            ("origin", self.origin_ids, self.origin),
            ("destination", self.destination_ids, self.destination),
        ):
            if ids.has_duplicates:
                raise DuplicateIdError(f"{where}: {name} ids must be unique")
            if n and (pos.min() < 0 or pos.max() >= len(ids)):
                raise DataError(f"{where}: {name} positions must lie in 0..{len(ids) - 1}")
        if n and not (np.isfinite(self.minutes).all() and self.minutes.min() >= 0):
            raise DataError(f"{where}: minutes must be finite and >= 0 (absent: unreachable)")
        key = self.origin.astype(np.int64) * len(self.destination_ids) + self.destination
        if not (np.diff(key) > 0).all() and (np.diff(np.sort(key)) == 0).any():
            raise DuplicateIdError(f"{where}: an (origin, destination) pair appears twice")

    def __len__(self) -> int:
        return len(self.minutes)

    @property
    def nbytes(self) -> int:
        """Bytes held by the pairs (the id indexes apart)."""
        return self.origin.nbytes + self.destination.nbytes + self.minutes.nbytes

    def to_long(self) -> pd.DataFrame:
        """The long table of the pairs (float64 minutes), in their order; no NaN rows."""
        return pd.DataFrame(
            {
                C.ORIGIN_ID: self.origin_ids.to_numpy()[self.origin],
                C.DESTINATION_ID: self.destination_ids.to_numpy()[self.destination],
                C.TRAVEL_TIME_MIN: self.minutes.astype(np.float64),
            }
        )


def _sample(values: Sequence[Hashable] | pd.Index | np.ndarray, k: int = 5) -> str:
    vals = list(values)
    more = f" (and {len(vals) - k} more)" if len(vals) > k else ""
    return ", ".join(map(repr, vals[:k])) + more


def _minutes(table: pd.DataFrame, where: str) -> np.ndarray:
    raw = table[C.TRAVEL_TIME_MIN]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & raw.notna().to_numpy()
    if bad.any():
        raise DataError(
            f"{where}: column {C.TRAVEL_TIME_MIN!r} must hold numbers of minutes (NaN for "
            f"unreachable); {int(bad.sum())} do not, e.g. {raw[bad].iloc[0]!r}"
        )
    negative = values < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise DataError(
            f"{where}: {int(negative.sum())} negative travel time(s), e.g. {values[i]:g} min "
            f"from {table[C.ORIGIN_ID].iloc[i]!r} to {table[C.DESTINATION_ID].iloc[i]!r}"
        )
    return np.where(np.isnan(values), np.inf, values)


def _positions(ids: pd.Index, values: pd.Series, where: str, what: str) -> np.ndarray:
    pos = ids.get_indexer(values)
    if (pos < 0).any():
        unknown = values[pos < 0].unique()
        raise DataError(
            f"{where}: {len(unknown)} {values.name} value(s) are not among the given "
            f"{what} ids: {_sample(unknown)}"
        )
    return pos


def to_matrix(
    table: pd.DataFrame,
    *,
    row_ids: Sequence[Hashable] | pd.Index | None = None,
    column_ids: Sequence[Hashable] | pd.Index | None = None,
    square: bool = False,
    where: str = "travel-time table",
) -> TimeMatrix:
    """The dense matrix of a long travel-time table; unreachable pairs are ``inf``.

    Parameters
    ----------
    table
        ``origin_id``, ``destination_id``, ``travel_time_min`` (minutes; NaN, ``inf`` or
        a missing pair: unreachable).
    row_ids, column_ids
        The rows and columns, in this order. By default the table's origins and
        destinations in order of first appearance. An id given here that the table
        lacks gives an all-``inf`` row or column; a table id missing here is an error.
    square
        One id set for rows and columns (origins then destinations, in order of first
        appearance), e.g. town hall × town hall; ``row_ids``/``column_ids`` not allowed.
    where
        What the table is, for the error messages.

    Raises
    ------
    MissingColumnError, DuplicateIdError, DataError
        A column missing, a pair given twice, an id not among the given ids, a time that
        is not a number or is negative.
    """
    require_columns(table, _COLUMNS, where=where)
    pairs = table[[C.ORIGIN_ID, C.DESTINATION_ID]]
    dup = pairs.duplicated()
    if dup.any():
        o, d = pairs[dup].iloc[0]
        raise DuplicateIdError(
            f"{where}: {int(dup.sum())} duplicate (origin_id, destination_id) pair(s), "
            f"e.g. ({o!r}, {d!r})"
        )
    minutes = _minutes(table, where)
    if square:
        if row_ids is not None or column_ids is not None:
            raise DataError(f"{where}: a square matrix takes its ids from the table")
        rows = cols = pd.Index(pd.unique(pd.concat([pairs[C.ORIGIN_ID], pairs[C.DESTINATION_ID]])))
    else:
        rows = pd.Index(pairs[C.ORIGIN_ID].unique() if row_ids is None else row_ids)
        cols = pd.Index(pairs[C.DESTINATION_ID].unique() if column_ids is None else column_ids)
    for name, ids in (("row", rows), ("column", cols)):
        if ids.has_duplicates:
            raise DuplicateIdError(
                f"{where}: {name} ids must be unique; duplicated: "
                f"{_sample(ids[ids.duplicated()].unique())}"
            )
    i = _positions(rows, pairs[C.ORIGIN_ID], where, "origin")
    j = _positions(cols, pairs[C.DESTINATION_ID], where, "destination")
    times = np.full((len(rows), len(cols)), np.inf)
    times[i, j] = minutes
    return TimeMatrix(times, rows, cols)


def to_long(
    times: np.ndarray,
    row_ids: Sequence[Hashable] | pd.Index,
    column_ids: Sequence[Hashable] | pd.Index,
) -> pd.DataFrame:
    """The long table of a dense matrix, row by row; ``inf`` (unreachable) becomes NaN.

    Returns
    -------
    pandas.DataFrame
        ``origin_id``, ``destination_id``, ``travel_time_min`` (NaN: unreachable), one row
        per pair, as :func:`accessibility.engine.travel_times.od_matrix` writes it.
    """
    t = np.asarray(times, dtype=float)
    rows, cols = pd.Index(row_ids), pd.Index(column_ids)
    if t.shape != (len(rows), len(cols)):
        raise DataError(
            f"travel-time matrix: shape {t.shape} does not match {len(rows)} row id(s) × "
            f"{len(cols)} column id(s)"
        )
    flat = t.ravel()
    return pd.DataFrame(
        {
            C.ORIGIN_ID: np.repeat(rows.to_numpy(), len(cols)),
            C.DESTINATION_ID: np.tile(cols.to_numpy(), len(rows)),
            C.TRAVEL_TIME_MIN: np.where(np.isinf(flat), np.nan, flat),
        }
    )


__all__ = ["SparseTimes", "TimeMatrix", "to_long", "to_matrix"]
