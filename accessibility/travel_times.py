"""Former location of :mod:`accessibility.engine.travel_times` (code written for 0.1 runs).

Import from ``accessibility.engine.travel_times`` (or ``accessibility``) instead.
"""

from __future__ import annotations

import warnings

from accessibility.engine.travel_times import *  # noqa: F403
from accessibility.engine.travel_times import nearest, od_matrix, route  # noqa: F401

warnings.warn(
    "accessibility.travel_times moved to accessibility.engine.travel_times",
    FutureWarning,
    stacklevel=2,
)
