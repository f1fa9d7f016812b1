"""Plain data types that planning computes and the outputs render.

Owns: :class:`ScenarioResult` (one siting scenario as a before/after table with a
French summary). Computation builds these; :mod:`accessibility.outputs.report` draws
them. Imports only :mod:`accessibility.core`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from accessibility.core.errors import DataError


@dataclass(frozen=True)
class ScenarioResult:
    """One siting scenario as the report shows it.

    Parameters
    ----------
    title
        Short title, e.g. ``"Une France Services de plus (MCLP, 20 min)"``.
    summary_fr
        One sentence in French saying what the scenario changes.
    table
        The before/after table: the first column names the indicator, the others are
        values (e.g. ``"Avant"``, ``"Après"``); numbers are formatted in French.
    source
        Optional note on the model and its inputs (shown under the table).
    """

    title: str
    summary_fr: str
    table: pd.DataFrame
    source: str = ""

    def __post_init__(self) -> None:
        if not str(self.title).strip():
            raise DataError("ScenarioResult.title: expected a non-empty title")
        if not isinstance(self.table, pd.DataFrame) or self.table.shape[1] < 2:
            raise DataError(
                "ScenarioResult.table: expected a DataFrame with an indicator column and at "
                f"least one value column, got {type(self.table).__name__}"
                + (f" with {self.table.shape[1]} column(s)" if hasattr(self.table, "shape") else "")
            )
