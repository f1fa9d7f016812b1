"""Safe output folders: where each command writes, and replacing a folder only if ours.

Owns: the output roots (``output/``, ``maps/``), the default folder of each command
(:func:`command_dir`), the name rule for anything that becomes a path
(:func:`check_name`), the marker file (:data:`MARKER`) a run leaves in each folder it
writes, and :func:`staged_folders`, which builds a run's folders beside their targets
and swaps them in together. Imports :mod:`accessibility.core.errors` only.

Rules (issue 12):

* a folder is replaced only if it is absent, empty, or carries the marker the project
  wrote there; anything else (``--out .``, ``--out ~/Documents``, a folder holding a
  thesis) is refused with a one-line message;
* ``run`` owns ``output/<slug>/`` and ``maps/<slug>/``; the planners' commands write
  their own files into ``output/<slug>_<command>/`` (an underscore never appears in a
  slug, so the two never meet) and never replace a folder;
* staging folders ``.<name>.new-<pid>-*`` left by a killed run are removed by the next
  run (only those whose process is gone).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from accessibility.core.errors import OutputError

#: The root of the data exports and of the maps, relative to the working folder.
OUTPUT_ROOT = Path("output")
MAPS_ROOT = Path("maps")
#: The file the project writes in every folder it may later replace.
MARKER = ".accessibility-output"
#: Slugs and scenario names: lower-case letters, digits and hyphens.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: Folder of each planner command under ``output/`` (suffix of the territory slug).
COMMAND_FOLDERS = {
    "times": "times",
    "site": "scenarios",
    "project": "projets",
    "tour": "tournees",
    "validate": "validation",
}


def check_name(name: str, *, what: str) -> str:
    """``name`` if it matches ``^[a-z0-9][a-z0-9-]*$`` (it becomes a folder name).

    Raises :class:`OutputError` naming ``what`` (e.g. ``"scenario name"``) otherwise.
    """
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or len(name) > 100:
        raise OutputError(
            f"{what} {name!r}: expected lower-case letters, digits and hyphens "
            "(^[a-z0-9][a-z0-9-]*$, at most 100 characters); it becomes a folder name"
        )
    return name


def run_dirs(slug: str) -> tuple[Path, Path]:
    """The default folders of ``run``: ``output/<slug>`` and ``maps/<slug>``."""
    check_name(slug, what="territory slug")
    return OUTPUT_ROOT / slug, MAPS_ROOT / slug


def command_dir(command: str, slug: str, *, maps: bool = False) -> Path:
    """The default folder of a command other than ``run`` (``times``, ``site``,
    ``project``, ``tour``, ``validate``): ``output/<slug>_<folder>`` (``maps/...`` with
    ``maps=True``).

    These folders never overlap ``run``'s, which ``run`` replaces as a whole.
    """
    check_name(slug, what="territory slug")
    if command not in COMMAND_FOLDERS:
        raise OutputError(f"output folder: unknown command {command!r}")
    return (MAPS_ROOT if maps else OUTPUT_ROOT) / f"{slug}_{COMMAND_FOLDERS[command]}"


def new_run_id() -> str:
    """A run id: UTC time and a random suffix (``20261206T101500Z-3f9a1c``)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def read_marker(folder: Path) -> dict | None:
    """The marker of ``folder`` (its JSON content), or None when there is none."""
    path = Path(folder) / MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_marker(folder: Path, run_id: str, command: str) -> Path:
    path = Path(folder) / MARKER
    info = {"run_id": run_id, "command": command, "pid": os.getpid()}
    path.write_text(json.dumps(info) + "\n", encoding="utf-8")
    return path


def check_replaceable(target: Path) -> None:
    """Refuse (:class:`OutputError`) to replace ``target`` unless it is absent, an empty
    folder, or a folder carrying the project's marker; never the working folder, the
    home folder or one of their parents."""
    target = Path(target)
    resolved = target.expanduser().resolve()
    protected = {Path.cwd().resolve(), Path.home().resolve()}
    if resolved.parent == resolved or any(resolved == p or resolved in p.parents
                                          for p in protected):
        raise OutputError(
            f"output folder {target}: refusing to replace the working folder, the home "
            "folder or one of their parents; name a new folder (e.g. output/my-run)"
        )
    existing = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {target}: cannot write there ({existing} is "
                          "read-only for this user)")
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise OutputError(
            f"output folder {target}: exists and is not a folder; name a new folder"
        )
    if read_marker(target) is None:
        foreign = sorted(p.name for p in target.iterdir() if not _legacy_run_file(p))
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputError(
                f"output folder {target}: holds files accessibility did not write ({shown}; "
                f"no {MARKER} file), refusing to replace it; name a new or empty folder"
            )


#: The files ``run`` wrote before markers existed (version 0.1): a folder holding only
#: these is an earlier run's and may be replaced. The maps ``site`` wrote there
#: (``scenario_*.html``) and its ``scenarios/``, ``projets/`` folders are not: the run
#: refuses and names them, so they can be moved to their own folders first.
_LEGACY_FILE = re.compile(
    r"^(?:accessibilite_[a-z0-9-]+\.gpkg|(?:communes|cells|services|priority)\.(?:csv|geojson)"
    r"|(?:epci_summary|territory_summary|indicators|sources|dictionnaire_des_donnees"
    r"|seasonal_population|warnings)\.csv|comparison_[a-z0-9-]+_[a-z0-9-]+\.csv|data_dictionary\.md"
    r"|(?:index|acces|services|priorites|isochrones|scenarios|rapport)\.html"
    r"|comparaison_[a-z0-9_]+\.html|rapport\.pdf)$"
)


def _legacy_run_file(path: Path) -> bool:
    if path.is_symlink():
        return False
    if path.is_dir():  # the report's figures
        return path.name == "figures" and all(
            p.is_file() and p.suffix == ".png" for p in path.iterdir())
    return bool(_LEGACY_FILE.match(path.name))


def check_targets(targets: Iterable[Path]) -> None:
    """:func:`check_replaceable` on each folder, and refuse two that are the same or
    nested (the second swap would replace the first)."""
    targets = [Path(t) for t in targets]
    resolved = [t.expanduser().resolve() for t in targets]
    for i, a in enumerate(resolved):
        for b in resolved[i + 1:]:
            if a == b or a in b.parents or b in a.parents:
                raise OutputError(f"output folders {a} and {b}: the same or nested; the "
                                  "exports and the maps need two separate folders")
    for t in targets:
        check_replaceable(t)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_STAGE = re.compile(r"^\.(?P<name>.+)\.(?:new-(?:(?P<pid>\d+)-)?[^/]*|old(?:-(?P<opid>\d+))?)$")


def remove_leftovers(target: Path) -> list[Path]:
    """Remove the staging folders of ``target`` (``.<name>.new-<pid>-*``,
    ``.<name>.old-<pid>``) whose process has ended; return what was removed."""
    target = Path(target)
    parent = target.parent
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        m = _STAGE.match(p.name)
        if not m or m["name"] != target.name or not p.is_dir() or p.is_symlink():
            continue
        pid = m["pid"] or m["opid"]
        if pid is not None and int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue  # another run is writing it
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _writable_error(folder: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"output folder {folder}: cannot write there ({reason})")


def _mkstage(target: Path) -> Path:
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", dir=parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; outputs are meant to be shared
    except OSError as exc:
        raise _writable_error(target, exc) from None
    return tmp


def _swap(stage: Path, target: Path) -> None:
    """Move ``target`` aside, put ``stage`` in its place, delete the old one."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    try:
        if target.exists():
            os.replace(target, old)
        os.replace(stage, target)
    except OSError as exc:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise _writable_error(target, exc) from None
    shutil.rmtree(old, ignore_errors=True)


@dataclass
class Staging:
    """The staging folders of one run (``stage[key]``) and where they will go."""

    targets: dict[str, Path]
    run_id: str
    command: str
    stages: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Path:
        return self.stages[key]

    def final(self, path: Path) -> Path:
        """Where ``path`` (inside a staging folder) will be once swapped in."""
        path = Path(path)
        for key, stage in self.stages.items():
            if path == stage or stage in path.parents:
                return self.targets[key] / path.relative_to(stage)
        return path


@contextmanager
def staged_folders(
    targets: Mapping[str, Path], *, command: str = "run", run_id: str | None = None
) -> Iterator[Staging]:
    """Build several output folders beside their targets, then swap them all in.

    Every target is checked first (:func:`check_replaceable`); leftovers of killed runs
    are removed; the body writes into ``staging[key]``; on success each folder gets the
    marker (same run id in all) and is renamed into place, one after the other, right
    at the end. On any error the staging folders are deleted and the previous outputs
    stay as they were. A kill (SIGKILL) before the swap leaves the previous outputs
    untouched and a staging folder that the next run removes.
    """
    targets = {k: Path(v) for k, v in targets.items()}
    check_targets(targets.values())
    for t in targets.values():
        remove_leftovers(t)
    staging = Staging(targets, run_id or new_run_id(), command)
    try:
        for key, t in targets.items():
            staging.stages[key] = _mkstage(t)
        yield staging
        for key in targets:
            write_marker(staging.stages[key], staging.run_id, command)
        for key, t in targets.items():
            _swap(staging.stages[key], t)
    finally:
        for stage in staging.stages.values():
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
