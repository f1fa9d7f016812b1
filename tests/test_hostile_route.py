"""``route A A`` is 0 (issue 12: ``route Modane Modane`` answered 0.4 km / 1 min).

A point is snapped to the middle of its road piece; the old route went from there to a
node and back. A trip that starts and ends on the same piece now takes that piece
directly when the direction allows it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import Point
from tt_grid import X0, Y0, grid_network


def test_a_point_to_itself_is_zero_on_a_hand_grid():
    from accessibility.engine.travel_times import route

    a = Point(X0 + 1000, Y0 + 300)  # 300 m up the 1 km edge 1-6 of a 5 x 5 grid
    r = route(grid_network(5), a, a)
    assert r.time_min == 0.0
    assert r.distance_km == 0.0


def test_two_points_on_one_piece_take_it_directly():
    """300 m and 700 m up the same 1 km edge at 60 km/h: 400 m, 0.4 min, not via a node
    (that would be 300 + 700 = 1 km or 700 + 300 through the other end)."""
    from accessibility.engine.travel_times import route

    r = route(grid_network(5), Point(X0 + 1000, Y0 + 300), Point(X0 + 1000, Y0 + 700))
    assert r.time_min == pytest.approx(0.4)
    assert r.distance_km == pytest.approx(0.4)


@pytest.mark.integration
def test_cli_route_modane_modane_is_zero(paths):
    """The command of the issue, end to end (a subprocess: its data warnings go to the
    log as in a user's terminal)."""
    repo = Path(__file__).resolve().parents[1]
    res = subprocess.run(
        [sys.executable, "-m", "accessibility.cli", "-q", "route", "Modane", "Modane"],
        capture_output=True, text=True, timeout=600, cwd=repo,
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(repo))},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-500:]
    assert "Modane (73157) -> Modane (73157): 0.0 km, 0 min" in res.stdout
