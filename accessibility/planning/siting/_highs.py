"""A thin call of the HiGHS MIP solver (highspy) on a model given as sparse arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from accessibility.core.errors import AccessibilityError


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

    h = _model(cost, a, row_lower, row_upper, col_lower, col_upper, integer, maximize, offset)
    h.setOptionValue("mip_rel_gap", 0.0)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.run()
    status = h.getModelStatus()
    text = h.modelStatusToString(status)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"{what}: the HiGHS solver did not find an optimum: status {text!r}")
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return MipSolution(x=x, objective=float(h.getInfo().objective_function_value), status=text)


def _model(
    cost: np.ndarray,
    a: sp.csr_array,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray | None,
    maximize: bool,
    offset: float,
) -> Any:
    """A silent ``highspy.Highs`` holding the model (passed as CSR arrays at once)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    a = sp.csr_array(a)
    a.sum_duplicates()
    inf = highspy.kHighsInf
    args = [
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
    ]
    kinds = np.zeros(a.shape[1], np.int32) if integer is None else integer  # 0: continuous
    h.passModel(*args, np.asarray(kinds, dtype=np.int32))
    return h


def solve_lp(
    cost: np.ndarray,
    a: sp.csr_array,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    *,
    maximize: bool = False,
    what: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Column values and row duals of an LP (used for bounds and hints checked elsewhere)."""
    import highspy

    h = _model(cost, a, row_lower, row_upper, col_lower, col_upper, None, maximize, 0.0)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        text = h.modelStatusToString(h.getModelStatus())
        raise SolverError(f"{what}: the HiGHS LP relaxation ended with status {text!r}")
    sol = h.getSolution()
    return np.asarray(sol.col_value, dtype=np.float64), np.asarray(sol.row_dual, dtype=np.float64)
