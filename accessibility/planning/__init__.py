"""Planning: what-if questions on top of the diagnostic.

Owns: facility-location models (:mod:`.siting`), road and service scenarios and the
seasons (:mod:`.scenarios`), candidate sites (:mod:`.candidates`), the before/after
arithmetic (:mod:`.changes`), site scenarios and the choice of new sites
(:mod:`.sites`), the report's best new sites (:mod:`.pistes`), the project sheet
(:mod:`.project`), itinerant tours (:mod:`.tours`,
its inputs, solver and comparison in :mod:`.tour_inputs`, :mod:`.tour_solver`,
:mod:`.tour_compare`; a territory's tour in :mod:`.itinerant`), and the plain result
types the outputs render (:mod:`.results`). Computes; never renders (no HTML, maps or
report here).

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs`,
:mod:`accessibility.network`, :mod:`accessibility.engine`,
:mod:`accessibility.indicators`, :mod:`accessibility.validation`.

The planners' entry points are available here directly (loaded on first use)::

    from accessibility.planning import evaluate_scenario, choose_sites, project_sheet
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> module that defines it
_PUBLIC = {
    "read_candidates": "accessibility.planning.candidates",
    "town_hall_candidates": "accessibility.planning.candidates",
    "change_summary": "accessibility.planning.changes",
    "evaluate_scenario": "accessibility.planning.sites",
    "choose_sites": "accessibility.planning.sites",
    "project_sheet": "accessibility.planning.project",
    "siting_options": "accessibility.planning.pistes",
    "plan_itinerant_tour": "accessibility.planning.itinerant",
    "plan_tour": "accessibility.planning.tours",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'accessibility.planning' has no attribute {name!r}")
