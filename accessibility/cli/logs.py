"""Logs a person can read: the command line's logging, warnings and progress display.

Owns: :func:`setup_logging` (called once by :func:`accessibility.cli.main`, the only
place that configures logging), the :class:`WarningLog` that turns every warning of the
package into one line, shown once (what, where, which ids; repeats are counted, not
printed), its summary and CSV (``warnings.csv`` in a run's output folder), and
:func:`steps`, a progress bar (rich) for the long steps when stderr is a terminal.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from accessibility.core.errors import AccessibilityWarning

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("accessibility")
warnings_log = logging.getLogger("accessibility.warnings")

#: Third-party loggers whose INFO lines are noise for a user (WeasyPrint's font
#: subsetting, fontTools, numexpr's thread count...): WARNING and above only, unless -vv.
NOISY = (
    "weasyprint",
    "fontTools",
    "numexpr",
    "pyogrio",
    "fiona",
    "urllib3",
    "matplotlib",
    "PIL",
    "pooch",
    "choreographer",
    "kaleido",
)
FORMAT = "%(levelname)s %(name)s: %(message)s"

#: Ids named in a warning: INSEE commune codes (73157, 2A004), grid cells
#: (CRS3035RES1000mN2469000E4091000) and services (france_services/fs:2823, laposte:10745D).
_IDS = re.compile(
    r"(?<![\w/.:,-])(?:\d[0-9AB]\d{3}|CRS3035RES\d+mN\d+E\d+|(?:[a-z_]+/)?[a-z][a-z0-9]*:\w[\w.-]*)"
    r"(?![\w/-]|[.,]\d)"
)
#: What the warning is about: its text before the first ": " (a file, a layer, a step).
_WHERE = re.compile(r"^(.{1,160}?): ")


@dataclass
class _Entry:
    kind: str
    message: str
    where: str
    ids: str
    count: int = 1


@dataclass
class WarningLog:
    """Every warning seen during a command, once each, with its count."""

    entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)

    def add(self, kind: str, message: str) -> bool:
        """Record a warning; True the first time this (kind, message) is seen."""
        text = " ".join(str(message).split())  # one line
        key = (kind, text)
        if key in self.entries:
            self.entries[key].count += 1
            return False
        m = _WHERE.match(text)
        ids = list(dict.fromkeys(_IDS.findall(text)))
        self.entries[key] = _Entry(kind, text, m.group(1) if m else "", " ".join(ids))
        return True

    def table(self) -> pd.DataFrame:
        """Columns ``kind, message, where, count, ids`` (one row per distinct warning)."""
        import pandas as pd

        cols = ["kind", "message", "where", "count", "ids"]
        rows = [[getattr(e, c) for c in cols] for e in self.entries.values()]
        table = pd.DataFrame(rows, columns=cols)
        for c in ("kind", "message", "where", "ids"):
            table[c] = table[c].map(_csv_safe)
        return table

    def summary(self) -> str:
        """``3 warnings: 2 DataWarning, 1 NetworkWarning`` (empty when there are none)."""
        if not self.entries:
            return ""
        by_kind: dict[str, int] = {}
        for e in self.entries.values():
            by_kind[e.kind] = by_kind.get(e.kind, 0) + 1
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))
        return f"{len(self.entries)} warning(s): {kinds}"

    def write_csv(self, path: Path) -> Path:
        from accessibility.core.files import write_table

        return write_table(self.table(), path)


def _csv_safe(text: str) -> str:
    """Messages quote names from open data: a leading ``= + - @`` would make a
    spreadsheet run the cell as a formula, so such a cell starts with an apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


#: The warnings of the current command (reset by :func:`setup_logging`).
WARNINGS = WarningLog()


def _show(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` replacement: one line, once, no source path."""
    kind = category.__name__
    if not WARNINGS.add(kind, str(message)):
        return
    text = WARNINGS.entries[(kind, " ".join(str(message).split()))].message
    if issubclass(category, AccessibilityWarning):
        warnings_log.warning("%s: %s", kind, text)
    else:  # a library's deprecation notice: for developers (-vv)
        logging.getLogger("py.warnings").debug("%s: %s", kind, text)


class _Formatter(logging.Formatter):
    """``WARNING DataWarning: <message>`` for warnings, ``LEVEL logger: message`` else."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == warnings_log.name:
            return f"{record.levelname} {record.getMessage()}"
        return super().format(record)


#: The handler :func:`setup_logging` installed (a second setup replaces it).
_INSTALLED: list[logging.Handler] = []


def setup_logging(verbose: int = 0, quiet: bool = False) -> WarningLog:
    """Configure logging and warnings for one command; return its warning log."""
    global WARNINGS
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    root = logging.getLogger()
    while _INSTALLED:
        root.removeHandler(_INSTALLED.pop())
    handler: logging.Handler
    if _interactive():
        from rich.logging import RichHandler

        handler = RichHandler(console=_console(), show_time=False, show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Formatter(FORMAT))
    root.addHandler(handler)
    _INSTALLED.append(handler)
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    logging.captureWarnings(False)
    WARNINGS = WarningLog()
    # every occurrence reaches _show, which prints the first and counts the others
    warnings.simplefilter("always", AccessibilityWarning)
    warnings.showwarning = _show
    return WARNINGS


def _interactive() -> bool:
    return sys.stderr.isatty()


_CONSOLE: Any = None


def _console() -> Any:
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        _CONSOLE = Console(stderr=True)
    return _CONSOLE


@contextmanager
def steps(total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A ``progress(message)`` callable for the long steps of a command.

    On a terminal: a rich progress bar (step n of ``total``, elapsed time) that the log
    lines scroll above. Otherwise: no bar, each step is an INFO log line.
    """
    if not _interactive():
        yield lambda message: log.info("%s", message)
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn()]  # fmt: skip
    with Progress(*columns, console=_console(), transient=True) as bar:
        task = bar.add_task("", total=total)
        started = [False]

        def progress(message: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=message, refresh=True)

        yield progress
