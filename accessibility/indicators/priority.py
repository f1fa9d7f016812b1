"""Priority zones: a transparent score per commune (or cell), with its reasons in French.

The criteria (indicator, threshold, weight, French wording, source) are data, in
``data/indicators/priority.toml``. A place's score is the sum of the weights of the
criteria it meets; every met criterion gives a reason such as
« France Services à 34 min (seuil 20 min) ».
"""

from __future__ import annotations

import math
import tomllib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.errors import DataError, DataWarning
from accessibility.core.paths import project_data_dir

FORMATS = {
    "minutes": _fr.minutes,
    "pct": _fr.pct,
    "num0": lambda v: _fr.num(v, 0),
    "num1": lambda v: _fr.num(v, 1),
}


@dataclass(frozen=True)
class Criterion:
    """One rule: ``column`` above ``above`` (or below ``below``) adds ``weight``."""

    key: str
    column: str
    weight: float
    reason_fr: str
    format: str = "num1"
    above: float | None = None
    below: float | None = None
    source: str = ""

    @property
    def threshold(self) -> float:
        return self.above if self.above is not None else float(self.below)  # type: ignore[arg-type]

    def met(self, values: pd.Series) -> np.ndarray:
        v = values.to_numpy(dtype=float)
        if self.above is not None:
            # an unreachable place (NaN time) is as far as can be
            return np.where(np.isnan(v), True, v > self.above)
        return np.where(np.isnan(v), False, v < self.below)

    def reason(self, value: float) -> str:
        fmt = FORMATS[self.format]
        shown = (
            fmt(value) if not (isinstance(value, float) and math.isnan(value)) else "inaccessible"
        )
        return self.reason_fr.format(value=shown, threshold=fmt(self.threshold))


def load_criteria(path: Path | None = None) -> tuple[Criterion, ...]:
    """Read and check the criteria file (default ``data/indicators/priority.toml``)."""
    path = path or project_data_dir() / "indicators" / "priority.toml"
    try:
        with Path(path).open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc})") from exc
    out = []
    for i, item in enumerate(raw.get("criterion", [])):
        where = f"{path}: criterion {item.get('key', i + 1)!r}"
        try:
            crit = Criterion(**item)
        except TypeError as exc:
            raise DataError(f"{where}: {exc}") from exc
        if (crit.above is None) == (crit.below is None):
            raise DataError(f"{where}: give exactly one of 'above' or 'below'")
        if crit.format not in FORMATS:
            raise DataError(f"{where}: format must be one of {', '.join(FORMATS)}")
        if not crit.weight > 0:
            raise DataError(f"{where}: weight must be > 0")
        out.append(crit)
    if not out:
        raise DataError(f"{path}: no [[criterion]]")
    keys = [c.key for c in out]
    if len(set(keys)) != len(keys):
        raise DataError(f"{path}: duplicate criterion keys")
    return tuple(out)


def score(
    table: pd.DataFrame, criteria: Sequence[Criterion], *, where: str = "indicator table"
) -> pd.DataFrame:
    """Score every row of ``table``; return ``priority_score``, ``n_criteria``, ``reasons``.

    A criterion whose column is absent from the table (its category has no service in the
    data, say) is skipped with a warning naming it.
    """
    scores = np.zeros(len(table))
    count = np.zeros(len(table), dtype=int)
    reasons: list[list[str]] = [[] for _ in range(len(table))]
    skipped = []
    for crit in criteria:
        if crit.column not in table.columns:
            skipped.append(f"{crit.key} ({crit.column})")
            continue
        met = crit.met(table[crit.column])
        scores += np.where(met, crit.weight, 0.0)
        count += met
        values = table[crit.column].to_numpy(dtype=float)
        for i in np.flatnonzero(met):
            reasons[i].append(crit.reason(float(values[i])))
    if skipped:
        warnings.warn(
            f"{where}: priority criteria skipped, their indicator is missing: {', '.join(skipped)}",
            DataWarning,
            stacklevel=2,
        )
    return pd.DataFrame(
        {
            "priority_score": scores,
            "n_criteria": count,
            "reasons": [" ; ".join(r) for r in reasons],
        },
        index=table.index,
    )


def rank_communes(communes: pd.DataFrame, criteria: Sequence[Criterion]) -> pd.DataFrame:
    """The communes with a positive score, ranked (score, then population, descending).

    ``communes`` must hold ``commune_code``, ``commune_name``, ``epci_name``,
    ``population`` and the indicator columns. Returns ``rank`` and the scoring columns.
    """
    scored = pd.concat([communes, score(communes, criteria, where="communes")], axis=1)
    ranked = scored[scored["priority_score"] > 0].sort_values(
        ["priority_score", C.POPULATION], ascending=[False, False]
    )
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    cols = [
        "rank",
        C.COMMUNE_CODE,
        C.COMMUNE_NAME,
        C.EPCI_NAME,
        C.POPULATION,
        "priority_score",
        "n_criteria",
        "reasons",
    ]
    return ranked[cols].reset_index(drop=True)
