"""Time-window indicators: a hand-made network where the answers are worked out by hand,
the parameter file's checks, and the Maurienne diagnostic (real data)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from tt_grid import grid_network, node_xy

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.indicators.nearest import Reach, weighted_summary
from accessibility.indicators.windows import (
    hours_column,
    load_windows,
    open_during,
    window_column,
    window_indicators,
)
from accessibility.inputs.categories import load_categories

WINDOWS = """
[meta]
categories = ["france_services"]
min_open_min = 60
hours_within_min = [2, 5]
itinerant = "exclude"
appointment_only = "include"

[window.samedi_matin]
label = "le samedi matin"
days = ["sam"]
start = "09:00"
end = "12:00"

[window.mardi]
label = "le mardi"
days = ["mar"]
start = "08:00"
end = "18:00"

[window.lundi_court]
label = "le lundi de 11 h 30 à 12 h 30"
days = ["lun"]
start = "11:30"
end = "12:30"
min_open_min = 30
"""


@pytest.fixture
def settings(tmp_path):
    f = tmp_path / "windows.toml"
    f.write_text(WINDOWS, encoding="utf-8")
    return load_windows(f)


def _services(net, rows):
    """rows: (id, node, hours, format)."""
    n = 5
    return gpd.GeoDataFrame(
        {
            C.SERVICE_ID: [r[0] for r in rows],
            C.CATEGORY: "france_services",
            C.HOURS: [r[2] for r in rows],
            C.HOURS_NOTE: "",
            C.SERVICE_FORMAT: [r[3] for r in rows],
            C.IN_TERRITORY: True,
            C.SOURCE: "test",
            C.VINTAGE: "test",
        },
        geometry=[Point(node_xy(r[1], n)) for r in rows],
        crs=net.crs,
    )


def test_a_window_where_only_the_far_service_is_open(settings):
    """5 x 5 grid, 1 min an edge; the cell at node 0. Near service (node 1, 1 min) open
    Monday 9-12; far service (node 4, 4 min) open Monday 10-13 and 14-17 and Saturday 9-12;
    a bus at node 2 (2 min) open every Saturday morning but itinerant (excluded)."""
    net = grid_network(5)
    svc = _services(
        net,
        [
            ("near", 1, "lun 09:00 - 12:00", "Fixe"),
            ("far", 4, "lun 10:00 - 13:00 / 14:00 - 17:00; sam 09:00 - 12:00", "Fixe"),
            ("bus", 2, "sam 09:00 - 12:00", "Bus_équivalent"),
        ],
    )
    cells = gpd.GeoDataFrame({C.CELL_ID: ["c"]}, geometry=[Point(node_xy(0, 5))], crs=net.crs)
    reach = Reach(net, cells, svc, origin_id=C.CELL_ID, destination_id=C.SERVICE_ID)
    out = window_indicators(reach, svc, load_categories(), settings)
    col = out.columns
    # Saturday morning: only the far one (the bus does not count) -> 4 min
    assert col[window_column("france_services", "samedi_matin")][0] == pytest.approx(4.0)
    # Tuesday: nobody is open -> unreachable (NaN)
    assert np.isnan(col[window_column("france_services", "mardi")][0])
    # Monday 11:30-12:30: near open 30 min (enough, min 30), far 60 -> the near one
    assert col[window_column("france_services", "lundi_court")][0] == pytest.approx(1.0)
    # hours a week within 2 min: the near one's Monday 9-12 = 3 h; within 5 min: Monday
    # 9-13 and 14-17 (7 h) and Saturday 9-12 (3 h) = 10 h
    assert col[hours_column("france_services", 2)][0] == pytest.approx(3.0)
    assert col[hours_column("france_services", 5)][0] == pytest.approx(10.0)
    meta = out.meta["france_services"]
    assert (meta["services"], meta["countable"], meta["itinerant"]) == (3, 2, 1)
    assert meta["open_samedi_matin"] == 1 and meta["open_mardi"] == 0
    # the project's summaries count the NaN as unreachable population
    s = weighted_summary(col[window_column("france_services", "mardi")], [120.0],
                         threshold_min=30)  # fmt: skip
    assert s.population_unreachable == 120.0 and s.population_beyond == 120.0
    assert {r["indicator"] for r in out.indicators} == {
        window_column("france_services", k) for k in ("samedi_matin", "mardi", "lundi_court")
    }


def test_min_open_minutes_decides(settings):
    svc = pd.DataFrame(
        {
            C.SERVICE_ID: ["a", "b", "c", "d"],
            C.HOURS: ["lun 11:30 - 11:50", "lun 12:00 - 17:00", "", "Sur rendez-vous"],
        }
    )
    w = settings.windows["lundi_court"]  # 11:30-12:30, at least 30 min
    with pytest.warns(Warning, match="1 of 4 hours could not be read"):
        got = open_during(svc, w, settings)
    assert got.tolist() == [False, True, False, False]  # 20 min, 30 min, unknown, unknown


def test_appointment_only_can_be_left_out(tmp_path):
    f = tmp_path / "w.toml"
    f.write_text(WINDOWS.replace('appointment_only = "include"', 'appointment_only = "exclude"'))
    s = load_windows(f)
    svc = pd.DataFrame(
        {C.SERVICE_ID: ["a", "b"], C.HOURS: ["sam 09:00 - 12:00"] * 2,
         C.HOURS_NOTE: ["Uniquement sur rendez-vous", ""]}
    )  # fmt: skip
    assert open_during(svc, s.windows["samedi_matin"], s).tolist() == [False, True]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('end = "12:00"', 'end = "08:00"'), r"samedi_matin.*end \(08:00\) must come after"),
        (('days = ["sam"]', 'days = ["samedi"]'), r"\[window\.samedi_matin\]\.days\[0\]: exp"),
        (('start = "09:00"', 'start = "9h"'), r'expected a time "HH:MM"'),
        (("[window.mardi]", "[window.mardi_minuit]"), r"must not contain '_min'"),
        (('itinerant = "exclude"', 'itinerant = "maybe"'), r"\[meta\]\.itinerant"),
        (("min_open_min = 60", "min_open_min = 0"), r"\[meta\]\.min_open_min"),
    ],
)
def test_bad_windows_file_names_file_key_and_expectation(tmp_path, change, message):
    f = tmp_path / "windows.toml"
    f.write_text(WINDOWS.replace(*change), encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_windows(f)
    assert str(f) in str(info.value)


def test_shipped_windows():
    s = load_windows()
    assert set(s.windows) == {"samedi_matin", "apres_17h30", "pause_midi", "semaine"}
    w = s.windows["samedi_matin"]
    assert w.intervals == ((5 * 1440 + 540, 5 * 1440 + 720),)
    assert s.windows["apres_17h30"].days == (0, 1, 2, 3, 4)
    assert s.categories == ("france_services", "town_hall")


@pytest.mark.integration
def test_maurienne_windows(maurienne_diagnostic):
    d = maurienne_diagnostic
    cells = d.cells
    for cat in ("france_services", "town_hall"):
        every = cells[f"time_{cat}_min"].to_numpy()
        for w in load_windows().windows:
            t = cells[window_column(cat, w)].to_numpy()
            # a subset of the services: never nearer than with all of them
            ok = np.isfinite(t)
            assert (t[ok] >= every[ok] - 1e-9).all()
        h20 = cells[hours_column(cat, 20)].to_numpy()
        h30 = cells[hours_column(cat, 30)].to_numpy()
        assert ((h20 >= 0) & (h20 <= h30) & (h30 <= 168)).all()
    # the commune table has the window columns and their unreachable population
    col = window_column("france_services", "samedi_matin")
    assert col in d.communes and col.replace("_min", "_unreachable_pop") in d.communes
    assert set(d.epci["indicator"]) >= {col}
    assert d.meta["windows"]["town_hall"]["services"] == 53


# --- siting in a window ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "hours", "message"),
    [
        ("dimanche", None, r"unknown time window 'dimanche'.*known .*samedi_matin"),
        ("samedi_matin", "sam 9-12", r"hours: expected days and times"),
        ("samedi_matin", "sam 11:30 - 12:00", r"open 30 min in window samedi_matin.*from 60"),
        (None, "le samedi", r"hours: expected days and times"),
    ],
)
def test_siting_window_and_hours_are_checked_first(window, hours, message):
    from accessibility.planning.candidates import check_window

    with pytest.raises(DataError, match=message):
        check_window(window, hours)


def test_cli_refuses_a_bad_window_before_loading_data():
    from click.testing import CliRunner

    from accessibility.cli import main

    r = CliRunner().invoke(main, ["site", "-c", "france_services", "--window", "samedi",
                                  "--hours", "sam 09:00 - 12:00"])  # fmt: skip
    assert r.exit_code == 2
    assert "unknown time window 'samedi'" in r.output
    assert "Traceback" not in r.output


@pytest.mark.integration
def test_siting_before_times_in_a_window_equal_the_window_indicator(
    maurienne_study, maurienne_diagnostic
):
    """Two paths to the same figure: the planner's matrix over the existing sites open on
    Saturday morning, and the diagnostic's multi-source search on the same subset."""
    from accessibility.planning.candidates import existing_sites
    from accessibility.planning.changes import TIME_BEFORE
    from accessibility.planning.sites import evaluate_scenario

    study = maurienne_study
    every = existing_sites(study, "france_services")
    sat = existing_sites(study, "france_services", window="samedi_matin")
    assert 0 < len(sat) < len(every)
    # each kept site publishes Saturday hours
    hours = study.layers.services.set_index(C.SERVICE_ID).loc[sat[C.SITE_ID], C.HOURS]
    assert hours.str.contains("sam ").all()
    site = gpd.GeoDataFrame(
        {C.SITE_ID: ["new"], C.LABEL: ["test"]},
        geometry=[study.layers.communes.geometry.iloc[0].representative_point()],
        crs=study.layers.communes.crs,
    )
    ev = evaluate_scenario(study, "france_services", added=site, window="samedi_matin",
                           hours="sam 09:00 - 12:00")  # fmt: skip
    col = window_column("france_services", "samedi_matin")
    want = maurienne_diagnostic.cells.set_index(C.CELL_ID)[col]
    got = ev.cells.set_index(C.CELL_ID)[TIME_BEFORE].reindex(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-6)
