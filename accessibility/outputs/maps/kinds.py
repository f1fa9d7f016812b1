"""What each kind of map shows, whatever draws it: classes, colours, labels, legends.

Owns: one function per map kind shared by the atlas (folium,
:mod:`accessibility.outputs.maps.atlas`) and the printed report (matplotlib,
:mod:`accessibility.outputs.report`): :func:`time_classes` (access times),
:func:`priority_classes` (communes by priority score) and :func:`service_styles` (one
colour and marker per service category); and the class helpers :func:`classify` and
:func:`class_labels` they are built on. The
renderers keep only their drawing code, so the atlas and the report never disagree on
a class limit, a colour or a legend label.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from branca.utilities import color_brewer

from accessibility.core import fr as _fr
from accessibility.core.errors import DataError

#: Class edges of access times (minutes). Every category threshold in use (7, 15, 20,
#: 30 min) is an edge, so a legend can mark it exactly.
TIME_BINS_MIN = (0.0, 7.0, 15.0, 20.0, 30.0, 45.0, 60.0)
#: ColorBrewer YlOrRd (sequential, colour-blind safe, lightness monotonic so it reads in
#: grey), one colour per class.
TIME_COLORS = tuple(color_brewer("YlOrRd", len(TIME_BINS_MIN)))
#: Unreachable (NaN) access times.
NO_ACCESS_COLOR = "#636363"
NO_ACCESS_LABEL = "inaccessible par la route"

#: Okabe-Ito palette (colour-blind safe), cycled over the service categories.
CATEGORY_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                   "#000000", "#F0E442")
#: Marker shapes (matplotlib codes) cycled with the colours, so a map reads in grey too.
CATEGORY_MARKERS = ("o", "P", "s", "D", "^", "v", "X", "h")
NOT_PRIORITY_COLOR = "#ffffff"


@dataclass(frozen=True)
class Classes:
    """A classification: ``index`` of each feature's class, and per class its colour and
    its legend label (same order)."""

    index: np.ndarray
    colors: tuple[str, ...]
    labels: tuple[str, ...]


def class_labels(bins: Sequence[float], unit: str = "min") -> list[str]:
    """French legend labels of the classes ``[b0, b1), [b1, b2), ..., [bn, +inf)``.

    ``(0, 10, 20)`` -> ``['moins de 10 min', '10 à 20 min', '20 min et plus']``.
    """
    if len(bins) < 2 or any(b <= a for a, b in itertools.pairwise(bins)):
        raise DataError(f"class bins: expected at least 2 increasing limits, got {bins!r}")
    u = f"\u00a0{unit}" if unit else ""
    labels = [f"moins de {_fr.num(bins[1])}{u}"]
    labels += [f"{_fr.num(a)} à {_fr.num(b)}{u}" for a, b in itertools.pairwise(bins[1:])]
    labels.append(f"{_fr.num(bins[-1])}{u} et plus")
    return labels


def classify(values: Iterable[float], bins: Sequence[float]) -> np.ndarray:
    """Class index of each value (``bins[i] <= v < bins[i+1]``; the last class is open).

    Values below ``bins[0]`` go to class 0; NaN gives -1 (no data, or unreachable).
    """
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    idx = np.searchsorted(np.asarray(bins[1:], dtype=float), v, side="right")
    return np.where(np.isnan(v), -1, idx)


def time_classes(minutes: Iterable[float], bins: Sequence[float] = TIME_BINS_MIN) -> Classes:
    """Access times in classes of ``bins`` (YlOrRd); index -1 (NaN) is unreachable, drawn
    in :data:`NO_ACCESS_COLOR` and labelled :data:`NO_ACCESS_LABEL`."""
    labels = class_labels(bins)
    colors = TIME_COLORS if tuple(bins) == TIME_BINS_MIN else tuple(
        color_brewer("YlOrRd", max(len(labels), 3))[-len(labels):])
    return Classes(classify(minutes, bins), tuple(colors), tuple(labels))


def priority_classes(scores: Iterable[float]) -> Classes:
    """Communes by priority score: class 0 is « non prioritaire (0 point) » (white), then
    up to five classes of whole points up to the highest score (ColorBrewer PuRd,
    its palest shade dropped so that class 1 stands out from white).

    ``[0, 2, 4]`` -> limits 1, 2, 3, 4: labels ``non prioritaire (0 point)``, ``1 point``,
    ``2 points``, ``3 points``, ``4 points``; a top score of 11 gives ``1 à 3 points``,
    ``4 à 5 points``... (see the tests).
    """
    score = np.nan_to_num(np.asarray(list(scores), dtype=float), nan=0.0)
    top = max(float(score.max()) if len(score) else 0.0, 1.0)
    edges = np.unique(np.ceil(np.linspace(0, top, 6)))[1:]  # > 0, in whole points
    colors = color_brewer("PuRd", max(len(edges) + 1, 3))[-len(edges):]
    lows = [1.0, *(edges[:-1] + 1).tolist()]
    labels = [(f"{_fr.num(a)} point{'s' if a > 1 else ''}" if a == b
               else f"{_fr.num(a)} à {_fr.num(b)} points")
              for a, b in zip(lows, edges, strict=True)]
    idx = np.where(score > 0,
                   1 + np.searchsorted(edges, score, side="left").clip(0, len(edges) - 1), 0)
    return Classes(idx, (NOT_PRIORITY_COLOR, *colors),
                   ("non prioritaire (0 point)", *labels))


def service_styles(categories: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``{category: (colour, marker)}`` in the given order (the categories file's order,
    see :func:`service_order`), colours and markers cycled."""
    n_c, n_m = len(CATEGORY_COLORS), len(CATEGORY_MARKERS)
    return {k: (CATEGORY_COLORS[i % n_c], CATEGORY_MARKERS[i % n_m])
            for i, k in enumerate(categories)}


def service_order(present: Iterable[str], known: Sequence[str]) -> list[str]:
    """The categories ``present`` in the order of ``known`` (the categories file), then
    any unknown ones alphabetically."""
    present = set(present)
    order = [k for k in known if k in present]
    return order + sorted(present - set(order))
