"""The cost matrix of the siting models and the checks of their inputs."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accessibility.core.errors import DataError, DataWarning, DuplicateIdError
from accessibility.engine.matrix import to_matrix


def _sample(ids: Sequence[Hashable] | pd.Index, k: int = 10) -> str:
    ids = list(ids)
    more = f" (and {len(ids) - k} more)" if len(ids) > k else ""
    return ", ".join(map(repr, ids[:k])) + more


@dataclass(frozen=True)
class CostMatrix:
    """Travel times from demand points (rows) to candidate sites (columns).

    Parameters
    ----------
    times
        ``(n_demand, n_candidates)`` travel times in minutes. Unreachable: NaN or ``inf``
        (the dense-matrix rule of :mod:`accessibility.engine.matrix`); the siting models
        store it as NaN: a demand point that reaches no candidate is left out of the
        model with a warning naming it and its weight, and an unreachable pair never
        serves.
    demand_ids, candidate_ids
        The row and column ids (unique).
    """

    times: np.ndarray
    demand_ids: pd.Index
    candidate_ids: pd.Index

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=np.float64)
        if times.ndim != 2:
            raise DataError(f"cost matrix: expected a 2-D array, got {times.ndim} dimension(s)")
        demand_ids = pd.Index(self.demand_ids)
        candidate_ids = pd.Index(self.candidate_ids)
        if times.shape != (len(demand_ids), len(candidate_ids)):
            raise DataError(
                f"cost matrix: shape {times.shape} does not match {len(demand_ids)} demand "
                f"id(s) × {len(candidate_ids)} candidate id(s)"
            )
        for name, ids in (("demand", demand_ids), ("candidate", candidate_ids)):
            if ids.has_duplicates:
                raise DuplicateIdError(
                    f"cost matrix: {name} ids must be unique; duplicated: "
                    f"{_sample(ids[ids.duplicated()].unique())}"
                )
        times = np.where(np.isposinf(times), np.nan, times)  # the siting rule: NaN
        negative = np.argwhere(times < 0)
        if len(negative):
            i, j = negative[0]
            raise DataError(
                f"cost matrix: {len(negative)} negative travel time(s), e.g. "
                f"{times[i, j]} min from demand {demand_ids[i]!r} to candidate "
                f"{candidate_ids[j]!r}; times must be >= 0 (NaN for unreachable)"
            )
        times.setflags(write=False)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "demand_ids", demand_ids)
        object.__setattr__(self, "candidate_ids", candidate_ids)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_demand, n_candidates)``."""
        return self.times.shape  # type: ignore[return-value]

    @classmethod
    def from_array(cls, times: np.ndarray) -> CostMatrix:
        """Wrap a matrix whose ids are its row and column positions (0, 1, ...)."""
        times = np.asarray(times, dtype=np.float64)
        if times.ndim != 2:
            raise DataError(f"cost matrix: expected a 2-D array, got {times.ndim} dimension(s)")
        return cls(times, pd.RangeIndex(times.shape[0]), pd.RangeIndex(times.shape[1]))

    @classmethod
    def from_long(
        cls,
        table: pd.DataFrame,
        *,
        demand_ids: Sequence[Hashable] | pd.Index | None = None,
        candidate_ids: Sequence[Hashable] | pd.Index | None = None,
    ) -> CostMatrix:
        """Build the matrix from a long travel-time table.

        Parameters
        ----------
        table
            Columns ``origin_id`` (demand), ``destination_id`` (candidate) and
            ``travel_time_min`` (NaN, ``inf`` or a missing pair: unreachable), turned
            into a matrix by :func:`accessibility.engine.matrix.to_matrix`.
        demand_ids, candidate_ids
            The rows and columns, in this order. By default the origins and the
            destinations of the table, in order of first appearance. An id given here
            that the table lacks gives an all-NaN row or column; a table id missing
            here is an error.
        """
        tm = to_matrix(
            table, row_ids=demand_ids, column_ids=candidate_ids, where="travel-time table"
        )
        return cls(tm.times, tm.row_ids, tm.column_ids)


def as_cost_matrix(
    costs: CostMatrix | pd.DataFrame | np.ndarray, weights: pd.Series | np.ndarray
) -> CostMatrix:
    """Turn the public ``costs`` argument into a :class:`CostMatrix`.

    A long table takes its demand ids from ``weights`` when it is a Series.
    """
    if isinstance(costs, CostMatrix):
        return costs
    if isinstance(costs, pd.DataFrame):
        ids = weights.index if isinstance(weights, pd.Series) else None
        return CostMatrix.from_long(costs, demand_ids=ids)
    if isinstance(costs, np.ndarray):
        return CostMatrix.from_array(costs)
    raise TypeError(
        "costs: expected a CostMatrix, a long travel-time DataFrame or a 2-D numpy array, "
        f"got {type(costs).__name__}"
    )


def per_id(
    values: pd.Series | np.ndarray | Sequence[float],
    ids: pd.Index,
    *,
    name: str,
    of: str,
    allow_zero: bool = True,
) -> np.ndarray:
    """Align ``values`` (a Series by id, or an array in row order) on ``ids``; check >= 0."""
    if isinstance(values, pd.Series):
        missing = ids.difference(values.index)
        extra = values.index.difference(ids)
        if len(missing) or len(extra):
            raise DataError(
                f"{name}: the index must hold the {len(ids)} {of} ids of the cost matrix; "
                f"missing: {_sample(missing) or 'none'}; unknown: {_sample(extra) or 'none'}"
            )
        if values.index.has_duplicates:
            raise DuplicateIdError(
                f"{name}: duplicated ids {_sample(values.index[values.index.duplicated()])}"
            )
        arr = values.reindex(ids).to_numpy(dtype=np.float64)
    else:
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (len(ids),):
            raise DataError(
                f"{name}: expected {len(ids)} value(s), one per {of} (the cost matrix has "
                f"{len(ids)}), got shape {arr.shape}"
            )
    bad = ~np.isfinite(arr) | (arr < 0) | ((arr == 0) & (not allow_zero))
    if bad.any():
        expected = ">= 0" if allow_zero else "> 0"
        raise DataError(
            f"{name}: {int(bad.sum())} value(s) are not finite numbers {expected}, e.g. "
            f"{arr[bad][0]} for {of} {ids[bad][0]!r}"
        )
    return arr


def check_p(p: int, n_free: int, n_existing: int) -> None:
    """Check the number of new sites against the candidates that are not already open."""
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1:
        raise DataError(f"p: expected a whole number of new sites >= 1, got {p!r}")
    if p > n_free:
        raise DataError(
            f"p: {p} new site(s) asked for but only {n_free} candidate(s) are not already "
            f"open ({n_existing} existing)"
        )


def check_threshold(threshold_min: float) -> float:
    """Check a coverage threshold in minutes."""
    t = float(threshold_min)
    if not np.isfinite(t) or t < 0:
        raise DataError(
            f"threshold_min: expected a finite number of minutes >= 0, got {threshold_min!r}"
        )
    return t


def existing_positions(existing: Sequence[Hashable], candidate_ids: pd.Index) -> np.ndarray:
    """Column positions of the existing (always open) sites."""
    if isinstance(existing, str | bytes):
        raise TypeError("existing: expected a sequence of candidate ids, got a single string")
    existing = list(existing)
    pos = candidate_ids.get_indexer(existing) if existing else np.array([], dtype=np.intp)
    if (pos < 0).any():
        unknown = [e for e, q in zip(existing, pos, strict=True) if q < 0]
        raise DataError(
            f"existing: {len(unknown)} id(s) are not candidate ids of the cost matrix: "
            f"{_sample(unknown)}"
        )
    if len(set(pos.tolist())) != len(pos):
        raise DuplicateIdError(f"existing: duplicated ids in {_sample(existing)}")
    return np.sort(pos)


def drop_unreachable(
    times: np.ndarray, weights: np.ndarray, demand_ids: pd.Index, *, model: str
) -> np.ndarray:
    """Rows that reach at least one candidate; warn naming the others and their weight."""
    unreachable = np.isnan(times).all(axis=1)
    if unreachable.any():
        warnings.warn(
            f"{model}: {int(unreachable.sum())} demand point(s) reach no candidate site "
            f"(all travel times NaN) and are left out of the model, total weight "
            f"{weights[unreachable].sum():g}: {_sample(demand_ids[unreachable])}",
            DataWarning,
            stacklevel=3,
        )
    return ~unreachable
