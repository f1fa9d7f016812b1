"""Time-window indicators: access to the services that are open when people can go.

Owns: ``data/indicators/windows.toml`` (its schema, :func:`load_windows`), :class:`Window`,
which services count as open in a window (:func:`open_during`), and the window
indicators of a diagnostic (:func:`window_indicators`): for each category with hours and
each window, the time from each cell to the nearest service open in the window
(``time_<category>_at_<window>_min``, NaN when none is reached), and the opening hours a
week of the services within 20 and 30 min (``hours_<category>_within_<T>_h``).
May import :mod:`accessibility.core`, :mod:`accessibility.inputs` and
:mod:`accessibility.indicators.nearest`.

The times come from the same engine as every other indicator: one multi-source search
(:class:`~accessibility.indicators.nearest.Reach`) on the subset of services open in
the window. Weekly hours within T: the week is cut at every opening and closing time of
the category's services into segments during which the set of open services does not
change; a cell counts a segment when a service open during it is within T (one bounded
search per service, then a matrix product). Exact, no time step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field, Strict, model_validator

from accessibility.core import columns as C
from accessibility.core import params
from accessibility.core.paths import project_data_dir
from accessibility.indicators.nearest import Reach
from accessibility.inputs.hours import DAY_MIN, DAYS, OpeningHours, parse_column

WINDOWS_FILE = Path("indicators") / "windows.toml"


def _clock(value: str) -> str:
    h, _, m = value.partition(":")
    if not (h.isdigit() and m.isdigit() and len(m) == 2 and int(m) < 60):
        raise ValueError('expected a time "HH:MM"')
    if int(h) > 24 or (int(h) == 24 and int(m)):
        raise ValueError('expected a time from "00:00" to "24:00"')
    return value


def _minutes(value: str) -> int:
    h, _, m = value.partition(":")
    return int(h) * 60 + int(m)


_Clock = Annotated[params.Str, AfterValidator(_clock)]
_Key = Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _WindowSchema(params.Schema):
    label: params.Str
    days: Annotated[tuple[Literal["lun", "mar", "mer", "jeu", "ven", "sam", "dim"], ...],
                    Field(min_length=1)]  # fmt: skip
    start: _Clock
    end: _Clock
    #: minutes in the week; 1 to 600
    min_open_min: Annotated[params.Num, Field(gt=0, le=600)] | None = None

    @model_validator(mode="after")
    def _order(self) -> _WindowSchema:
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day is listed twice in days")
        return self


class _Meta(params.Schema):
    categories: Annotated[tuple[_Key, ...], Field(min_length=1)]
    min_open_min: Annotated[params.Num, Field(gt=0, le=600)]
    hours_within_min: Annotated[
        tuple[Annotated[params.Num, Field(gt=0, le=240)], ...], Field(min_length=1)
    ]
    itinerant: Literal["include", "exclude"]
    appointment_only: Literal["include", "exclude"]


class WindowsSchema(params.Schema):
    """The keys of ``windows.toml``: ``[meta]`` and ``[window.KEY]``."""

    meta: _Meta
    window: Annotated[Mapping[_Key, _WindowSchema], Field(min_length=1)]

    @model_validator(mode="after")
    def _keys(self) -> WindowsSchema:
        for key in self.window:
            if "_min" in key:
                raise ValueError(f"window key {key!r} must not contain '_min' (column names)")
        return self


@dataclass(frozen=True)
class Window:
    """A named weekly time window."""

    key: str
    label: str
    """French label, completing « ouvertes … » (e.g. « le samedi matin »)."""
    days: tuple[int, ...]
    """Day numbers, Monday = 0."""
    start_min: int
    end_min: int
    min_open_min: float
    """A service is open in the window when open this many minutes of it in the week."""

    @property
    def intervals(self) -> tuple[tuple[int, int], ...]:
        """The window's intervals, minutes from Monday 00:00."""
        return tuple((d * DAY_MIN + self.start_min, d * DAY_MIN + self.end_min) for d in self.days)


@dataclass(frozen=True)
class WindowSettings:
    """``windows.toml``, checked."""

    windows: Mapping[str, Window]
    categories: tuple[str, ...]
    hours_within_min: tuple[float, ...]
    exclude_itinerant: bool
    exclude_appointment_only: bool


def load_windows(path: Path | str | None = None) -> WindowSettings:
    """Read and check ``data/indicators/windows.toml`` (or ``path``); errors name the
    file, the key and what was expected."""
    path = Path(path) if path is not None else project_data_dir() / WINDOWS_FILE
    raw = params.load(path, WindowsSchema, what="time windows file")
    windows = {
        key: Window(
            key=key,
            label=w.label,
            days=tuple(DAYS.index(d) for d in w.days),
            start_min=_minutes(w.start),
            end_min=_minutes(w.end),
            min_open_min=float(w.min_open_min or raw.meta.min_open_min),
        )
        for key, w in raw.window.items()
    }
    return WindowSettings(
        windows=windows,
        categories=tuple(raw.meta.categories),
        hours_within_min=tuple(float(t) for t in raw.meta.hours_within_min),
        exclude_itinerant=raw.meta.itinerant == "exclude",
        exclude_appointment_only=raw.meta.appointment_only == "exclude",
    )


def resolve_window(key: str, settings: WindowSettings | None = None) -> Window:
    """The window named ``key``; an unknown name is an error listing the known ones."""
    from accessibility.core.errors import DataError

    settings = settings or load_windows()
    if key not in settings.windows:
        hint = params.closest(key, settings.windows)
        raise DataError(
            f"unknown time window {key!r}{hint}; known (data/indicators/windows.toml): "
            f"{', '.join(settings.windows)}"
        )
    return settings.windows[key]


def check_site_hours(text: str, window: Window | None = None) -> OpeningHours:
    """The opening hours given to a new site (the project's hours text, e.g.
    ``"sam 09:00 - 12:00; mar 14:00 - 17:00"``), read strictly; with a ``window``, they
    must open in it (at least its ``min_open_min``). Errors are one line."""
    from accessibility.core.errors import DataError
    from accessibility.inputs.hours import parse_hours

    h = parse_hours(text)
    if h.status != "parsed":
        raise DataError(
            f"hours: expected days and times such as \"sam 09:00 - 12:00; mar 14:00 - "
            f"17:00\" (days lun mar mer jeu ven sam dim), got {text!r}"
        )
    if window is not None:
        got = sum(h.open_minutes(a, b) for a, b in window.intervals)
        if got < window.min_open_min:
            raise DataError(
                f"hours {text!r} open {got:g} min in window {window.key} ({window.label}); "
                f"a site counts as open in it from {window.min_open_min:g} min"
            )
    return h


# --- which services are open ----------------------------------------------------------------


def countable(hours: Sequence[OpeningHours], settings: WindowSettings) -> np.ndarray:
    """Services whose published hours may count (not excluded by the settings' flags)."""
    ok = np.array([h.status == "parsed" for h in hours], dtype=bool)
    if settings.exclude_itinerant:
        ok &= ~np.array([h.itinerant for h in hours], dtype=bool)
    if settings.exclude_appointment_only:
        ok &= ~np.array([h.appointment_only for h in hours], dtype=bool)
    return ok


def open_minutes(hours: Sequence[OpeningHours], window: Window) -> np.ndarray:
    """Minutes each service is open within the window, in the week."""
    return np.array(
        [sum(h.open_minutes(a, b) for a, b in window.intervals) for h in hours], dtype=float
    )


def open_during(
    services: pd.DataFrame, window: Window, settings: WindowSettings | None = None
) -> np.ndarray:
    """True for the services open in ``window`` (at least ``window.min_open_min``
    minutes of it, and not excluded by ``settings``: itinerant, appointment only)."""
    settings = settings or load_windows()
    hours = _parse(services)
    return countable(hours, settings) & (open_minutes(hours, window) >= window.min_open_min)


def _parse(services: pd.DataFrame, where: str = "opening hours") -> list[OpeningHours]:
    get = services.get
    return parse_column(
        services[C.HOURS].fillna("").astype(str),
        notes=get(C.HOURS_NOTE, pd.Series("", index=services.index)).fillna(""),
        formats=get(C.SERVICE_FORMAT, pd.Series("", index=services.index)).fillna(""),
        ids=services.get(C.SERVICE_ID, None),
        where=where,
    )


# --- the indicators ---------------------------------------------------------------------------


def window_column(category: str, window: str) -> str:
    return f"time_{category}_at_{window}_min"


def hours_column(category: str, within_min: float) -> str:
    return f"hours_{category}_within_{within_min:g}_h"


def weekly_hours_within(
    reach: Reach, hours: Sequence[OpeningHours], mask: np.ndarray, within_min: Sequence[float]
) -> dict[float, np.ndarray]:
    """Per origin of ``reach`` and per time T: the hours a week during which a service of
    ``mask`` (destinations of ``reach``) within T minutes is open (see module docstring).

    One bounded search per service (times up to the largest T), then, per T, which
    segments of the week each origin has an open service for: a matrix product."""
    idx = np.flatnonzero(mask)
    out = {t: np.zeros(len(reach.origin_ids)) for t in within_min}
    if not len(idx):
        return out
    cuts = sorted({0, 7 * DAY_MIN} | {t for i in idx for iv in hours[i].intervals for t in iv})
    starts, ends = np.array(cuts[:-1]), np.array(cuts[1:])
    # opened[s, j]: service idx[j] open during segment s (segments never straddle a cut)
    opened = np.zeros((len(starts), len(idx)), dtype=bool)
    for j, i in enumerate(idx):
        for a, b in hours[i].intervals:
            opened[(starts >= a) & (ends <= b), j] = True
    patterns, inverse = np.unique(opened, axis=0, return_inverse=True)
    length = np.bincount(inverse.ravel(), weights=ends - starts, minlength=len(patterns))
    times = reach.times_min(mask, max(within_min))  # (origins, services of mask)
    for t in within_min:
        near = (times <= t).astype(float)  # NaN (beyond, unreached) compares False
        covered = near @ patterns.T.astype(float) > 0  # (origins, patterns)
        out[t] = covered @ length / 60.0
    return out


@dataclass(frozen=True)
class WindowResult:
    """The window indicators of a diagnostic (columns of the cells) and what they rest on."""

    columns: dict[str, np.ndarray]
    indicators: list[dict[str, Any]]
    """One row per time column, as the diagnostic's indicator table has."""
    meta: dict[str, Any]
    """Per category: services, parsed, empty, unparsed, excluded (itinerant/appointment),
    partial_weeks, open per window; the source and vintage of the hours."""


def window_indicators(
    reach: Reach,
    services: pd.DataFrame,
    categories: Mapping[str, Any],
    settings: WindowSettings | None = None,
) -> WindowResult:
    """Window times and weekly hours for every category of the settings present in
    ``services`` (the destinations of ``reach``, in the same order)."""
    settings = settings or load_windows()
    cols: dict[str, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    cat_of = services[C.CATEGORY].to_numpy()
    for key in settings.categories:
        in_cat = cat_of == key
        if key not in categories or not in_cat.any():
            continue
        sub = services[in_cat]
        parsed = _parse(sub, where=f"opening hours of {key}")
        hours: list[OpeningHours] = [OpeningHours()] * len(services)
        for i, h in zip(np.flatnonzero(in_cat), parsed, strict=True):
            hours[i] = h
        ok = np.zeros(len(services), dtype=bool)
        ok[in_cat] = countable(parsed, settings)
        cat = categories[key]
        info: dict[str, Any] = _category_meta(sub, parsed, ok[in_cat])
        for w in settings.windows.values():
            is_open = ok.copy()  # only the category's services are looked at
            is_open[in_cat] &= open_minutes(parsed, w) >= w.min_open_min
            col = window_column(key, w.key)
            cols[col] = reach.nearest_min(is_open)
            info[f"open_{w.key}"] = int((is_open & in_cat)[services[C.IN_TERRITORY]
                                                          .to_numpy(dtype=bool)].sum())  # fmt: skip
            rows.append({
                "indicator": col,
                "label_fr": f"Temps d'accès : {cat.label}, ouvert(e)s {w.label}",
                "threshold_min": cat.threshold_min,
                "threshold_policy": f"{cat.key}'s threshold; open at least "
                                    f"{w.min_open_min:g} min of the window "
                                    "(data/indicators/windows.toml)",
            })  # fmt: skip
        for t, values in weekly_hours_within(reach, hours, ok, settings.hours_within_min).items():
            cols[hours_column(key, t)] = values
        meta[key] = info
    return WindowResult(cols, rows, meta)


def _category_meta(
    services: pd.DataFrame, parsed: Sequence[OpeningHours], ok: np.ndarray
) -> dict[str, Any]:
    inside = services[C.IN_TERRITORY].to_numpy(dtype=bool)
    status = np.array([h.status for h in parsed])
    flag = {f: np.array([getattr(h, f) for h in parsed], dtype=bool)
            for f in ("itinerant", "appointment_only", "partial_weeks")}  # fmt: skip
    vintage = services[C.VINTAGE].iloc[0] if len(services) else ""
    source = services[C.SOURCE].iloc[0] if len(services) else ""
    return {
        "source": str(source),
        "vintage": str(vintage),
        "services": int(inside.sum()),
        "parsed": int((inside & (status == "parsed")).sum()),
        "empty": int((inside & (status == "empty")).sum()),
        "unparsed": int((inside & (status == "unparsed")).sum()),
        "countable": int((inside & ok).sum()),
        **{f: int((inside & v).sum()) for f, v in flag.items()},
    }


__all__ = [
    "WINDOWS_FILE",
    "Window",
    "WindowResult",
    "WindowSettings",
    "check_site_hours",
    "countable",
    "hours_column",
    "load_windows",
    "open_during",
    "open_minutes",
    "resolve_window",
    "weekly_hours_within",
    "window_column",
    "window_indicators",
]
