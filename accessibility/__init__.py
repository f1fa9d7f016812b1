"""accessibility: travel times to public services over the real road network.

The package follows the data flow, each subpackage importing only those before it:
``core`` → ``inputs`` → ``network`` → ``engine`` → ``indicators`` → ``validation`` →
``planning`` → ``outputs`` → ``pipeline`` → ``cli``. The names most analyses need are available
here directly (loaded on first use, so ``import accessibility`` stays light)::

    from accessibility import open_study, run_diagnostic, nearest, od_matrix, route
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_PUBLIC = {
    "open_study": "accessibility.pipeline",
    "run_job": "accessibility.pipeline",
    "Study": "accessibility.pipeline",
    "run_diagnostic": "accessibility.indicators.diagnostic",
    "Diagnostic": "accessibility.indicators.diagnostic",
    "nearest": "accessibility.engine.travel_times",
    "od_matrix": "accessibility.engine.travel_times",
    "od_pairs": "accessibility.engine.travel_times",
    "route": "accessibility.engine.travel_times",
    "isochrones": "accessibility.engine.isochrones",
    "RoadNetwork": "accessibility.network.graph",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'accessibility' has no attribute {name!r}")
