"""Writing files atomically: a temporary file in the same folder, then a rename.

Owns: :func:`atomic_write` and the table/JSON writers built on it. Every layer that
writes a file (prepared layers, caches, exports, maps) goes through here, so an
interrupted write never leaves a half-written file. Imports nothing of the project.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it into place.

    An interrupted or failing write leaves ``path`` as it was (absent, or the previous
    version) and no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some writers (GDAL) want to create the file themselves
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV (UTF-8, ``.`` decimals) or Parquet, by the file's suffix."""
    if path.suffix == ".parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    return atomic_write(path, lambda p: df.to_csv(p, index=False))


def write_json(obj: Any, path: Path) -> Path:
    return atomic_write(
        path,
        lambda p: p.write_text(json.dumps(obj, indent=1, ensure_ascii=False, default=str) + "\n"),
    )
