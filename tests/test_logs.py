"""Logs a person can read: each warning once, on one line, and the run's warnings CSV."""

from __future__ import annotations

import logging
import warnings

import pandas as pd
import pytest
from click.testing import CliRunner

from accessibility.cli import logs, main
from accessibility.core.errors import DataWarning, NetworkWarning


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    level = root.level
    yield
    while logs._INSTALLED:
        root.removeHandler(logs._INSTALLED.pop())
    root.setLevel(level)


def _emit_twice() -> None:
    warnings.warn(
        "communes.geojson: the town hall of 2 commune(s) lies outside its polygon:\n"
        "73177, 73259",
        DataWarning,
        stacklevel=1,
    )


def test_a_data_warning_is_shown_once_on_one_line(capsys):
    log = logs.setup_logging()
    _emit_twice()
    _emit_twice()  # same text from another line: counted, not printed again
    warnings.warn("removed 61 of 3426 nodes (194.3 km)", NetworkWarning, stacklevel=1)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "town hall" in line]
    assert lines == [
        "WARNING DataWarning: communes.geojson: the town hall of 2 commune(s) lies outside "
        "its polygon: 73177, 73259"
    ]
    assert ".py:" not in err and "py.warnings" not in err
    table = log.table()
    assert list(table.columns) == ["kind", "message", "where", "count", "ids"]
    row = table.iloc[0]
    assert (row["kind"], row["where"], row["count"], row["ids"]) == (
        "DataWarning", "communes.geojson", 2, "73177 73259"
    )
    # a figure such as 3426 or 194.3 is not an id
    assert table.iloc[1]["ids"] == ""
    assert log.summary() == "2 warning(s): 1 DataWarning, 1 NetworkWarning"


def test_warnings_csv_cells_cannot_start_a_formula(tmp_path):
    log = logs.WarningLog()
    log.add("DataWarning", "=HYPERLINK(\"http://x\"): bad name")
    out = log.write_csv(tmp_path / "warnings.csv")
    table = pd.read_csv(out, dtype=str)
    assert table["message"][0].startswith("'=HYPERLINK")
    assert table["where"][0].startswith("'=HYPERLINK")


def test_third_party_info_is_silenced(capsys):
    logs.setup_logging()
    logging.getLogger("fontTools.subset").info("maxp pruned")
    logging.getLogger("weasyprint").info("Step 5 - Creating layout")
    logging.getLogger("accessibility.pipeline").info("road network: 3 nodes")
    err = capsys.readouterr().err
    assert "pruned" not in err and "Creating layout" not in err
    assert "road network: 3 nodes" in err


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    logs.setup_logging()
    with logs.steps(2) as progress:
        progress("indicators")
        progress("exports")
    err = capsys.readouterr().err
    assert "INFO accessibility: indicators" in err
    assert "\x1b[" not in err  # no terminal control sequence


@pytest.mark.integration
def test_route_prints_each_data_warning_once(paths):
    result = CliRunner().invoke(main, ["route", "Modane", "Bessans"])
    assert result.exit_code == 0, result.output
    hall = [line for line in result.stderr.splitlines() if "lies just outside" in line]
    assert len(hall) == 1
    assert hall[0].startswith("WARNING DataWarning: commune polygons of maurienne.toml")
    assert hall[0].endswith("73177, 73259")
    assert "py.warnings" not in result.stderr and ".py:" not in result.stderr


@pytest.mark.integration
def test_run_writes_the_warnings_csv_and_a_summary(paths, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", "--no-atlas", "--no-report", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "warnings.csv", dtype={"ids": str})
    assert list(table.columns) == ["kind", "message", "where", "count", "ids"]
    # every distinct warning once, with its count
    assert not table.duplicated(["kind", "message"]).any()
    network = table[table["kind"] == "NetworkWarning"]
    assert network["message"].str.contains("removed 61 of 3426 nodes").any()
    halls = table[table["message"].str.contains("lies just outside")]
    assert list(halls["ids"]) == ["73177 73259"]
    by_kind = table["kind"].value_counts()
    summary = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))
    assert f"Warnings: {len(table)} warning(s): {summary}; all listed in" in result.stdout


def test_progress_bar_on_a_terminal(monkeypatch):
    import io

    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(logs, "_interactive", lambda: True)
    monkeypatch.setattr(logs, "_CONSOLE", console)
    with logs.steps(2) as progress:
        progress("indicators")
        console.file.flush()
        progress("exports")
    shown = screen.getvalue()
    assert "indicators" in shown and "/2" in shown
