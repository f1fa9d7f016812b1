"""The session fixtures no longer silence warnings (issue 12): each warning they raise
must be a known one (category and message, with its reason, in ``conftest.py``) and
each known one must still be raised. The old fixtures ran under
``warnings.simplefilter("ignore")``, which cancelled ``filterwarnings = error``."""

from __future__ import annotations

import warnings

import pytest

from accessibility.core.errors import DataWarning, SnapWarning

TOWN_HALLS = (
    "commune polygons of maurienne.toml (communes/x.geojson): the town hall of 2 commune(s) "
    "lies just outside its (simplified) polygon (within 2,000 m): 73177, 73259"
)


def test_a_known_warning_passes(known_warnings):
    with known_warnings("town_halls"):
        warnings.warn(TOWN_HALLS, DataWarning, stacklevel=1)


def test_an_unknown_warning_fails_the_fixture(known_warnings):
    with (
        pytest.raises(pytest.fail.Exception, match="unexpected warning.*a new data problem"),
        known_warnings("town_halls"),
    ):
        warnings.warn(TOWN_HALLS, DataWarning, stacklevel=1)
        warnings.warn("a new data problem", DataWarning, stacklevel=1)


def test_the_right_message_in_the_wrong_category_fails(known_warnings):
    with (
        pytest.raises(pytest.fail.Exception, match="unexpected warning"),
        known_warnings("town_halls"),
    ):
        warnings.warn(TOWN_HALLS, SnapWarning, stacklevel=1)


def test_a_known_warning_that_stops_being_raised_fails(known_warnings):
    with (
        pytest.raises(pytest.fail.Exception, match=r"not raised: \['town_halls'\]"),
        known_warnings("town_halls"),
    ):
        pass


@pytest.mark.integration
def test_the_session_fixtures_raise_only_known_warnings(maurienne, maurienne_diagnostic):
    """The fixtures were built under the check (a failure there errors every test that
    uses them); here, that they did build."""
    assert len(maurienne.communes) == 53
    assert len(maurienne_diagnostic.communes) == 53
