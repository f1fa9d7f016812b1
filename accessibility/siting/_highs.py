"""A thin call of the HiGHS MIP solver (highspy) on a model given as sparse arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._errors import AccessibilityError


class SolverError(AccessibilityError, RuntimeError):
    """The MIP solver did not prove an optimum (infeasible, time limit, ...)."""


@dataclass(frozen=True)
class MipSolution:
    """What the solver returns: column values, objective and status text."""

    x: np.ndarray
    objective: float
    status: str


def solve_mip(
    cost: np.ndarray,
    a: sp.csr_array,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    *,
    maximize: bool = False,
    offset: float = 0.0,
    time_limit_s: float | None = None,
    what: str,
) -> MipSolution:
    """Solve ``min/max cost·x + offset`` s.t. ``row_lower <= a x <= row_upper`` exactly.

    The relative MIP gap is set to 0 so that the optimum is proven, not approximated
    (HiGHS's default stops at a 0.01 % gap). Anything but an optimal status raises
    :class:`SolverError` naming ``what`` and the status.
    """
    import highspy  # optional at import time: only the MIP models need it

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    a = sp.csr_array(a)
    a.sum_duplicates()
    inf = highspy.kHighsInf
    h.passModel(
        int(a.shape[1]),
        int(a.shape[0]),
        int(a.nnz),
        int(highspy.MatrixFormat.kRowwise),
        int(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize),
        float(offset),
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(col_lower, dtype=np.float64),
        np.ascontiguousarray(col_upper, dtype=np.float64),
        np.nan_to_num(np.asarray(row_lower, dtype=np.float64), neginf=-inf, posinf=inf),
        np.nan_to_num(np.asarray(row_upper, dtype=np.float64), neginf=-inf, posinf=inf),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data.astype(np.float64),
        np.asarray(integer, dtype=np.int32),
    )
    h.run()
    status = h.getModelStatus()
    text = h.modelStatusToString(status)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"{what}: the HiGHS solver did not find an optimum: status {text!r}")
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return MipSolution(x=x, objective=float(h.getInfo().objective_function_value), status=text)
