"""Distance-decay functions: the weight of a trip of ``t`` minutes, in [0, 1].

Owns: :class:`Step`, :class:`Stepwise` (banded), :class:`Gaussian` and :class:`Power`
decays and their constructors, used by the floating catchments of
:mod:`accessibility.indicators.catchment` (which re-exports them). A decay maps any
array of minutes to weights of the same shape, NaN (unreachable) to 0. Step and banded
decays compare ``t <= edge`` only, so float32 times rounded up
(:func:`accessibility.engine.blocks.ceil_float32`) weigh exactly as float64 ones.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: A decay: travel times in minutes (any array-like) -> weights, same shape; NaN -> 0.
Decay = Callable[[ArrayLike], NDArray[np.float64]]


# --- decay functions ------------------------------------------------------------------


def _minutes(t: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(t, dtype=np.float64)


def _check_minutes(value: float, name: str) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of minutes, got {value!r}")
    return value


@dataclass(frozen=True)
class Step:
    """Weight 1 within ``threshold_min`` minutes (inclusive), 0 beyond or unreachable."""

    threshold_min: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold_min", _check_minutes(self.threshold_min, "threshold"))

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        return (_minutes(t) <= self.threshold_min).astype(np.float64)  # NaN <= x is False


@dataclass(frozen=True)
class Stepwise:
    """Banded weights: ``bands`` is ``((upper_min, weight), ...)`` sorted by upper bound.

    A time ``t`` takes the weight of the first band with ``t <= upper_min``; beyond the
    last band, or unreachable, the weight is 0.
    """

    bands: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("stepwise decay: give at least one band")
        uppers = [_check_minutes(u, "a band's upper bound") for u, _ in self.bands]
        weights = [float(w) for _, w in self.bands]
        if any(b <= a for a, b in itertools.pairwise(uppers)):
            raise ValueError(f"stepwise decay: band upper bounds must increase, got {uppers}")
        if any(not 0.0 <= w <= 1.0 for w in weights):
            raise ValueError(f"stepwise decay: weights must lie in [0, 1], got {weights}")
        if any(b > a for a, b in itertools.pairwise(weights)):
            raise ValueError(f"stepwise decay: weights must not increase with time, got {weights}")
        object.__setattr__(self, "bands", tuple(zip(uppers, weights, strict=True)))

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        t = _minutes(t)
        uppers = np.array([u for u, _ in self.bands])
        # a weight table with a final 0 for "beyond the last band" (and NaN)
        weights = np.array([w for _, w in self.bands] + [0.0])
        # side="left": t == upper gives that band's index (bands closed on the right)
        idx = np.searchsorted(uppers, t, side="left")
        idx = np.where(np.isnan(t), len(uppers), idx)
        return weights[idx]


@dataclass(frozen=True)
class Gaussian:
    """Gaussian decay cut at ``threshold_min``: 1 at 0 minutes, 0 at the threshold.

    ``w(t) = (exp(-t²/2d0²) - exp(-1/2)) / (1 - exp(-1/2))`` for ``t <= d0``, else 0:
    the Gaussian 2SFCA of Dai (2010), Health & Place 16(5): 1038-1052.
    """

    threshold_min: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold_min", _check_minutes(self.threshold_min, "threshold"))

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        t = _minutes(t)
        d0 = self.threshold_min
        floor = math.exp(-0.5)
        with np.errstate(invalid="ignore"):
            inside = t <= d0
            w = (np.exp(-0.5 * (t / d0) ** 2) - floor) / (1.0 - floor)
        return np.where(inside, np.clip(w, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class Power:
    """Gravity (power) decay ``(max(t, t_min) / t_min) ** -beta``, optionally cut.

    The weight is 1 up to ``min_minutes`` (which removes the infinite weight at 0
    minutes), then falls as a power of time; beyond ``threshold_min`` (if given) it is 0.
    It equals pysal/access's ``weights.gravity(scale=t_min, alpha=-beta, min_dist=t_min)``.
    """

    beta: float
    min_minutes: float = 1.0
    threshold_min: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"power decay: beta must be >= 0, got {self.beta!r}")
        object.__setattr__(self, "min_minutes", _check_minutes(self.min_minutes, "min_minutes"))
        if self.threshold_min is not None:
            object.__setattr__(
                self, "threshold_min", _check_minutes(self.threshold_min, "threshold")
            )

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        t = _minutes(t)
        with np.errstate(invalid="ignore"):
            w = (np.maximum(t, self.min_minutes) / self.min_minutes) ** -self.beta
            keep = np.isfinite(t) if self.threshold_min is None else t <= self.threshold_min
        return np.where(keep, w, 0.0)


def step(threshold_min: float) -> Step:
    """Step decay: 1 within ``threshold_min`` minutes (inclusive), else 0."""
    return Step(threshold_min)


def stepwise(bands: Mapping[float, float]) -> Stepwise:
    """Banded decay from ``{upper bound in minutes: weight}``, bands closed on the right.

    ``stepwise({10: 1.0, 20: 0.68, 30: 0.22})`` gives 1 for ``t <= 10``, 0.68 for
    ``10 < t <= 20``, 0.22 for ``20 < t <= 30`` and 0 beyond 30 minutes or unreachable.
    """
    return Stepwise(tuple(sorted((float(u), float(w)) for u, w in bands.items())))


def gaussian(threshold_min: float) -> Gaussian:
    """Gaussian decay of Dai (2010), 1 at 0 minutes and 0 from ``threshold_min`` on."""
    return Gaussian(threshold_min)


def power(beta: float, *, min_minutes: float = 1.0, threshold_min: float | None = None) -> Power:
    """Gravity decay ``(max(t, min_minutes) / min_minutes) ** -beta``, 0 beyond the cut."""
    return Power(beta, min_minutes, threshold_min)


__all__ = [
    "Decay",
    "Gaussian",
    "Power",
    "Step",
    "Stepwise",
    "gaussian",
    "power",
    "step",
    "stepwise",
]
