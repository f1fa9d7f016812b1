"""The territory's diagnostic: access times, gammes, supply against demand, priorities.

:func:`run_diagnostic` takes a :class:`~accessibility.engine.study.Study` and returns, in
memory, the indicator tables that the exports, the maps and the report show:

* every population cell and every commune: time to the nearest service of each category
  (communes: population-weighted mean of their cells), population beyond the category's
  threshold, times to the INSEE gammes, 2SFCA / E2SFCA / APL for general practitioners,
  the shares of people aged 65+ and under 15, the priority score and its reasons;
* per EPCI and for the territory: population-weighted mean, median, 90th percentile,
  population (all, 65+, under 15) beyond each threshold.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field

from accessibility.core import columns as C
from accessibility.core import params as _params
from accessibility.core.errors import DataWarning, SnapWarning
from accessibility.core.paths import project_data_dir
from accessibility.engine.travel_times import od_pairs
from accessibility.indicators.catchment import (
    apl,
    drees_apl,
    enhanced_two_step_fca,
    outside_demand,
    two_step_fca,
)
from accessibility.indicators.gammes import GAMME_LABELS_FR, GAMME_THRESHOLDS_MIN, gamme_access
from accessibility.indicators.nearest import Reach, weighted_summary
from accessibility.indicators.priority import (
    Criterion,
    Tier,
    load_criteria,
    load_tiers,
    rank_communes,
    score,
    tier_of,
)
from accessibility.indicators.windows import WindowResult, window_indicators
from accessibility.inputs.population import census_points_in_area, demand_points
from accessibility.inputs.services import Category, load_categories

if TYPE_CHECKING:
    from accessibility.engine.study import Study

log = logging.getLogger(__name__)

AGE_GROUPS = {"all": C.POP_TOTAL, "65plus": C.POP_65PLUS, "under15": C.POP_UNDER15}


class _Supply(_params.Schema):
    #: consultations a year per practitioner: 100 to 20,000 (DREES: about 4,900 a year)
    consultations_per_practitioner: Annotated[_params.Num, Field(ge=100, le=20_000)]
    source: _params.Text = ""


class _Catchment(_params.Schema):
    limit_min: Annotated[_params.Num, Field(gt=0, le=240)]


class DiagnosticSchema(_params.Schema):
    """The keys of ``diagnostic.toml``: ``[supply.<category>]`` and ``[catchment]``."""

    supply: Mapping[str, _Supply]
    catchment: _Catchment


def load_parameters(path: Path | None = None) -> Mapping[str, Any]:
    """Read and check ``data/indicators/diagnostic.toml``; a read-only nested mapping."""
    path = path or project_data_dir() / "indicators" / "diagnostic.toml"
    raw = _params.load(path, DiagnosticSchema, what="diagnostic parameter file")
    return _params.freeze(raw.model_dump())


class DiagnosticMeta(TypedDict):
    """What :func:`run_diagnostic` records beside its tables."""

    categories: list[str]
    """Categories computed (those with at least one service)."""
    categories_without_service: list[str]
    gamme_poles: dict[str, list[str]]
    """Per gamme, the codes of its pole communes."""
    gamme_missing_types: dict[str, list[str]]
    """Per gamme, the equipment types found nowhere in the study area."""
    consultations_per_practitioner: float | None
    """The APL parameter; None without general practitioners."""
    windows: dict[str, Any]
    """Per category with opening hours: what the window indicators rest on
    (:class:`~accessibility.indicators.windows.WindowResult`)."""


@dataclass(frozen=True, eq=False)
class Diagnostic:
    """The indicator tables of one territory (see the module docstring)."""

    cells: gpd.GeoDataFrame
    """One row per population cell: times, gammes, supply indicators, age shares,
    priority score and reasons; polygon geometry."""
    communes: gpd.GeoDataFrame
    """One row per commune: population-weighted means of its cells, each followed by
    the population left out of it (``<indicator>_unreachable_pop``), the population
    beyond each threshold, age shares, priority score and reasons."""
    epci: pd.DataFrame
    """Per EPCI and indicator: :func:`~accessibility.indicators.nearest.weighted_summary`
    figures (mean, median, p90, population beyond, population unreachable)."""
    territory: pd.DataFrame
    """The same figures for the whole territory."""
    priority: pd.DataFrame
    """The communes ranked by priority score (rank, score, reasons, EPCI)."""
    indicators: pd.DataFrame
    """One row per indicator: column, label (French), threshold, threshold policy."""
    meta: DiagnosticMeta | Mapping[str, Any] = field(default_factory=dict)
    """:class:`DiagnosticMeta` for a diagnostic made by :func:`run_diagnostic`."""


def _time_column(key: str) -> str:
    return f"time_{key}_min"


def _indicator_rows(cats: Mapping[str, Category], present: list[str]) -> list[dict[str, Any]]:
    rows = []
    for key in present:
        c = cats[key]
        rows.append(
            {
                "indicator": _time_column(key),
                "label_fr": f"Temps d'accès : {c.label}",
                "threshold_min": c.threshold_min,
                "threshold_policy": c.threshold_policy,
            }
        )
    for g, t in GAMME_THRESHOLDS_MIN.items():
        rows.append(
            {
                "indicator": f"gamme_{g}_pole_min",
                "label_fr": f"Temps d'accès au pôle de la {GAMME_LABELS_FR[g]}",
                "threshold_min": t,
                "threshold_policy": "INSEE threshold of the gamme (7, 15, 30 min)",
            }
        )
    return rows


def _summaries(
    table: pd.DataFrame, indicators: list[dict[str, Any]], by: str | None
) -> pd.DataFrame:
    groups = [(None, table)] if by is None else list(table.groupby(by, sort=True))
    out = []
    for key, part in groups:
        for ind in indicators:
            col = ind["indicator"]
            if col not in part.columns:
                continue
            t = part[col].to_numpy(dtype=float)
            row: dict[str, Any] = {} if by is None else {by: key}
            s = weighted_summary(
                t, part[C.POP_TOTAL], threshold_min=ind["threshold_min"], category=col
            )
            row.update(
                indicator=col,
                label_fr=ind["label_fr"],
                threshold_min=ind["threshold_min"],
                population=s.population,
                mean_min=s.mean_min,
                median_min=s.median_min,
                p90_min=s.p90_min,
                population_beyond=s.population_beyond,
                share_beyond=s.share_beyond,
                population_unreachable=s.population_unreachable,
            )
            for name, pop_col in AGE_GROUPS.items():
                if name == "all":
                    continue
                far = ~(t <= ind["threshold_min"])  # NaN (unreachable) counts as far
                row[f"population_{name}_beyond"] = float(part.loc[far, pop_col].sum())
            out.append(row)
    return pd.DataFrame(out)


def run_diagnostic(
    study: Study,
    *,
    categories: Mapping[str, Category] | None = None,
    criteria: tuple[Criterion, ...] | None = None,
    parameters: Mapping[str, Any] | None = None,
    tiers: tuple[Tier, ...] | None = None,
) -> Diagnostic:
    """Compute every indicator of the territory (see the module docstring).

    ``criteria`` and ``tiers`` default to those of ``data/indicators/priority.toml``.
    """
    layers = study.layers
    cats = dict(categories or load_categories())
    criteria = criteria or load_criteria()
    tiers = load_tiers() if tiers is None else tiers
    params = dict(parameters or load_parameters())
    cells = layers.cells.copy()
    points = demand_points(cells)
    present, absent, windows = _nearest_times(study, cells, points, cats)
    area = gpd.GeoSeries(
        [layers.communes.union_all().buffer(layers.territory.buffer_m)], crs=cells.crs
    )
    g = gamme_access(
        study.network, points, origin_id=C.CELL_ID, area=area, paths=study.paths,
        snap=study.snap, access_points=study.access_points,
    )
    for col in g.times.columns:
        if col != C.CELL_ID:
            cells[col] = g.times[col].to_numpy()
    gp_key = "general_practitioner"
    if gp_key in present:
        svc = layers.services.reset_index(drop=True)
        gp = svc[svc[C.CATEGORY] == gp_key]
        for col, values in _supply_indicators(
            study, cells, points, gp, area, params, gp_key
        ).items():
            cells[col] = values
    # shares of the residents (a seasonal scenario adds visitors to pop_total only)
    residents = cells["pop_resident"] if "pop_resident" in cells.columns else cells[C.POP_TOTAL]
    with np.errstate(invalid="ignore", divide="ignore"):
        cells["share_65plus"] = cells[C.POP_65PLUS] / residents
        cells["share_under15"] = cells[C.POP_UNDER15] / residents
    indicators = _indicator_rows(cats, present) + windows.indicators
    communes = layers.communes.join(_commune_table(cells, layers.communes, indicators),
                                    on=C.COMMUNE_CODE)  # fmt: skip
    cells = pd.concat([cells, score(cells, criteria, where="cells")], axis=1)
    communes = pd.concat([communes, score(communes, criteria, where="communes")], axis=1)
    communes["priority_tier"] = tier_of(communes["priority_score"], tiers)
    priority = rank_communes(
        communes.drop(columns=["priority_score", "priority_tier", "n_criteria", "reasons"]),
        criteria,
        tiers,
    ).merge(communes[[C.COMMUNE_CODE, C.EPCI_CODE]], on=C.COMMUNE_CODE, how="left")
    with_epci = cells.merge(
        communes[[C.COMMUNE_CODE, C.EPCI_CODE, C.EPCI_NAME]], on=C.COMMUNE_CODE, how="left"
    )
    epci = _summaries(with_epci, indicators, by=C.EPCI_CODE)
    names = communes.drop_duplicates(C.EPCI_CODE).set_index(C.EPCI_CODE)[C.EPCI_NAME]
    epci.insert(1, C.EPCI_NAME, epci[C.EPCI_CODE].map(names))
    meta: DiagnosticMeta = {
        "categories": present,
        "categories_without_service": absent,
        "gamme_poles": g.poles,
        "gamme_missing_types": g.missing_types,
        "consultations_per_practitioner": params["supply"][gp_key]["consultations_per_practitioner"]
        if gp_key in present
        else None,
        "windows": windows.meta,
    }
    return Diagnostic(
        cells=gpd.GeoDataFrame(cells, geometry="geometry", crs=layers.cells.crs),
        communes=gpd.GeoDataFrame(communes, geometry="geometry", crs=layers.communes.crs),
        epci=epci,
        territory=_summaries(cells, indicators, by=None),
        priority=priority,
        indicators=pd.DataFrame(indicators),
        meta=meta,
    )


def _nearest_times(
    study: Study, cells: pd.DataFrame, points: gpd.GeoDataFrame, cats: Mapping[str, Category]
) -> tuple[list[str], list[str], WindowResult]:
    """Add each cell's time to the nearest service of every category that has one, and
    the time-window indicators (:mod:`accessibility.indicators.windows`: the same
    searches on the services open in each window).

    Returns the categories computed, those without any service (a warning) and the
    window indicators."""
    services = study.layers.services
    present = [k for k in cats if not cats[k].history and (services[C.CATEGORY] == k).any()]
    absent = [k for k in cats if not cats[k].history and k not in present]
    if absent:
        log.warning("no service at all for categories %s: not computed", ", ".join(absent))
    svc = services.reset_index(drop=True)
    reach = Reach(
        study.network, points, svc, origin_id=C.CELL_ID, destination_id=C.SERVICE_ID,
        snap=study.snap,
    )
    for key in present:
        cells[_time_column(key)] = reach.nearest_min(svc[C.CATEGORY].to_numpy() == key)
    log.info("times to %d categories for %d cells", len(present), len(cells))
    windows = window_indicators(reach, svc, cats)
    if windows.columns:  # one insertion (column by column, pandas warns of fragmentation)
        cells[list(windows.columns)] = np.column_stack(list(windows.columns.values()))
    return present, absent, windows


def unreachable_column(column: str) -> str:
    """The column that reports, beside the commune mean ``column``, the population of the
    cells left out of it (no value: no service reached): ``time_X_min`` ->
    ``time_X_unreachable_pop``, ``fca2_X_per_100k`` -> ``fca2_X_unreachable_pop``."""
    for suffix in ("_min", "_per_100k"):
        if column.endswith(suffix):
            return column[: -len(suffix)] + "_unreachable_pop"
    return column + "_unreachable_pop"


def _commune_table(
    cells: pd.DataFrame, communes: pd.DataFrame, indicators: list[dict[str, Any]]
) -> pd.DataFrame:
    """Per commune: population-weighted means of its cells, each with the population of
    the cells left out of that mean (:func:`unreachable_column`: never silently
    dropped), the population beyond each threshold, populations and age shares."""
    w = cells[C.POP_TOTAL].to_numpy(dtype=float)
    code = cells[C.COMMUNE_CODE].to_numpy()
    value_cols = [
        c for c in cells.columns
        if c.startswith(("time_", "gamme_", "fca2_", "e2sfca_", "apl_", "hours_"))
    ]
    grouped = cells.groupby(C.COMMUNE_CODE)
    index = pd.Index(communes[C.COMMUNE_CODE])
    cols: dict[str, pd.Series] = {
        "grid_population": grouped[C.POP_TOTAL].sum(),
        C.POP_65PLUS: grouped[C.POP_65PLUS].sum(),
        C.POP_UNDER15: grouped[C.POP_UNDER15].sum(),
    }
    for col in value_cols:
        v = cells[col].to_numpy(dtype=float)
        ok = np.isfinite(v)
        num = pd.Series(np.where(ok, v * w, 0.0)).groupby(code).sum()
        den = pd.Series(np.where(ok, w, 0.0)).groupby(code).sum()
        cols[col] = num / den.where(den > 0)
        if not col.startswith("hours_"):  # weekly hours are never missing (0: none)
            cols[unreachable_column(col)] = pd.Series(np.where(ok, 0.0, w)).groupby(code).sum()
    for ind in indicators:
        col = ind["indicator"]
        far = ~(cells[col].to_numpy(dtype=float) <= ind["threshold_min"])
        cols[col.replace("_min", "_beyond_pop")] = (
            pd.Series(np.where(far, w, 0.0)).groupby(code).sum()
        )
    # one frame at once (column by column, pandas warns of a fragmented frame)
    agg = pd.DataFrame({k: v.reindex(index) for k, v in cols.items()}, index=index)
    for col in value_cols:
        if unreachable_column(col) in agg.columns:
            agg[unreachable_column(col)] = agg[unreachable_column(col)].fillna(0.0)
    residents = grouped["pop_resident"].sum() if "pop_resident" in cells.columns else None
    return agg.assign(
        resident_grid_population=agg["grid_population"]
        if residents is None
        else residents.reindex(index),
    ).assign(
        share_65plus=lambda a: a[C.POP_65PLUS] / a["resident_grid_population"],
        share_under15=lambda a: a[C.POP_UNDER15] / a["resident_grid_population"],
    )


def _supply_indicators(
    study: Study,
    cells: pd.DataFrame,
    points: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    area: gpd.GeoSeries,
    params: Mapping[str, Any],
    key: str,
) -> dict[str, np.ndarray]:
    """2SFCA, E2SFCA and APL of the territory's cells for one counted service.

    The demand includes the population of the buffer (census cells whose centre lies
    within it, outside the territory): the services near the edge also serve them, and
    leaving them out would overstate the supply of the border cells. Each buffer cell
    adds only what the territory's cells inside it leave out (:func:`outside_demand`),
    so the territory is counted once on the 1 km and the 200 m grid alike.
    """
    outside = census_points_in_area(area, paths=study.paths)
    # the territory's cells may be finer than the buffer's 1 km census cells (200 m
    # grid): what each buffer cell adds is the population its territory cells leave out
    left = outside_demand(
        cells.set_index(C.CELL_ID)[C.POP_TOTAL], outside.set_index(C.CELL_ID)[C.POP_TOTAL]
    )
    outside = outside[outside[C.CELL_ID].isin(left.index)].copy()
    outside[C.POP_TOTAL] = left.reindex(outside[C.CELL_ID]).to_numpy()
    demand_points_all = pd.concat(
        [
            points[[C.CELL_ID, C.POP_TOTAL, "geometry"]],
            outside[[C.CELL_ID, C.POP_TOTAL, "geometry"]].to_crs(points.crs),
        ],
        ignore_index=True,
    )
    demand_points_all = gpd.GeoDataFrame(demand_points_all, geometry="geometry", crs=points.crs)
    limit = float(params.get("catchment", {}).get("limit_min", 30))
    with warnings.catch_warnings():
        # buffer cells far from the numbered roads are expected; the territory's own
        # cells were already reported by the nearest-time step
        warnings.simplefilter("ignore", SnapWarning)
        # the reachable pairs only, float32 rounded up: the catchments' band edges
        # weigh them as float64 times (see accessibility.engine.blocks.ceil_float32)
        times = od_pairs(
            study.network,
            study.access_points(demand_points_all),
            study.access_points(sites),
            origin_id=C.CELL_ID,
            destination_id=C.SERVICE_ID,
            limit_min=limit,
            snap=study.snap,
        )
    demand = demand_points_all.set_index(C.CELL_ID)[C.POP_TOTAL]
    supply = sites.set_index(C.SERVICE_ID)[C.COUNT].astype(float)
    per_unit = float(params["supply"][key]["consultations_per_practitioner"])
    with warnings.catch_warnings():
        # the matrix stops at limit_min: a cell with no site within it has no row, and
        # an access of 0 by definition (not a data problem); "sites nobody reaches" and
        # any other warning still reach the user
        warnings.filterwarnings("ignore", r"\d+ origin\(s\) of the demand have no row", DataWarning)
        r2 = two_step_fca(times, demand, supply).by_origin
        r3 = enhanced_two_step_fca(times, demand, supply).by_origin
        ra = apl(times, demand, supply * per_unit, decay=drees_apl()).by_origin
    ids = cells[C.CELL_ID]
    return {
        f"fca2_{key}_per_100k": r2[C.ACCESSIBILITY].reindex(ids).to_numpy() * 1e5,
        f"e2sfca_{key}_per_100k": r3[C.ACCESSIBILITY].reindex(ids).to_numpy() * 1e5,
        f"apl_{key}": ra[C.APL].reindex(ids).to_numpy(),
    }
