"""accessibility: travel times to public services over the real road network.

The public API is re-exported here; see the README and ``docs/`` for the pipeline.
"""

from __future__ import annotations

__version__ = "0.1.0"
