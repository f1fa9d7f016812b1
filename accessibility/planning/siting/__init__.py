"""Facility location on a travel-time matrix: p-median, MCLP, LSCP and p-center.

The models are pure functions of a cost matrix (demand points × candidate sites, in
minutes) and demand weights; they do not need the road network. Each is solved to a
proven optimum, by enumeration when the number of site sets is small and otherwise
with the HiGHS MIP solver. See ``docs/siting.md``.
"""

from __future__ import annotations

from accessibility.planning.siting._highs import SolverError
from accessibility.planning.siting._inputs import CostMatrix
from accessibility.planning.siting.models import SitingResult, lscp, mclp, p_center, p_median

__all__ = [
    "CostMatrix",
    "SitingResult",
    "SolverError",
    "lscp",
    "mclp",
    "p_center",
    "p_median",
]
