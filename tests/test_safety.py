"""Output safety and escaping (issue 12, items 1 and 2), on hand-made folders and strings.

Folders: a folder is replaced only if the project wrote it (its marker file); the
working and home folders are never replaced; leftovers of killed runs are removed; a
folder that cannot be written gives one line. Names: anything that becomes a path
matches ``^[a-z0-9][a-z0-9-]*$``. Escaping: each helper on hostile strings, with the
expected output worked out by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from accessibility.core.errors import OutputError
from accessibility.core.escape import (
    html_attr,
    html_text,
    js_string,
    js_template,
    terminal_text,
)
from accessibility.core.outputs import (
    MARKER,
    check_name,
    command_dir,
    read_marker,
    run_dirs,
    staged_folders,
)
from accessibility.outputs.exports import replace_folder

# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["winter", "maurienne", "a", "0", "pays-basque-2"])
def test_check_name_accepts_slugs(name):
    assert check_name(name, what="scenario name") == name


@pytest.mark.parametrize(
    "name", ["", "../x", "/etc", "a/b", "Winter", "-a", "a_b", "a.b", "..", "é", "a b", "x" * 101]
)
def test_check_name_refuses_what_could_escape_a_folder(name):
    with pytest.raises(OutputError, match="scenario name .*lower-case letters"):
        check_name(name, what="scenario name")


def test_command_folders_never_inside_the_run_folders():
    out, maps = run_dirs("maurienne")
    assert (str(out), str(maps)) == ("output/maurienne", "maps/maurienne")
    for command in ("times", "site", "project", "tour", "validate"):
        d = command_dir(command, "maurienne")
        assert d.parent == out.parent and d != out and out not in d.parents
        assert "_" in d.name  # never a slug, so never a run folder of another scenario
    assert str(command_dir("site", "maurienne", maps=True)) == "maps/maurienne_scenarios"
    with pytest.raises(OutputError, match="territory slug"):
        run_dirs("../../x")


def test_validate_writes_outside_the_run_folders(monkeypatch, tmp_path):
    """`validate` without --out used to write into output/<T>/ and maps/<T>/, which the
    next `run` replaces as a whole (its report and tables were lost)."""
    from types import SimpleNamespace

    from click.testing import CliRunner

    import accessibility.outputs.validation_report as vr
    from accessibility.cli import main

    seen = {}

    def write(v, *, html_dir, csv_dir):
        seen.update(html=html_dir, csv=csv_dir)
        return {"html": html_dir / "validation.html"}

    fake = SimpleNamespace(territory=SimpleNamespace(slug="maurienne"), comparison=None,
                           heldout=None, routes=None, communes_far=None)
    monkeypatch.setattr(vr, "compute_validation", lambda *a, **k: fake)
    monkeypatch.setattr(vr, "write_validation", write)
    monkeypatch.setattr(vr, "reliability", lambda **k: {"text": "ok"})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "--territory", "maurienne", "--no-national"])
    assert result.exit_code == 0, result.output
    out, maps = run_dirs("maurienne")
    assert (seen["csv"], seen["html"]) == (
        command_dir("validate", "maurienne"), command_dir("validate", "maurienne", maps=True))
    assert out not in (seen["csv"], *seen["csv"].parents)
    assert maps not in (seen["html"], *seen["html"].parents)


# --- replacing folders ---------------------------------------------------------------------


def _build(files):
    def build(tmp):
        for name, text in files.items():
            (tmp / name).write_text(text)

    return build


def test_folder_not_written_by_us_is_refused_and_kept(tmp_path):
    target = tmp_path / "thesis"
    target.mkdir()
    (target / "thesis.txt").write_text("four years")
    with pytest.raises(OutputError, match=f"did not write \\(thesis.txt; no {MARKER}"):
        replace_folder(target, _build({"a.csv": "x"}))
    assert (target / "thesis.txt").read_text() == "four years"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # no staging left


def test_our_folder_is_replaced_and_marked(tmp_path):
    target = tmp_path / "out"
    replace_folder(target, _build({"a.csv": "1"}))
    first = read_marker(target)
    assert first["command"] == "run" and first["run_id"]
    replace_folder(target, _build({"b.csv": "2"}))
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "b.csv"]
    assert read_marker(target)["run_id"] != first["run_id"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_folder_of_a_run_before_markers_is_replaced(tmp_path):
    """Version 0.1 wrote no marker: a folder holding only its file names is a run's."""
    target = tmp_path / "maurienne"
    (target / "figures").mkdir(parents=True)
    (target / "figures" / "priorites.png").write_bytes(b"png")
    for name in ("accessibilite_maurienne.gpkg", "cells.csv", "rapport.html", "rapport.pdf"):
        (target / name).write_text("old")
    replace_folder(target, _build({"a.csv": "1"}))
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "a.csv"]
    (target / MARKER).unlink()  # now a folder without marker holding a user's file
    (target / "scenario_france_services_mclp.html").write_text("a map of site (0.1)")
    (target / "thesis.csv").write_text("x")
    with pytest.raises(OutputError, match=r"did not write \(a.csv, scenario_france_services_m"
                       r"clp.html, thesis.csv; no"):
        replace_folder(target, _build({}))


def test_empty_folder_is_accepted(tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    replace_folder(target, _build({"a.csv": "1"}))
    assert (target / "a.csv").read_text() == "1"


def test_working_and_home_folders_are_never_replaced(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    for target in (tmp_path / ".", tmp_path, home, home / ".."):
        with pytest.raises(OutputError, match="working folder, the home folder"):
            replace_folder(target, _build({"a.csv": "1"}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_failed_build_keeps_the_previous_folder(tmp_path):
    target = tmp_path / "out"
    replace_folder(target, _build({"a.csv": "before"}))

    def broken(tmp):
        (tmp / "a.csv").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        replace_folder(target, broken)
    assert (target / "a.csv").read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_leftovers_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "out"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
        names = [f".out.new-{dead.stdout.strip()}-ab12", ".out.new-legacy", ".out.old",
                 f".out.new-{live.pid}-cd34", ".other.new-1-x"]
        for n in names:
            (tmp_path / n).mkdir()
            (tmp_path / n / "big.gpkg").write_text("x")
        replace_folder(target, _build({"a.csv": "1"}))
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted([f".out.new-{live.pid}-cd34", ".other.new-1-x", "out"])
    finally:
        live.kill()
        live.wait()


def test_unwritable_parent_gives_one_line(tmp_path, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    with pytest.raises(OutputError) as exc:
        replace_folder(tmp_path / "out", _build({"a.csv": "1"}))
    assert str(exc.value) == f"output folder {tmp_path / 'out'}: cannot write there " \
                             "(Permission denied)"
    assert list(tmp_path.iterdir()) == []


def _as_nobody(code: str, cwd) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    """Run ``code`` in a Python process of user ``nobody`` when we are root (root writes
    through any mode bits, so a read-only folder is only read-only for another user)."""
    import shutil

    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")  # util-linux, in every Debian
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop privileges")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture
def read_only_folder():
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="accessibility-ro-"))
    base.chmod(0o755)  # reachable by nobody
    ro = base / "ro"
    ro.mkdir()
    (ro / "keep.txt").write_text("x")
    ro.chmod(0o555)
    yield ro
    ro.chmod(0o755)
    shutil.rmtree(base)


def test_read_only_folder_gives_one_line(read_only_folder):
    ro = read_only_folder
    res = _as_nobody(
        "from pathlib import Path\n"
        "from accessibility.outputs.exports import replace_folder\n"
        "from accessibility.core.errors import OutputError\n"
        "try:\n"
        f"    replace_folder(Path({str(ro / 'out')!r}), lambda t: None)\n"
        "except OutputError as exc:\n"
        "    print(exc)\n",
        ro.parent,
    )
    assert res.stdout == f"output folder {ro / 'out'}: cannot write there ({ro} is " \
                         "read-only for this user)\n", res.stderr
    assert sorted(p.name for p in ro.iterdir()) == ["keep.txt"]


def test_cli_read_only_out_is_one_line_exit_2(read_only_folder):
    ro = read_only_folder
    res = _as_nobody(
        "import sys\nfrom accessibility.cli import main\n"
        f"sys.argv = ['accessibility', 'run', '--out', {str(ro / 'out')!r}, '--no-atlas']\n"
        "main()\n",
        ro.parent,
    )
    assert res.returncode == 2, res.stderr
    assert res.stderr.splitlines()[-1].startswith(f"error: output folder {ro / 'out'}: cannot")
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in ro.iterdir()) == ["keep.txt"]


def test_staged_folders_swap_together_with_one_run_id(tmp_path):
    targets = {"exports": tmp_path / "output" / "t", "maps": tmp_path / "maps" / "t"}
    with staged_folders(targets) as stage:
        (stage["exports"] / "a.csv").write_text("1")
        (stage["maps"] / "index.html").write_text("<p>")
        assert not targets["exports"].exists()  # nothing visible before the end
        assert stage.final(stage["maps"] / "index.html") == targets["maps"] / "index.html"
    ids = {read_marker(t)["run_id"] for t in targets.values()}
    assert len(ids) == 1


@pytest.mark.parametrize("maps", ["out", "out/maps"])
def test_same_or_nested_folders_are_refused(tmp_path, maps):
    targets = {"exports": tmp_path / "out", "maps": tmp_path / maps}
    with pytest.raises(OutputError, match="the same or nested"), staged_folders(targets):
        pass
    assert list(tmp_path.iterdir()) == []


def test_marker_is_json_with_run_id(tmp_path):
    replace_folder(tmp_path / "out", _build({}))
    info = json.loads((tmp_path / "out" / MARKER).read_text())
    assert set(info) == {"run_id", "command", "pid"}


# --- the command line ----------------------------------------------------------------------


def test_run_refuses_a_foreign_out_folder_before_any_work(tmp_path, monkeypatch):
    from accessibility.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    for out in ("mine", "."):
        res = CliRunner().invoke(main, ["run", "--out", out, "--no-atlas"])
        assert res.exit_code == 2, res.output
        assert res.output.count("\n") == 1 and res.output.startswith("error: output folder")
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "keep me"


@pytest.mark.parametrize("name", ["../../x", "a/b", "Winter"])
def test_run_refuses_a_scenario_name_that_is_not_a_slug(tmp_path, monkeypatch, name):
    from accessibility.cli import main

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["run", "--scenario", name, "--no-atlas"])
    assert res.exit_code == 2 and res.output.startswith("error:")
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_run_refuses_a_scenario_file_whose_name_is_not_a_slug(tmp_path, monkeypatch):
    """The name of a scenario file (its stem) becomes the run's folder name."""
    from accessibility.cli import main
    from accessibility.core.paths import project_data_dir

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "Hiver_2.toml"
    path.write_bytes((project_data_dir() / "scenarios" / "winter.toml").read_bytes())
    res = CliRunner().invoke(main, ["run", "--scenario", str(path), "--no-atlas"])
    assert res.exit_code == 2
    assert res.output.startswith("error: scenario name 'Hiver_2': expected lower-case")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Hiver_2.toml"]


# --- escaping --------------------------------------------------------------------------------

HOSTILE = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "`+(window.__pwned=1)+`",
    "${window.__pwned=1}",
    "</script><script>window.__pwned=1</script>",
    "\\`;window.__pwned=1;//",
]


def test_html_text_and_attr_by_hand():
    assert html_text('<b>"A" & \'B\'</b>') == "&lt;b&gt;\"A\" &amp; 'B'&lt;/b&gt;"
    assert html_attr('"><img src=x>') == "&quot;&gt;&lt;img src=x&gt;"
    assert html_attr("l'Arc") == "l&#x27;Arc"
    assert html_text(None) == html_text(float("nan")) == "—"


def test_js_string_by_hand():
    assert js_string("</script>") == '"\\u003c/script\\u003e"'
    assert js_string("a'b`c") == '"a\\u0027b\\u0060c"'
    assert js_string('say "hi"\n') == '"say \\"hi\\"\\n"'


def test_js_template_by_hand():
    assert js_template("${x}") == "\\${x}"
    assert js_template("`") == "\\`"
    assert js_template("a\\b") == "a\\\\b"
    assert js_template("<script>") == "&lt;script&gt;"


@pytest.mark.parametrize("text", HOSTILE)
def test_js_template_round_trips_through_a_template_literal(text):
    """What a JavaScript engine makes of `...` holding js_template(text) is the HTML
    escape of text: checked with node's rules re-implemented by hand below."""
    literal = js_template(text)
    # a template literal ends at an unescaped backtick; ${ starts code: neither may occur
    i, out = 0, []
    while i < len(literal):
        c = literal[i]
        assert c != "`", literal
        assert not (c == "$" and literal[i + 1:i + 2] == "{"), literal
        if c == "\\":
            out.append(literal[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    assert "".join(out) == html_text(text)
    assert "</script" not in literal.lower()


def test_terminal_text_shows_control_characters():
    assert terminal_text("Modane\x1b[2J\rX\nY\x07") == "Modane\\x1b[2J\\x0dX Y\\x07"
    assert terminal_text("Saint-Jean-de-Maurienne") == "Saint-Jean-de-Maurienne"
