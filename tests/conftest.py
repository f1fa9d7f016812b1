"""Shared fixtures: the data mirror and the prepared Maurienne layers.

Integration tests need the mirror of the upstream files (``../shared/data`` beside the
checkout, or ``ACCESSIBILITY_DATA_MIRROR``). In CI (``CI`` set) a missing mirror is a
failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from pathlib import Path

import pytest

from accessibility.core.errors import DataWarning, NetworkWarning, SnapWarning
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


# --- the data warnings a Maurienne session raises, each expected for a stated reason ----------
# A user's run shows these warnings; the session fixtures no longer silence every warning
# (that cancelled ``filterwarnings = error``): each warning they raise must match one of
# these entries (category and message), and each entry a fixture lists must be raised. A
# new warning, or one that stops being raised, fails the fixture with the warning's text.
# Add an entry only with the reason the warning is expected on the real data.

KNOWN_WARNINGS: dict[str, tuple[type[Warning], str, str]] = {
    "town_halls": (
        DataWarning,
        r"commune polygons of maurienne\.toml .*: the town hall of 2 commune\(s\) lies just "
        r"outside its \(simplified\) polygon",
        "73177 and 73259 have their town hall within 2 km of the simplified polygon's edge",
    ),
    "laposte_coordinates": (
        DataWarning,
        r"services/laposte_poincont2_2016\.csv .*row\(s\) have missing or invalid coordinates",
        "La Poste's 2016 file lacks coordinates on some rows (placed at the town hall)",
    ),
    "far_hospital": (
        DataWarning,
        r"services: 1 service\(s\) lie more than 20 km from the département of their postcode",
        "GISCO geocodes one hospital (60000494) far from its postcode's département",
    ),
    "network_islands": (
        NetworkWarning,
        r"largest_component: removed \d+ of \d+ nodes",
        "OSM has a few road pieces not connected both ways to the main network",
    ),
    "far_origins": (
        SnapWarning,
        r"origins: \d+ point\(s\) lie farther than 1,000 m from the road network",
        "high-mountain 1 km cells (glaciers, the Vanoise) lie far from any road",
    ),
    "far_destinations": (
        SnapWarning,
        r"destinations: \d+ point\(s\) lie farther than 1,000 m from the road network",
        "services of the buffer (Isère hamlets) lie more than 1 km from a road",
    ),
    "unmatched_beds": (
        DataWarning,
        r"hebergements_classes\.csv: 1 classified establishment\(s\) with a postcode of the "
        r"territory match no commune name \(-\)",
        "one establishment of the classified-beds file has '-' as its commune (seasonal "
        "scenarios only)",
    ),
}
LAYER_WARNINGS = ("town_halls", "laposte_coordinates", "far_hospital")
STUDY_WARNINGS = (*LAYER_WARNINGS, "network_islands")
DIAGNOSTIC_WARNINGS = ("far_origins", "far_destinations")


@contextlib.contextmanager
def expected_warnings(*keys: str):
    """Record the warnings of the block; fail unless each matches one of ``keys``'
    entries of :data:`KNOWN_WARNINGS` and each entry was raised."""
    entries = {k: KNOWN_WARNINGS[k] for k in keys}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield
    raised: set[str] = set()
    unexpected = []
    for w in seen:
        hits = [k for k, (cat, pattern, _) in entries.items()
                if issubclass(w.category, cat) and re.search(pattern, str(w.message))]  # fmt: skip
        raised.update(hits)
        if not hits:
            unexpected.append(f"{w.category.__name__}: {w.message}")
    if unexpected:
        pytest.fail("unexpected warning(s): " + " | ".join(unexpected), pytrace=False)
    missing = sorted(set(entries) - raised)
    if missing:
        pytest.fail(f"expected warning(s) not raised: {missing}", pytrace=False)


@pytest.fixture(scope="session")
def known_warnings():
    """:func:`expected_warnings` for tests that open a study themselves."""
    return expected_warnings


@pytest.fixture(scope="session")
def maurienne(paths):
    """The prepared Maurienne layers (communes, census cells, services)."""
    from accessibility.inputs.layers import prepare_layers

    with expected_warnings(*LAYER_WARNINGS):
        return prepare_layers("maurienne", paths=paths)


@pytest.fixture(scope="session")
def maurienne_study(paths):
    """The Maurienne study: layers and road network."""
    from accessibility.pipeline import open_study

    with expected_warnings(*STUDY_WARNINGS):
        return open_study("maurienne", paths=paths)


@pytest.fixture(scope="session")
def maurienne_diagnostic(maurienne_study):
    """Every indicator of the Maurienne (run_diagnostic on the study)."""
    from accessibility.indicators.diagnostic import run_diagnostic

    with expected_warnings(*DIAGNOSTIC_WARNINGS):
        return run_diagnostic(maurienne_study)


# --- a real browser for the page tests (Debian's chromium, offline) ---------------------------

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

@contextlib.contextmanager
def offline_chromium(profile: Path, allowed: tuple[str, ...], viewport: dict[str, int]):
    """Headless Debian Chromium driven by Playwright, every request whose URL does not
    start with one of ``allowed`` blocked and recorded: yields ``(ctx, blocked)``. Fails
    in CI when chromium is missing (browser tests never skip there)."""
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing (make test installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg + ": browser tests must run in CI")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def route(r):  # type: ignore[no-untyped-def]
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=FLAGS, headless=True,
            viewport=viewport,
        )
        ctx.route("**/*", route)
        try:
            yield ctx, blocked
        finally:
            ctx.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium; every request but file: and data: is blocked and recorded
    (``ctx, blocked``): the pages must work offline."""
    with offline_chromium(tmp_path_factory.mktemp("chromium-profile"), ("file:", "data:"),
                          {"width": 1200, "height": 850}) as (ctx, blocked):
        yield ctx, blocked
