"""Where things live: the project's own data files, the download cache and the mirror.

Nothing here is global mutable state: :func:`default_paths` reads the environment once
and returns a frozen :class:`Paths` that callers pass down.

Environment variables
---------------------
``ACCESSIBILITY_DATA_MIRROR``
    A folder laid out like ``../shared/data`` (the mirror of the upstream files). When
    set, or when ``../shared/data`` exists beside the project checkout, files are taken
    from it instead of the network. Set it to an empty string to disable the default.
``ACCESSIBILITY_CACHE_DIR``
    Where fetched files and prepared layers are kept (default: ``.cache/`` in a source
    checkout, else the user cache folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: The project checkout, when the package runs from one (editable install, tests).
REPO_DIR = PACKAGE_DIR.parent


def project_data_dir() -> Path:
    """Folder of the project-authored data files (territories, categories, sources).

    In a source checkout it is ``data/`` at the top of the repository; a wheel carries
    the same files as ``accessibility/_data``.
    """
    packaged = PACKAGE_DIR / "_data"
    if packaged.is_dir():
        return packaged
    return REPO_DIR / "data"


@dataclass(frozen=True)
class Paths:
    """The folders one run works with."""

    data: Path
    """Project-authored data files (``data/`` of the repository)."""
    cache: Path
    """Download cache and prepared layers (git-ignored)."""
    mirror: Path | None
    """A mirror of the upstream files, used instead of the network when given."""

    @property
    def downloads(self) -> Path:
        return self.cache / "downloads"

    @property
    def prepared(self) -> Path:
        return self.cache / "prepared"


def default_paths() -> Paths:
    """Read the environment once and return the folders to use."""
    env_mirror = os.environ.get("ACCESSIBILITY_DATA_MIRROR")
    mirror: Path | None
    if env_mirror is not None:
        mirror = Path(env_mirror).expanduser().resolve() if env_mirror.strip() else None
    else:
        sibling = REPO_DIR.parent / "shared" / "data"
        mirror = sibling if sibling.is_dir() else None
    env_cache = os.environ.get("ACCESSIBILITY_CACHE_DIR")
    if env_cache:
        cache = Path(env_cache).expanduser().resolve()
    elif (REPO_DIR / "pyproject.toml").is_file():
        cache = REPO_DIR / ".cache"
    else:
        import pooch

        cache = Path(pooch.os_cache("accessibility"))
    return Paths(data=project_data_dir(), cache=cache, mirror=mirror)
