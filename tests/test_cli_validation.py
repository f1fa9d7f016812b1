"""Command-line arguments are checked before any data is read; every expected error is one
line on stderr with exit status 2 (a traceback only with -vv)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from accessibility.cli import main
from accessibility.core.errors import DataError


class DataLoaded(Exception):
    """Raised by the stand-ins of the data loaders: the command got past its checks."""


@pytest.fixture
def no_data(monkeypatch):
    """Make every entry point into the data fail loudly, and record the territory given."""
    seen = []

    def refuse(territory=None, *args, **kwargs):
        seen.append(territory)
        raise DataLoaded

    monkeypatch.setattr("accessibility.pipeline.open_study", refuse)
    monkeypatch.setattr("accessibility.pipeline.run_job", refuse)
    monkeypatch.setattr("accessibility.inputs.layers.prepare_layers", refuse)
    monkeypatch.setattr("accessibility.inputs.sources.fetch", refuse)
    return seen


def _run(args):
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["site", "-c", "france_services", "--new", "0"], "'--new': 0 is not in the range x>=1"),
        (["site", "-c", "france_services", "--threshold", "-5"], "'--threshold': -5.0 is not"),
        (["project", "-c", "france_services", "--at", "Modane", "--threshold", "0"],
         "'--threshold': 0.0 is not in the range 0<x<=240"),
        (["times", "-c", "teleportation"], "unknown category 'teleportation'; known: bakery"),
        (["site", "-c", "france_servics"], "did you mean 'france_services'?"),
        (["tour", "--depot", "Modane", "--days", "0"], "'--days': 0 is not in the range"),
        (["tour", "--depot", "Modane", "-c", "nope"], "unknown category 'nope'"),
        (["run", "--scenario", "nope"], "scenario 'nope': no file"),
        (["run", "--compare", "nope"], "shipped scenarios: summer, winter"),
        (["times", "-c", "france_services", "--out", "t.txt"], "expected a .csv or .parquet"),
        (["data", "prepare", "--territory", "atlantis"], "unknown territory 'atlantis'"),
        (["site", "-c", "france_services", "--candidates", "/no/such.csv"], "does not exist"),
        (["route", "Modane"], "Missing argument 'DESTINATION'"),
        (["times", "-c", "france_services", "--network", "/no/such.osm.pbf"], "does not exist"),
        (["data", "fetch", "--only", "services/bpe2013.xls"],
         "not in the source catalogue (did you mean 'services/bpe2013.xlsx'?)"),
    ],
)
def test_bad_arguments_fail_before_any_data_is_read(no_data, args, needle):
    result = _run(args)
    assert result.exit_code == 2, result.output
    assert no_data == [], "a data loader ran before the arguments were checked"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert needle in lines[0]
    assert result.stdout == ""


def test_a_bad_territory_file_fails_before_any_data_is_read(no_data, tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('slug = "../../etc"\nname = "X"\n[communes]\ninsee = ["73248"]\n')
    result = _run(["times", "-c", "france_services", "--territory", str(f)])
    assert result.exit_code == 2 and no_data == []
    assert f"{f}: slug: expected to match pattern" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_good_arguments_reach_the_data_with_the_checked_territory(no_data, tmp_path):
    pbf = tmp_path / "rhone-alpes.osm.pbf"
    pbf.write_bytes(b"x")
    result = _run(["site", "-c", "france_services", "--new", "2", "--network", str(pbf)])
    assert isinstance(result.exception, DataLoaded)  # past every check
    (territory,) = no_data
    assert territory.slug == "maurienne"
    assert territory.sources["network"]["source"] == str(pbf.resolve())


def test_an_error_from_the_data_is_one_line_and_exit_2(monkeypatch):
    def fail(*args, **kwargs):
        raise DataError("communes.geojson: field 'code'\n  expected text")

    monkeypatch.setattr("accessibility.pipeline.open_study", fail)
    result = _run(["-q", "site", "-c", "france_services"])
    assert result.exit_code == 2
    assert result.stderr == "error: communes.geojson: field 'code' expected text\n"


def test_vv_shows_the_traceback(monkeypatch):
    def fail(*args, **kwargs):
        raise DataError("boom")

    monkeypatch.setattr("accessibility.pipeline.open_study", fail)
    result = _run(["-vv", "site", "-c", "france_services"])
    assert isinstance(result.exception, DataError)
