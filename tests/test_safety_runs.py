"""Killed runs, determinism and the documented ``--grid filosofi200m`` (issue 12, item 5).

* A run killed with SIGKILL while it draws the atlas (its exports already staged), or
  just before it swaps its folders in, leaves the previous outputs exactly as they were
  (report and maps of the same run, same run id in both folders); the next run removes
  its staging folders.
* Two diagnostics of the same study give byte-identical CSV, GeoJSON and Markdown
  exports, the same GeoPackage content, and byte-identical map pages (folium's random
  element ids are renumbered).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from accessibility.core.outputs import MARKER, read_marker, staged_folders

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]

KILLER = """
import os, signal, sys
from pathlib import Path
import accessibility.outputs.maps.atlas as atlas
from accessibility.pipeline import run_job

saved = []
real_save = atlas.save_map

def save_map(m, path):  # the atlas writes its maps one by one: die after the first
    if saved:
        os.kill(os.getpid(), signal.SIGKILL)
    saved.append(path)
    return real_save(m, path)

atlas.save_map = save_map
run_job("maurienne", out_dir=Path("output/t"), maps_dir=Path("maps/t"))
"""

#: A run killed after staging everything, right before the swap (cheap: no data).
KILLED_AT_SWAP = """
import os, signal, sys
from pathlib import Path
from accessibility.core.outputs import staged_folders

targets = {"exports": Path("output/t"), "maps": Path("maps/t")}
with staged_folders(targets) as stage:
    (stage["exports"] / "communes.csv").write_text("new")
    (stage["maps"] / "index.html").write_text("new")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _previous_run(tmp_path: Path) -> tuple[dict[str, Path], dict]:
    targets = {"exports": tmp_path / "output" / "t", "maps": tmp_path / "maps" / "t"}
    with staged_folders(targets, run_id="previous-run") as stage:  # the previous run
        (stage["exports"] / "communes.csv").write_text("commune_code\n73001\n")
        (stage["maps"] / "index.html").write_text("<p>atlas</p>")
        (stage["maps"] / "rapport.html").write_text("<p>rapport</p>")
    return targets, {k: _snapshot(t) for k, t in targets.items()}


def _killed(code: str, tmp_path: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    res = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]


def _check_untouched_then_cleaned(tmp_path: Path, targets: dict, before: dict) -> None:
    assert {k: _snapshot(t) for k, t in targets.items()} == before
    assert {read_marker(t)["run_id"] for t in targets.values()} == {"previous-run"}
    with staged_folders(targets) as stage:  # the next run removes the leftovers
        (stage["exports"] / "communes.csv").write_text("commune_code\n73002\n")
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["t"]
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == ["t"]
    assert len({read_marker(t)["run_id"] for t in targets.values()}) == 1


def test_run_killed_during_the_atlas_leaves_previous_outputs_whole(tmp_path, paths):
    targets, before = _previous_run(tmp_path)
    _killed(KILLER, tmp_path)
    staged = sorted((tmp_path / "output").glob(".t.new-*"))
    assert len(staged) == 1 and (staged[0] / "accessibilite_maurienne.gpkg").is_file()
    maps_staged = sorted((tmp_path / "maps").glob(".t.new-*"))
    assert [p.name for p in maps_staged[0].glob("*.html")] == ["acces.html"]
    _check_untouched_then_cleaned(tmp_path, targets, before)


def test_run_killed_before_the_swap_leaves_previous_outputs_whole(tmp_path):
    targets, before = _previous_run(tmp_path)
    _killed(KILLED_AT_SWAP, tmp_path)
    assert len(list((tmp_path / "maps").glob(".t.new-*"))) == 1
    _check_untouched_then_cleaned(tmp_path, targets, before)


def _read_gpkg(path: Path) -> dict[str, pd.DataFrame]:
    import pyogrio

    return {name: pyogrio.read_dataframe(path, layer=name)
            for name, _ in pyogrio.list_layers(path)}


def test_two_runs_give_identical_files(maurienne_study, maurienne_diagnostic, tmp_path):
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.outputs.exports import write_exports
    from accessibility.outputs.maps import priority_map, render_offline, services_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the session fixture's known data warnings
        again = run_diagnostic(maurienne_study)
    folders = []
    for i, diag in enumerate((maurienne_diagnostic, again)):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        write_exports(maurienne_study, diag, folder)
        pages = {"priorites.html": render_offline(priority_map(diag)),
                 "services.html": render_offline(services_map(maurienne_study.layers.services,
                                                              diag.communes))}
        for name, page in pages.items():
            (folder / name).write_text(page, encoding="utf-8")
        folders.append(folder)
    a, b = (_snapshot(f) for f in folders)
    gpkg = "accessibilite_maurienne.gpkg"
    assert sorted(a) == sorted(b) and len(a) == 18  # 16 exports (.qgs incl.) + 2 pages
    for name in a:
        if name != gpkg:
            assert a[name] == b[name], name
    ga, gb = (_read_gpkg(f / gpkg) for f in folders)
    assert sorted(ga) == sorted(gb) and "communes" in ga and "data_dictionary" in ga
    for layer in ga:
        pd.testing.assert_frame_equal(ga[layer], gb[layer], check_exact=True)
    assert "map_00000000000000000000000000000001" in a["priorites.html"].decode()


def test_run_filosofi_grid_end_to_end(tmp_path, monkeypatch, paths):
    """The README's ``accessibility run --grid filosofi200m`` (exports only)."""
    from accessibility.cli import main

    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data warnings: logged by the run
        res = CliRunner().invoke(main, ["-q", "run", "--grid", "filosofi200m", "--no-atlas",
                                        "--no-report"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "output" / "maurienne"
    dictionary = pd.read_csv(out / "dictionnaire_des_donnees.csv")
    row = dictionary[(dictionary["table"] == "cells") & (dictionary["column"] == "ind_filosofi")]
    assert len(row) == 1 and "Filosofi" in row["source"].iloc[0]
    cells = pd.read_csv(out / "cells.csv")
    assert len(cells) == 2068  # docs/status.md: 2,068 cells of 200 m
    assert cells["pop_total"].sum() == pytest.approx(42710, abs=1)  # scaled to COG 2026
    assert read_marker(out)["command"] == "run" and (out / MARKER).is_file()
    assert not (tmp_path / "maps").exists()
