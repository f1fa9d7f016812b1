"""Build-once caches: stable keys, entries written atomically, damaged entries rebuilt.

Owns the rule every cache of the project follows (prepared layers, town halls, road
networks): an entry is stored under a key that hashes *everything* its content depends
on, so any changed input rebuilds it and an unchanged one is reused:

* the content of the files it was built from: upstream sources by their catalogued
  sha256 (verified when fetched), project files (territory, parameter TOML) by content;
* the source code of the modules that build it (:func:`code_hash`), so a code change
  rebuilds automatically, plus a ``build_version`` constant per reader for what the
  code hash cannot see (a changed third-party library, say);
* the package version.

An entry is a folder ``<cache>/<name>-<key>/`` written in full to a temporary folder
and renamed into place (one atomic rename, as :func:`accessibility.core.files.atomic_write`
does for single files): a reader never sees a half-written entry. An entry that cannot
be read (truncated, deleted file) is rebuilt with a :class:`CacheWarning`, never a
traceback. The warnings raised while building an entry are stored with it and raised
again each time it is loaded, so a cached run reports the same data warnings as a cold
one.

May import: the standard library, third-party packages and :mod:`accessibility.core`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from accessibility.core import errors
from accessibility.core.errors import CacheWarning

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How many times each kind of entry was built in this process (tests assert on it).
BUILDS: Counter[str] = Counter()

META_FILE = "entry.json"


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file (hex)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def code_hash(modules: Iterable[str]) -> str:
    """A hash of the source files of ``modules`` (dotted names; a package counts all
    the ``.py`` files of its folder)."""
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ValueError(f"code_hash: no source for module {name!r}")
        origin = Path(spec.origin)
        files = sorted(origin.parent.glob("*.py")) if origin.name == "__init__.py" else [origin]
        for file in files:
            h.update(file.name.encode())
            h.update(file.read_bytes())
    return h.hexdigest()[:16]


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _norm(value: Any) -> Any:
    """Key parts as JSON: a :class:`~pathlib.Path` of a file stands for its content."""
    if isinstance(value, Path):
        return {"sha256": file_sha256(value)} if value.is_file() else str(value)
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def make_key(parts: Mapping[str, Any]) -> str:
    """A stable 24-hex-digit hash of ``parts`` (JSON with sorted keys; file paths given
    as :class:`~pathlib.Path` are hashed by content)."""
    from accessibility import __version__

    payload = {"parts": _norm(dict(parts)), "package_version": __version__}
    try:
        text = json.dumps(payload, sort_keys=True, default=_json_default)
    except TypeError as exc:
        raise TypeError(f"cache key parts must be JSON-serialisable: {exc}") from exc
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Store(Generic[T]):
    """How one kind of entry is written to and read from its folder."""

    save: Callable[[T, Path], dict[str, Any]]
    """Write the value's files into the folder; return JSON-able metadata."""
    load: Callable[[Path, dict[str, Any]], T]
    """Read the value back from the folder and the metadata ``save`` returned."""


def _save_frame(gdf: Any, folder: Path) -> dict[str, Any]:
    gdf.to_parquet(folder / "layer.parquet")
    # Parquet reads text columns back as pandas' string dtype: note which were
    # ``object`` so that a cached layer is the very frame a fresh build gives
    geometry = gdf.geometry.name
    objects = [str(c) for c, t in gdf.dtypes.items() if t is np.dtype(object) and c != geometry]
    return {"rows": len(gdf), "object_columns": objects}


def _load_frame(folder: Path, meta: dict[str, Any]) -> Any:
    import geopandas as gpd

    gdf = gpd.read_parquet(folder / "layer.parquet")
    if len(gdf) != meta["rows"]:
        raise ValueError(f"{len(gdf)} rows read, {meta['rows']} stored")
    for column in meta.get("object_columns", []):
        gdf[column] = gdf[column].astype(object)
    return gdf


#: One GeoDataFrame per entry, as GeoParquet (``layer.parquet``).
GEOPARQUET: Store[Any] = Store(save=_save_frame, load=_load_frame)


def _save_table(df: Any, folder: Path) -> dict[str, Any]:
    df.to_parquet(folder / "table.parquet")  # index kept
    return {"rows": len(df)}


def _load_table(folder: Path, meta: dict[str, Any]) -> Any:
    import pandas as pd

    df = pd.read_parquet(folder / "table.parquet")
    if len(df) != meta["rows"]:
        raise ValueError(f"{len(df)} rows read, {meta['rows']} stored")
    return df


#: One plain DataFrame per entry (index included), as Parquet (``table.parquet``).
PARQUET_TABLE: Store[Any] = Store(save=_save_table, load=_load_table)


def _replay(records: list[dict[str, str]]) -> None:
    for w in records:
        category = getattr(errors, w.get("category", ""), None)
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = errors.DataWarning
        warnings.warn(w["message"], category, stacklevel=4)


def _build_recording(build: Callable[[], T]) -> tuple[T, list[warnings.WarningMessage]]:
    """Call ``build`` and return its value and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = build()
    return value, list(caught)


def cached(
    folder: Path,
    name: str,
    key_parts: Mapping[str, Any],
    build: Callable[[], T],
    store: Store[T],
    *,
    keep_others: bool = False,
) -> T:
    """The value cached as ``folder/<name>-<key>``, building and storing it if absent.

    ``name`` says what the entry is (``"maurienne-communes"``; :data:`BUILDS` counts
    builds by name); other entries of the same name (older keys) are removed once the
    new one is stored, unless ``keep_others``. A damaged entry is rebuilt with a
    :class:`CacheWarning`.
    """
    key = make_key(key_parts)
    entry = Path(folder) / f"{name}-{key}"
    if entry.is_dir():
        try:
            meta = json.loads((entry / META_FILE).read_text(encoding="utf-8"))
            value = store.load(entry, meta["value"])
        except Exception as exc:  # any damage: say so and rebuild
            warnings.warn(
                f"cache entry {entry} cannot be read ({type(exc).__name__}: {exc}); "
                "rebuilding it",
                CacheWarning,
                stacklevel=2,
            )
            shutil.rmtree(entry, ignore_errors=True)
        else:
            log.debug("cache: reusing %s", entry)
            _replay(meta.get("warnings", []))
            return value
    BUILDS[name] += 1
    value, caught = _build_recording(build)
    records = [{"category": w.category.__name__, "message": str(w.message)} for w in caught]
    try:
        _store(entry, key, key_parts, value, records, store)
    except (OSError, ValueError, TypeError) as exc:  # read-only cache, unstorable value
        warnings.warn(
            f"cache entry {entry} cannot be written ({type(exc).__name__}: {exc}); "
            "continuing without it (it will be built again next time)",
            CacheWarning,
            stacklevel=2,
        )
    if not keep_others:
        for other in Path(folder).glob(f"{name}-*"):
            if other != entry and other.is_dir() and len(other.name) == len(entry.name):
                shutil.rmtree(other, ignore_errors=True)
    for w in caught:  # raised again, now that the entry is safely stored
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return value


def _store(
    entry: Path,
    key: str,
    key_parts: Mapping[str, Any],
    value: Any,
    records: list[dict[str, str]],
    store: Store[Any],
) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    try:
        meta = {
            "key": key,
            "key_parts": _norm(dict(key_parts)),
            "value": store.save(value, tmp),
            "warnings": records,
        }
        (tmp / META_FILE).write_text(
            json.dumps(meta, indent=1, sort_keys=True, default=_json_fallback), encoding="utf-8"
        )
        try:
            os.replace(tmp, entry)
        except OSError:
            if not entry.is_dir():  # another process stored the same entry: keep theirs
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.debug("cache: stored %s", entry)


def _json_fallback(value: Any) -> Any:
    try:
        return _json_default(value)
    except TypeError:
        return str(value)
