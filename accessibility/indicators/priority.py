"""Priority zones: a transparent score per commune (or cell), with its reasons in French.

The criteria (indicator, threshold, weight, French wording, source) are data, in
``data/indicators/priority.toml``. A place's score is the sum of the weights of the
criteria it meets; every met criterion gives a reason such as
« France Services à 34 min (seuil 20 min) ».
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, Strict, model_validator

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core import params
from accessibility.core.errors import DataWarning
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


class _CriterionSchema(params.Schema):
    key: Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9_]*$")]
    column: Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9_]*$")]
    #: 0 < weight <= 100: a weight beyond that would hide every other criterion.
    weight: Annotated[params.Num, Field(gt=0, le=100)]
    reason_fr: params.Str
    format: Literal["minutes", "pct", "num0", "num1"] = "num1"
    above: params.Num | None = None
    below: params.Num | None = None
    source: params.Text = ""

    @model_validator(mode="after")
    def _one_bound(self) -> _CriterionSchema:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        try:
            self.reason_fr.format(value="1", threshold="1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"reason_fr may use only {{value}} and {{threshold}} ({exc!r})"
            ) from None
        return self


class _MetaSchema(params.Schema):
    description: params.Text = ""


@dataclass(frozen=True)
class Tier:
    """A class of priority: places scoring at least ``min_score`` (and below the next
    tier up) get ``label_fr``."""

    key: str
    label_fr: str
    min_score: float
    rule: str = ""


class _TierSchema(params.Schema):
    key: Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label_fr: params.Str
    min_score: Annotated[params.Num, Field(gt=0)]
    rule: params.Text = ""


class PrioritySchema(params.Schema):
    """The keys of ``priority.toml``: ``[meta]``, ``[[criterion]]`` and ``[[tier]]``."""

    meta: _MetaSchema = _MetaSchema()
    criterion: Annotated[tuple[_CriterionSchema, ...], Field(min_length=1)]
    tier: tuple[_TierSchema, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> PrioritySchema:
        for what, keys in (("criterion", [c.key for c in self.criterion]),
                           ("tier", [t.key for t in self.tier])):  # fmt: skip
            dup = sorted({k for k in keys if keys.count(k) > 1})
            if dup:
                raise ValueError(f"duplicate {what} key(s): {', '.join(dup)}")
        scores = [t.min_score for t in self.tier]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise ValueError(f"tiers must be listed by decreasing min_score, got {scores}")
        return self


def _load(path: Path | None) -> PrioritySchema:
    path = path or project_data_dir() / "indicators" / "priority.toml"
    return params.load(path, PrioritySchema, what="priority criteria file")


def load_criteria(path: Path | None = None) -> tuple[Criterion, ...]:
    """Read and check the criteria file (default ``data/indicators/priority.toml``)."""
    return tuple(Criterion(**c.model_dump()) for c in _load(path).criterion)


def load_tiers(path: Path | None = None) -> tuple[Tier, ...]:
    """The priority tiers of the criteria file, highest first (none: no tiers)."""
    return tuple(Tier(**t.model_dump()) for t in _load(path).tier)


def tier_of(scores: pd.Series | np.ndarray, tiers: Sequence[Tier]) -> np.ndarray:
    """The French label of each score's tier (the highest whose ``min_score`` it
    reaches); an empty string below every tier."""
    s = np.asarray(scores, dtype=float)
    out = np.full(len(s), "", dtype=object)
    for tier in sorted(tiers, key=lambda t: t.min_score):  # higher tiers overwrite
        out[s >= tier.min_score] = tier.label_fr
    return out


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


def rank_communes(
    communes: pd.DataFrame, criteria: Sequence[Criterion], tiers: Sequence[Tier] = ()
) -> pd.DataFrame:
    """The communes with a positive score, ranked (score, then population, descending).

    ``communes`` must hold ``commune_code``, ``commune_name``, ``epci_name``,
    ``population`` and the indicator columns. Returns ``rank``, the scoring columns and
    ``priority_tier`` (the French label of the commune's tier, empty below every tier).
    """
    scored = pd.concat([communes, score(communes, criteria, where="communes")], axis=1)
    scored["priority_tier"] = tier_of(scored["priority_score"], tiers)
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
        "priority_tier",
        "n_criteria",
        "reasons",
    ]
    return ranked[cols].reset_index(drop=True)
