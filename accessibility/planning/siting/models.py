"""The siting models (p-median, MCLP, LSCP, p-center), each solved to a proven optimum.

Owns nothing of its own: the one place that lists the models. The p-median is in
:mod:`.median`, the covering models (MCLP, LSCP, p-center) in :mod:`.coverage`, what
they share (:class:`SitingResult`, the validated problem) in :mod:`._common`.
"""

from __future__ import annotations

from accessibility.planning.siting._common import SitingResult
from accessibility.planning.siting.coverage import lscp, mclp, p_center
from accessibility.planning.siting.median import p_median

__all__ = ["SitingResult", "lscp", "mclp", "p_center", "p_median"]
