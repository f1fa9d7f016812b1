"""Inputs of an itinerant tour: the parameters, the travel-time matrix, the stops.

Owns: the checks of :func:`accessibility.planning.tours.plan_tour`'s arguments
(:func:`check_parameters`, :func:`candidates`), its travel-time matrix
(:func:`time_matrix`: where a tour decides what "unreachable" means) and the small
helpers of its messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.validate import require_columns, require_unique
from accessibility.engine.matrix import to_matrix


def check_parameters(
    days: int, day_minutes: float, stop_minutes: float, time_limit_s: float, visits: int
) -> None:
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise DataError(f"days must be a whole number ≥ 1, got {days!r}")
    if not math.isfinite(day_minutes) or day_minutes <= 0:
        raise DataError(f"day_minutes must be a positive duration, got {day_minutes!r}")
    if not math.isfinite(stop_minutes) or stop_minutes < 0:
        raise DataError(f"stop_minutes must be a duration ≥ 0, got {stop_minutes!r}")
    if not time_limit_s > 0:
        raise DataError(f"time_limit_s must be positive, got {time_limit_s!r}")
    if isinstance(visits, bool) or not isinstance(visits, int | np.integer) or visits < 1:
        raise DataError(f"visits_per_week must be a whole number ≥ 1, got {visits!r}")
    if visits > days:
        raise DataError(
            f"visits_per_week ({visits}) cannot exceed the number of days ({days}): "
            "the visits of a stop fall on different days"
        )


def time_matrix(
    times: np.ndarray | pd.DataFrame, ids: Sequence[Hashable] | None
) -> tuple[pd.Index, np.ndarray]:
    """The ids and the square float matrix of minutes, NaN where unreachable.

    A long table goes through :func:`accessibility.engine.matrix.to_matrix` (square:
    one id set for origins and destinations), whose ``inf`` marks the unreachable pairs.
    For a tour an unreachable pair is NaN: a stop that cannot be reached from or back to
    the depot is set aside with a warning, and an unreachable arc between two stops is
    priced over any day's budget (see :func:`accessibility.planning.tours.plan_tour`). A
    missing self-pair counts as 0 (a place to itself).
    """
    if isinstance(times, pd.DataFrame):
        if ids is not None:
            raise DataError("ids is only for an array of times; a table carries its own ids")
        tm = to_matrix(times, square=True)
        index, matrix = tm.row_ids, tm.times.copy()
        diag = np.diagonal(matrix).copy()
        np.fill_diagonal(matrix, np.where(np.isinf(diag), 0.0, diag))
    elif isinstance(times, np.ndarray):
        matrix = np.array(times, dtype=float)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise DataError(f"travel times: expected a square matrix, got shape {matrix.shape}")
        index = pd.Index(range(len(matrix)) if ids is None else list(ids))
        if len(index) != len(matrix):
            raise DataError(f"ids: {len(index)} ids for a {len(matrix)} × {len(matrix)} matrix")
        if index.has_duplicates:
            raise DataError(f"ids: duplicate ids {sample(index[index.duplicated()].unique())}")
    else:
        raise DataError(
            "travel times: expected a long table (origin_id, destination_id, "
            f"travel_time_min) or a square numpy array, got {type(times).__name__}"
        )
    matrix[np.isinf(matrix)] = np.nan  # the tour's rule: NaN = unreachable
    neg = np.argwhere(matrix < 0)
    if len(neg):
        i, j = neg[0]
        raise DataError(
            f"travel times: {len(neg)} negative duration(s), e.g. {matrix[i, j]:g} min "
            f"from {index[i]!r} to {index[j]!r}"
        )
    return index, matrix


def candidates(stops: pd.DataFrame, index: pd.Index, stop_minutes: float) -> pd.DataFrame:
    """The candidate stops with every column filled in and checked."""
    where = "stops"
    require_columns(stops, [C.STOP_ID, C.POPULATION], where=where)
    require_unique(stops, C.STOP_ID, where=where)
    if stops.empty:
        raise DataError("stops: no candidate stop given")
    cand = pd.DataFrame({C.STOP_ID: stops[C.STOP_ID].to_numpy()})
    absent = ~cand[C.STOP_ID].isin(index)
    if absent.any():
        raise DataError(
            f"stops: {int(absent.sum())} stop_id(s) not in the travel-time matrix: "
            f"{sample(cand[C.STOP_ID][absent])} (matrix ids are e.g. {sample(index)})"
        )
    for col, default in ((C.POPULATION, None), (C.PRIORITY, 1.0), (C.STOP_MINUTES, stop_minutes)):
        if col not in stops.columns:
            cand[col] = default
            continue
        val = pd.to_numeric(stops[col], errors="coerce").to_numpy(dtype=float)
        if col == C.STOP_MINUTES:
            val = np.where(np.isnan(val) & stops[col].isna().to_numpy(), stop_minutes, val)
        bad = ~np.isfinite(val) | (val < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"stops: column {col!r} must hold finite numbers ≥ 0; {int(bad.sum())} "
                f"do not, e.g. {stops[col].iloc[i]!r} for stop {cand[C.STOP_ID].iat[i]!r}"
            )
        cand[col] = val
    if C.MANDATORY in stops.columns:
        flag = stops[C.MANDATORY]
        ok = flag.isin([True, False, 0, 1]).to_numpy()
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise DataError(
                f"stops: column {C.MANDATORY!r} must be True/False; got {flag.iloc[i]!r} for "
                f"stop {cand[C.STOP_ID].iat[i]!r}"
            )
        cand[C.MANDATORY] = flag.astype(bool).to_numpy()
    else:
        cand[C.MANDATORY] = False
    return cand


def ceil_s(minutes: np.ndarray) -> np.ndarray:
    """Minutes to whole seconds, rounded up (NaN stays NaN)."""
    return np.ceil(np.asarray(minutes, dtype=float) * 60 - 1e-6)


def round_trip_text(out_s: float, back_s: float, svc_s: float) -> str:
    def m(s: float) -> str:
        return "unreachable" if np.isnan(s) else f"{s / 60:g}"

    return f"{m(out_s)} min there + {m(svc_s)} min stop + {m(back_s)} min back"


def sample(values: Sequence[Hashable] | pd.Index | pd.Series, n: int = 5) -> str:
    vals = list(values)
    more = f", ... ({len(vals)} in all)" if len(vals) > n else ""
    return ", ".join(repr(v) for v in vals[:n]) + more


def parse_clock(text: str) -> float:
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", str(text).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise DataError(f"day_start must be a clock time 'HH:MM', got {text!r}")
    return 60.0 * int(match[1]) + int(match[2])


def clock(minutes: float) -> str:
    m = math.floor(minutes + 0.5)
    return f"{m // 60:02d}:{m % 60:02d}"
