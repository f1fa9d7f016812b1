"""Access models: the time of the off-network leg between a point and the road.

Every point (a home, a population cell, a service) reaches the road network by an
*access leg*: from the point to its projection on the nearest road, over ground the
network does not describe (access roads, tracks, drives, the last metres on foot). An
access model turns the straight-line length of that leg, and optionally per-point
attributes, into seconds.

The interface (:class:`AccessModel`) is deliberately small so that a fitted model can be
plugged in without touching the snapping code:

* ``model(distance_m, attributes)`` → seconds, vectorised: ``distance_m`` is a float
  array (metres, straight line, >= 0); ``attributes`` maps column names to arrays of
  the same length (the columns of the point layer named in ``model.columns`` that the
  layer has; a layer without them, e.g. services without a population density, passes
  none and the model must cope: use a default, not an error);
* ``model.columns``: the point-layer columns the model reads (``()`` for none).

Any frozen dataclass (hashable, so that :class:`~accessibility.engine.snapping.SnapOptions`
stays hashable) or plain function with those two things will do; a plain function
without ``columns`` reads no attribute. The default, :class:`StraightLeg`, is the
project's historical assumption: the straight line at 15 km/h.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

#: Speed of the default off-network leg (km/h), over the straight-line distance between
#: a point and the road. An assumption: access roads, tracks and private drives are not
#: in the network (or are in it only in part), and the straight line underestimates
#: their length; 15 km/h over the crow-fly distance stands for a slow, winding access
#: road (about 30 km/h over a path 2 × longer) or a few minutes' walk for the last metres.
OFFROAD_SPEED_KPH = 15.0

Attributes = Mapping[str, np.ndarray]


@runtime_checkable
class AccessModel(Protocol):
    """Seconds of access leg for straight-line distances (metres) and point attributes."""

    columns: tuple[str, ...]

    def __call__(self, distance_m: np.ndarray, attributes: Attributes | None = None) -> np.ndarray:
        """Access time in seconds, one per distance (same shape), finite and >= 0."""
        ...


@dataclass(frozen=True)
class StraightLeg:
    """The straight line to the road at a constant speed, times a detour factor.

    ``time = distance_m × detour / (speed_kph / 3.6)``. The default (15 km/h, detour 1)
    is :data:`OFFROAD_SPEED_KPH` over the crow-fly distance.
    """

    speed_kph: float = OFFROAD_SPEED_KPH
    detour: float = 1.0
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.speed_kph > 0:
            raise ValueError(f"access speed_kph must be > 0, got {self.speed_kph}")
        if not self.detour >= 1.0:
            raise ValueError(
                f"access detour must be >= 1 (a path is never shorter), got {self.detour}"
            )

    def __call__(self, distance_m: np.ndarray, attributes: Attributes | None = None) -> np.ndarray:
        return np.asarray(distance_m, dtype=float) * self.detour / (self.speed_kph / 3.6)


def model_columns(model: AccessModel | Callable[..., np.ndarray]) -> tuple[str, ...]:
    """The point-layer columns ``model`` reads (``()`` for a plain function)."""
    return tuple(getattr(model, "columns", ()))


def access_times(
    model: AccessModel | Callable[..., np.ndarray],
    distance_m: np.ndarray,
    attributes: Attributes | None = None,
    *,
    where: str = "points",
) -> np.ndarray:
    """Call ``model`` and check what it returns (one finite time >= 0 per distance).

    Raises
    ------
    ValueError
        The model returned the wrong shape, or a negative, missing or infinite time
        (the message names the model and the layer).
    """
    d = np.asarray(distance_m, dtype=float)
    out = np.asarray(model(d, attributes or {}), dtype=float)
    if out.shape != d.shape:
        raise ValueError(
            f"{where}: access model {model!r} returned shape {out.shape}, expected {d.shape} "
            "(one time in seconds per point)"
        )
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{where}: access model {model!r} returned {int(bad.sum())} time(s) that are "
            f"not finite seconds >= 0 (e.g. {out[i]!r} for a leg of {d[i]:,.1f} m)"
        )
    return out
