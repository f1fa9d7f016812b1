"""What each kind of map shows, whatever draws it: classes, colours, labels, legends.

Owns: one function per map kind shared by the atlas (folium,
:mod:`accessibility.outputs.maps.atlas`) and the printed report (matplotlib,
:mod:`accessibility.outputs.report`): :func:`priority_classes` (communes by priority
score) and :func:`service_styles` (one colour and marker per service category). The
renderers keep only their drawing code, so the atlas and the report never disagree on
a class limit, a colour or a legend label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from branca.utilities import color_brewer

from accessibility.core import fr as _fr

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


def priority_classes(scores: Iterable[float]) -> Classes:
    """Communes by priority score: class 0 is « non prioritaire (0 point) » (white), then
    up to five classes of whole points up to the highest score (ColorBrewer PuRd,
    its palest shade dropped so that class 1 stands out from white).

    ``[0, 2, 4]`` -> limits 1, 2, 3, 4: labels ``non prioritaire (0 point)``, ``1 à 1
    points``, ``2 à 2 points``... (see the tests for worked examples).
    """
    score = np.nan_to_num(np.asarray(list(scores), dtype=float), nan=0.0)
    top = max(float(score.max()) if len(score) else 0.0, 1.0)
    edges = np.unique(np.ceil(np.linspace(0, top, 6)))[1:]  # > 0, in whole points
    colors = color_brewer("PuRd", max(len(edges) + 1, 3))[-len(edges):]
    lows = [1.0, *(edges[:-1] + 1).tolist()]
    labels = [f"{_fr.num(a)} à {_fr.num(b)} points" for a, b in zip(lows, edges, strict=True)]
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
