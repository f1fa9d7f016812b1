"""Shared fixtures: the data mirror and the prepared Maurienne layers.

Integration tests need the mirror of the upstream files (``../shared/data`` beside the
checkout, or ``ACCESSIBILITY_DATA_MIRROR``). In CI (``CI`` set) a missing mirror is a
failure, never a skip.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from accessibility.core.paths import Paths, default_paths

#: the throw-away PostgreSQL/PostGIS cluster and QGIS's Python (issue 16)
pytest_plugins = ["conftest_pg"]


@pytest.fixture(scope="session")
def paths() -> Paths:
    p = default_paths()
    if p.mirror is None or not p.mirror.is_dir():
        msg = "the data mirror (../shared/data or ACCESSIBILITY_DATA_MIRROR) is missing"
        if os.environ.get("CI"):
            pytest.fail(msg + ": integration tests must run in CI")
        pytest.skip(msg)
    return p


@pytest.fixture(scope="session")
def maurienne(paths):
    """The prepared Maurienne layers (communes, census cells, services)."""
    from accessibility.inputs.layers import prepare_layers

    with warnings.catch_warnings():
        # known, reported data warnings (town halls outside simplified polygons...)
        warnings.simplefilter("ignore")
        return prepare_layers("maurienne", paths=paths)


@pytest.fixture(scope="session")
def maurienne_study(paths):
    """The Maurienne study: layers and road network."""
    from accessibility.pipeline import open_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_study("maurienne", paths=paths)


@pytest.fixture(scope="session")
def maurienne_diagnostic(maurienne_study):
    """Every indicator of the Maurienne (run_diagnostic on the study)."""
    from accessibility.indicators.diagnostic import run_diagnostic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_diagnostic(maurienne_study)


# --- a real browser for the page tests (Debian's chromium, offline) ---------------------------

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium driven by Playwright; every request but file: and data: is
    blocked and recorded (``ctx, blocked``): the pages must work offline."""
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing (make test installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg + ": browser tests must run in CI")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def route(r):  # type: ignore[no-untyped-def]
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            args=FLAGS, headless=True, viewport={"width": 1200, "height": 850},
        )
        ctx.route("**/*", route)
        yield ctx, blocked
        ctx.close()
