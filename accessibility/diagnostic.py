"""Former location of :mod:`accessibility.indicators.diagnostic` (code written for 0.1 runs).

Import from ``accessibility.indicators.diagnostic`` (or ``accessibility``) instead.
"""

from __future__ import annotations

import warnings

from accessibility.indicators.diagnostic import *  # noqa: F403
from accessibility.indicators.diagnostic import Diagnostic, run_diagnostic  # noqa: F401

warnings.warn(
    "accessibility.diagnostic moved to accessibility.indicators.diagnostic",
    FutureWarning,
    stacklevel=2,
)
