"""The command line: help everywhere, machine-readable output, errors as messages."""

from __future__ import annotations

import json

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from accessibility.cli import main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


@pytest.mark.parametrize("path", [(), *_commands(main)], ids=lambda p: " ".join(p) or "main")
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_unknown_territory_is_a_one_line_error():
    result = CliRunner().invoke(main, ["-q", "data", "prepare", "--territory", "atlantis"])
    assert result.exit_code == 2
    assert "unknown territory 'atlantis'" in result.output


# the real data carry known, reported warnings (town halls just outside their simplified
# polygon, cells far from the numbered roads): expected here
real_data_warnings = pytest.mark.filterwarnings(
    "ignore::accessibility.core.errors.AccessibilityWarning"
)


@pytest.mark.integration
@real_data_warnings
def test_route_json(paths, tmp_path):
    out = tmp_path / "path.geojson"
    result = CliRunner().invoke(
        main,
        # "St-" as people write it: the place normaliser is the scenarios' one
        ["-q", "route", "St-Jean-de-Maurienne", "73157", "--json", "--geojson", str(out)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["origin"].startswith("Saint-Jean-de-Maurienne")
    assert data["destination"].startswith("Modane")
    # Saint-Jean to Modane is about 30 km up the Arc valley (A43 / D1006): the road
    # distance cannot be below the 26 km straight line, nor far above the valley road
    assert 26 < data["distance_km"] < 45
    assert 18 < data["time_min"] < 45
    import geopandas as gpd

    path = gpd.read_file(out)
    assert len(path) == 1 and path.crs.to_epsg() == 4326


@pytest.mark.integration
@real_data_warnings
def test_times_json_summary_matches_its_table(paths, tmp_path, maurienne):
    out = tmp_path / "fs.csv"
    result = CliRunner().invoke(
        main, ["-q", "times", "--category", "france_services", "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    table = pd.read_csv(out)
    assert list(table.columns) == ["origin_id", "destination_id", "travel_time_min"]
    cells = maurienne.cells.set_index("cell_id")
    assert set(table["origin_id"]) == set(cells.index)
    w = cells.loc[table["origin_id"], "pop_total"].to_numpy()
    expected = (table["travel_time_min"].to_numpy() * w).sum() / w.sum()
    assert summary["mean_min"] == pytest.approx(expected)
    assert summary["population"] == pytest.approx(w.sum())


@pytest.mark.integration
@real_data_warnings
def test_unknown_category_lists_the_known_ones(paths):
    result = CliRunner().invoke(main, ["-q", "times", "--category", "spa"])
    assert result.exit_code == 2
    assert "france_services" in result.output


@pytest.mark.integration
@real_data_warnings
def test_site_project_and_tour_commands(paths, tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        main,
        [
            "-q",
            "site",
            "--category",
            "france_services",
            "--new",
            "1",
            "--model",
            "mclp",
            "--threshold",
            "20",
            "--out",
            str(tmp_path / "sc"),
            "--no-map",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "habitants" in r.output  # the French summary line
    assert any((tmp_path / "sc").iterdir())
    r = runner.invoke(
        main,
        [
            "-q",
            "project",
            "--category",
            "childcare",
            "--at",
            "Valloire",
            "--out",
            str(tmp_path / "pj"),
        ],
    )
    assert r.exit_code == 0, r.output
    sheets = list((tmp_path / "pj").glob("*.md"))
    assert sheets and "Valloire" in sheets[0].read_text()
    out = tmp_path / "tour.csv"
    r = runner.invoke(
        main,
        [
            "-q",
            "tour",
            "--depot",
            "Saint-Jean-de-Maurienne",
            "--days",
            "1",
            "--day-hours",
            "7",
            "--stop-minutes",
            "120",
            "--time-limit",
            "1",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    schedule = pd.read_csv(out)
    stops = schedule[schedule["depart"].notna()]
    # a 7-hour day with 2-hour stops holds at most 3 stops (3 x 120 = 360 <= 420 min)
    assert 1 <= len(stops) <= 3
    # the day fits: all driving (return included) plus the stops, within 420 minutes
    assert schedule["drive_min"].sum() + 120 * len(stops) <= 420 + 1e-6
