"""Planners' tools: siting scenarios before/after, the project sheet and the itinerant tour.

Three questions a planner asks, answered on a :class:`~accessibility.pipeline.Study`:

* :func:`evaluate_scenario`: what changes, cell by cell, commune by commune and per EPCI,
  when sites of a category are added or removed? (:func:`choose_sites` first lets a
  siting model of :mod:`accessibility.planning.siting` choose the sites to add);
* :func:`project_sheet`: the « fiche projet » of one proposed site (catchment, who gains,
  the priority communes it reaches, how it ranks against every town hall);
* :func:`plan_itinerant_tour`: an itinerant service's week over the town halls.

Travel times come from :func:`accessibility.engine.travel_times.od_matrix` (cells × sites); the
before/after arithmetic is in pure functions (:func:`change_summary`,
:func:`rank_sites`) that take plain arrays. See ``docs/planning.md``.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core import fr as _fr
from accessibility.core.errors import CRSError, DataError, MissingColumnError, SnapWarning
from accessibility.core.files import atomic_write, write_table
from accessibility.core.validate import require_unique
from accessibility.engine.snapping import MAX_SNAP_M, snap_points, warn_far
from accessibility.engine.travel_times import od_matrix
from accessibility.inputs.communes import town_hall_points
from accessibility.inputs.population import demand_points
from accessibility.inputs.services import Category, load_categories
from accessibility.planning.results import ScenarioResult
from accessibility.planning.siting import CostMatrix, SitingResult, lscp, mclp, p_center, p_median

log = logging.getLogger(__name__)

#: Thresholds of the "population within" figures, minutes.
MINUTES = (10, 20, 30)
#: A candidate farther than this from the road network is not a usable site (an error):
#: it lies outside the network's extent (wrong coordinates, or outside the territory).
OUTSIDE_NETWORK_M = 10_000.0
#: Siting models by CLI name.
MODELS = ("mclp", "p-median", "lscp", "p-center")
#: Number of alternatives listed in a project sheet.
TOP_ALTERNATIVES = 5

_TIME_BEFORE = "time_before_min"
_TIME_AFTER = "time_after_min"


# --------------------------------------------------------------------------------------
# categories, candidates, existing sites
# --------------------------------------------------------------------------------------


def category_of(category: str, categories: Mapping[str, Category] | None = None) -> Category:
    """The category ``category``; an error lists the known ones."""
    cats = dict(categories or load_categories())
    if category not in cats:
        raise DataError(f"unknown category {category!r}; known: {', '.join(sorted(cats))}")
    return cats[category]


def town_hall_candidates(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communes' town halls as candidate sites.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id`` (``"mairie:<code>"``), ``label`` (« Mairie de <name> »),
        ``commune_code``, ``commune_name``, point geometry in the communes' CRS.
    """
    pts = town_hall_points(communes)
    return gpd.GeoDataFrame(
        {
            C.SITE_ID: "mairie:" + pts[C.COMMUNE_CODE].astype(str),
            C.LABEL: "Mairie de " + pts[C.COMMUNE_NAME].astype(str),
            C.COMMUNE_CODE: pts[C.COMMUNE_CODE].to_numpy(),
            C.COMMUNE_NAME: pts[C.COMMUNE_NAME].to_numpy(),
        },
        geometry=pts.geometry.to_numpy(),
        crs=pts.crs,
    ).reset_index(drop=True)


def _lonlat_like(gdf: gpd.GeoDataFrame) -> bool:
    b = gdf.total_bounds
    return bool(len(gdf) == 0 or (b[0] >= -180 and b[2] <= 180 and b[1] >= -90 and b[3] <= 90))


def read_candidates(
    path: Path | str, *, id_column: str = "id", label_column: str = "label"
) -> gpd.GeoDataFrame:
    """Read candidate sites from a CSV (``id,label,lon,lat``), GeoJSON or GeoPackage.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``label``, point geometry (the file's CRS; WGS84 for a CSV).

    Raises
    ------
    MissingColumnError
        A required column is missing (the message names the file and the column).
    CRSError
        A GeoJSON or GeoPackage without a CRS (a GeoJSON declaring none whose
        coordinates are not longitudes and latitudes).
    DuplicateIdError
        Two candidates share an id.
    """
    path = Path(path)
    where = f"candidates file {path}"
    if not path.is_file():
        raise DataError(f"{where}: no such file")
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype={id_column: str})
        need = [id_column, label_column, "lon", "lat"]
    else:
        df = gpd.read_file(path)
        need = [id_column, label_column]
    for column in need:
        if column not in df.columns:
            raise MissingColumnError(
                f"{where}: missing column {column!r} (expected columns {', '.join(need)}; "
                f"found {', '.join(map(str, df.columns))})"
            )
    if path.suffix.lower() == ".csv":
        lon = pd.to_numeric(df["lon"], errors="coerce")
        lat = pd.to_numeric(df["lat"], errors="coerce")
        bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
        if bad.any():
            raise DataError(
                f"{where}: {int(bad.sum())} row(s) without a valid lon/lat (WGS84 degrees), "
                f"e.g. id {df.loc[bad, id_column].iloc[0]!r}"
            )
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    else:
        gdf = df
        declared = True
        if path.suffix.lower() in (".geojson", ".json"):
            declared = '"crs"' in path.read_text(encoding="utf-8", errors="replace")[:5000]
        if gdf.crs is None or (not declared and not _lonlat_like(gdf)):
            raise CRSError(
                f"{where}: no coordinate reference system (coordinates span "
                f"{np.round(gdf.total_bounds, 1).tolist()}, not longitudes/latitudes); "
                "give the file a CRS or use WGS84"
            )
        if not (gdf.geom_type == "Point").all():
            raise DataError(f"{where}: expected Point geometries, got {sorted(set(gdf.geom_type))}")
    gdf = gdf.rename(columns={id_column: C.SITE_ID, label_column: C.LABEL})
    gdf[C.SITE_ID] = gdf[C.SITE_ID].astype(str)
    require_unique(gdf, C.SITE_ID, where=where)
    return gdf[[C.SITE_ID, C.LABEL, "geometry"]].reset_index(drop=True)


def check_candidates(
    study: Any, candidates: gpd.GeoDataFrame, *, where: str = "candidates"
) -> pd.DataFrame:
    """Snap the candidates to the road network and check their distance to it.

    Warns (:class:`SnapWarning`, naming them) for candidates farther than
    :data:`~accessibility.engine.snapping.MAX_SNAP_M` (1 km) from the network; raises
    :class:`DataError` for those farther than :data:`OUTSIDE_NETWORK_M` (outside it).
    Returns the snapping table of :func:`accessibility.engine.snapping.snap_points`.
    """
    # no warning from snap_points: an error for the points outside comes first
    snap = snap_points(
        study.network, candidates, id_column=C.SITE_ID, max_snap_m=np.inf, where=where
    )
    d = snap[C.SNAP_DISTANCE_M].to_numpy()
    out = d > OUTSIDE_NETWORK_M
    if out.any():
        listed = ", ".join(
            f"{i} ({m / 1000:,.1f} km)" for i, m in zip(snap[C.POINT_ID][out], d[out], strict=True)
        )
        raise DataError(
            f"{where}: {int(out.sum())} candidate(s) lie outside the road network of "
            f"{study.layers.territory.name} (more than {OUTSIDE_NETWORK_M / 1000:g} km from "
            f"the nearest road): {listed}; check their coordinates (lon,lat order, CRS)"
        )
    warn_far(snap[C.POINT_ID].to_numpy(), d, MAX_SNAP_M, where=where)
    return snap


def existing_sites(study: Any, category: str) -> gpd.GeoDataFrame:
    """The services of ``category`` (territory and buffer) as sites: ``site_id`` (the
    service id), ``label``, ``commune_code``, ``in_territory``, geometry."""
    svc = study.layers.services
    chosen = svc[svc[C.CATEGORY] == category]
    cols = [C.SERVICE_ID, C.LABEL, C.COMMUNE_CODE, C.IN_TERRITORY, "geometry"]
    out = chosen[cols].rename(columns={C.SERVICE_ID: C.SITE_ID}).reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=svc.crs)


def site_matrix(study: Any, sites: gpd.GeoDataFrame) -> CostMatrix:
    """Car travel times (minutes) from every population cell to every site.

    The cells' own snapping warnings (cells far from any road) are those of the
    diagnostic and are not repeated here; candidates are checked by
    :func:`check_candidates`.
    """
    points = demand_points(study.layers.cells)
    if len(sites) == 0:
        return CostMatrix(np.empty((len(points), 0)), points[C.CELL_ID], pd.Index([]))
    sites = sites[[C.SITE_ID, "geometry"]].to_crs(study.network.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)
        long = od_matrix(
            study.network, points, sites, origin_id=C.CELL_ID, destination_id=C.SITE_ID
        )
    return CostMatrix.from_long(long, demand_ids=points[C.CELL_ID], candidate_ids=sites[C.SITE_ID])


# --------------------------------------------------------------------------------------
# pure arithmetic: before / after
# --------------------------------------------------------------------------------------


def nearest_time(times: np.ndarray, columns: np.ndarray | Sequence[int]) -> np.ndarray:
    """Row-wise minimum over ``columns`` of a (cells × sites) matrix; NaN when none is
    reachable (or no column is given)."""
    cols = np.asarray(columns, dtype=int)
    if cols.size == 0:
        return np.full(times.shape[0], np.nan)
    t = np.where(np.isnan(times[:, cols]), np.inf, times[:, cols]).min(axis=1)
    return np.where(np.isinf(t), np.nan, t)


def _within(t: np.ndarray, m: float) -> np.ndarray:
    return np.nan_to_num(t, nan=np.inf) <= m


def change_summary(
    table: pd.DataFrame,
    *,
    threshold_min: float,
    minutes: Sequence[float] = MINUTES,
    by: str | None = None,
) -> pd.DataFrame:
    """Population-weighted before/after figures, per group or for the whole table.

    Parameters
    ----------
    table
        One row per cell: ``pop_total``, ``time_before_min``, ``time_after_min`` (NaN:
        unreachable) and the ``by`` column when given.
    threshold_min
        Threshold of the ``newly_within`` / ``no_longer_within`` columns.
    minutes
        Thresholds of the ``within_<m>_before`` / ``within_<m>_after`` columns.
    by
        Group column (``commune_code``, ``epci_code``); None: one row for all.

    Returns
    -------
    pandas.DataFrame
        ``population``; ``mean_before_min`` / ``mean_after_min`` (weighted by population,
        over the cells that reach a site), ``change_mean_min`` (after − before);
        ``max_before_min`` / ``max_after_min`` (over cells with inhabitants); population
        ``within_<m>_before`` / ``_after``; ``newly_within`` (within the threshold after
        but not before) and ``no_longer_within`` (the reverse), in inhabitants.
    """
    pop = table[C.POP_TOTAL].to_numpy(dtype=float)
    tb = table[_TIME_BEFORE].to_numpy(dtype=float)
    ta = table[_TIME_AFTER].to_numpy(dtype=float)
    keys = table[by].to_numpy() if by else np.zeros(len(table), dtype=int)
    cols: dict[str, np.ndarray] = {"population": pop}
    for name, t in (("before", tb), ("after", ta)):
        ok = np.isfinite(t)
        cols[f"_num_{name}"] = np.where(ok, t * pop, 0.0)
        cols[f"_den_{name}"] = np.where(ok, pop, 0.0)
        cols[f"max_{name}_min"] = np.where(ok & (pop > 0), t, -np.inf)
    for m in minutes:
        cols[f"within_{m:g}_before"] = np.where(_within(tb, m), pop, 0.0)
        cols[f"within_{m:g}_after"] = np.where(_within(ta, m), pop, 0.0)
    inside_b, inside_a = _within(tb, threshold_min), _within(ta, threshold_min)
    cols["newly_within"] = np.where(inside_a & ~inside_b, pop, 0.0)
    cols["no_longer_within"] = np.where(inside_b & ~inside_a, pop, 0.0)
    frame = pd.DataFrame(cols)
    frame["_key"] = keys
    agg = {c: ("max" if c.startswith("max_") else "sum") for c in cols}
    g = frame.groupby("_key", sort=True).agg(agg)
    out = pd.DataFrame(index=g.index)
    out["population"] = g["population"]
    for name in ("before", "after"):
        out[f"mean_{name}_min"] = g[f"_num_{name}"] / g[f"_den_{name}"].where(g[f"_den_{name}"] > 0)
    out["change_mean_min"] = out["mean_after_min"] - out["mean_before_min"]
    for name in ("before", "after"):
        out[f"max_{name}_min"] = g[f"max_{name}_min"].replace(-np.inf, np.nan)
    for m in minutes:
        out[f"within_{m:g}_before"] = g[f"within_{m:g}_before"]
        out[f"within_{m:g}_after"] = g[f"within_{m:g}_after"]
    out["newly_within"] = g["newly_within"]
    out["no_longer_within"] = g["no_longer_within"]
    if by is None:
        return out.reset_index(drop=True)
    return out.rename_axis(by).reset_index()


def rank_sites(
    times: np.ndarray,
    before: np.ndarray,
    population: np.ndarray,
    site_ids: Sequence[Hashable],
    *,
    threshold_min: float,
) -> pd.DataFrame:
    """Rank candidate sites, each added alone to the existing ones.

    Parameters
    ----------
    times
        (cells × candidates) minutes, NaN unreachable.
    before
        Each cell's time to its nearest existing site (NaN: none reachable).
    population
        Each cell's population.
    site_ids
        The candidates' ids (columns of ``times``).
    threshold_min
        Threshold of ``newly_within``.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``newly_within`` (inhabitants brought within the threshold),
        ``mean_saved_min`` (minutes saved per inhabitant of the territory; a cell that
        reached no site before counts only in ``newly_within``), ``rank`` (1 = best:
        most ``newly_within``, then most ``mean_saved_min``), sorted by rank.
    """
    t = np.asarray(times, dtype=float)
    pop = np.asarray(population, dtype=float)
    b = np.asarray(before, dtype=float)
    inside_b = _within(b, threshold_min)
    newly = ((np.nan_to_num(t, nan=np.inf) <= threshold_min) & ~inside_b[:, None]).T @ pop
    saved = np.where(np.isfinite(b)[:, None], np.clip(b[:, None] - t, 0, None), 0.0)
    saved = np.nan_to_num(saved, nan=0.0).T @ pop / pop.sum() if pop.sum() > 0 else saved[0] * 0
    out = pd.DataFrame({C.SITE_ID: list(site_ids), "newly_within": newly, "mean_saved_min": saved})
    out = out.sort_values(["newly_within", "mean_saved_min"], ascending=False, kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScenarioEvaluation:
    """Before/after figures of a scenario (sites added or removed for one category)."""

    category: str
    category_label: str
    threshold_min: float
    minutes: tuple[float, ...]
    added: gpd.GeoDataFrame = field(repr=False)
    """The sites added (``site_id``, ``label``, geometry)."""
    removed: gpd.GeoDataFrame = field(repr=False)
    """The existing sites removed."""
    existing: gpd.GeoDataFrame = field(repr=False)
    """The existing sites of the category (before the scenario)."""
    cells: gpd.GeoDataFrame = field(repr=False)
    """Per cell: ``cell_id``, ``commune_code``, populations, ``time_before_min``,
    ``time_after_min``, ``gain_min`` (before − after), polygon geometry."""
    communes: pd.DataFrame = field(repr=False)
    """Per commune: names, EPCI and the columns of :func:`change_summary`, sorted by
    ``newly_within`` then mean gain (the communes that gain most first)."""
    epci: pd.DataFrame = field(repr=False)
    territory: pd.DataFrame = field(repr=False)
    summary_fr: str

    @property
    def cells_before_after(self) -> gpd.GeoDataFrame:
        """The table :func:`accessibility.outputs.maps.scenario_map` takes."""
        cols = [C.CELL_ID, C.POP_TOTAL, _TIME_BEFORE, _TIME_AFTER, "geometry"]
        return gpd.GeoDataFrame(self.cells[cols], geometry="geometry", crs=self.cells.crs)

    def scenario_result(self, title: str | None = None, source: str = "") -> ScenarioResult:
        """The report's section (:class:`accessibility.outputs.report.ScenarioResult`)."""
        t = self.territory.iloc[0]
        rows = [
            ("Temps moyen pondéré", _fr.minutes(t["mean_before_min"]),
             _fr.minutes(t["mean_after_min"]), _signed_min(t["change_mean_min"])),
            ("Temps maximal", _fr.minutes(t["max_before_min"]),
             _fr.minutes(t["max_after_min"]),
             _signed_min(t["max_after_min"] - t["max_before_min"])),
        ]  # fmt: skip
        for m in self.minutes:
            b, a = t[f"within_{m:g}_before"], t[f"within_{m:g}_after"]
            rows.append(
                (f"Habitants à {m:g}{_fr.NBSP}min ou moins", _fr.num(b), _fr.num(a), _signed(a - b))
            )
        table = pd.DataFrame(rows, columns=["Indicateur", "Avant", "Après", "Écart"])
        return ScenarioResult(
            title=title or f"{self.category_label} : scénario",
            summary_fr=self.summary_fr,
            table=table,
            source=source
            or "Temps en voiture sur le réseau routier, depuis les carreaux de population "
            "de 1 km (recensement 2021).",
        )


def _signed(value: float) -> str:
    if not np.isfinite(value):
        return "n.d."
    return ("+" if value > 0 else "−" if value < 0 else "") + _fr.num(abs(value))


def _signed_min(value: float) -> str:
    if not np.isfinite(value):
        return "n.d."
    return ("+" if value > 0 else "−" if value < 0 else "") + _fr.minutes(abs(value))


def _place_names(sites: gpd.GeoDataFrame) -> list[str]:
    if C.COMMUNE_NAME in sites.columns:
        names = sites[C.COMMUNE_NAME].where(sites[C.COMMUNE_NAME].notna(), sites[C.LABEL])
    else:
        names = sites[C.LABEL]
    return [str(n) for n in names]


def scenario_summary_fr(
    label: str,
    added: Sequence[str],
    removed: Sequence[str],
    delta_within: float,
    threshold_min: float,
    mean_before: float,
    mean_after: float,
) -> str:
    """« Un site France Services de plus à Valloire : +1 240 habitants à 20 min ou moins (temps
    moyen 14 → 12 min) »."""
    parts = []
    if len(added) == 1:
        parts.append(f"Un site {label} de plus à {added[0]}")
    elif added:
        parts.append(f"{len(added)} sites {label} de plus ({', '.join(added)})")
    if len(removed) == 1:
        parts.append(f"fermeture du site {label} {removed[0]}")
    elif removed:
        parts.append(f"fermeture de {len(removed)} sites {label} ({', '.join(removed)})")
    head = " et ".join(parts) or f"{label} : aucun changement"
    head = head[0].upper() + head[1:]
    return (
        f"{head} : {_signed(delta_within) if delta_within else '+0'} habitants à "
        f"{threshold_min:g}{_fr.NBSP}min ou moins (temps moyen pondéré "
        f"{_fr.minutes(mean_before)} → {_fr.minutes(mean_after)})"
    )


def _cells_frame(study: Any) -> pd.DataFrame:
    cells = study.layers.cells
    communes = study.layers.communes[[C.COMMUNE_CODE, C.COMMUNE_NAME, C.EPCI_CODE, C.EPCI_NAME]]
    keep = [C.CELL_ID, C.COMMUNE_CODE, C.POP_TOTAL, C.POP_65PLUS, C.POP_UNDER15]
    out = cells[keep].merge(communes, on=C.COMMUNE_CODE, how="left")
    out["geometry"] = cells.geometry.to_numpy()
    return out


def _evaluate(
    study: Any,
    cat: Category,
    threshold: float,
    cm: CostMatrix,
    existing: gpd.GeoDataFrame,
    added: gpd.GeoDataFrame,
    removed_ids: Sequence[str],
    minutes: Sequence[float],
) -> ScenarioEvaluation:
    ids = cm.candidate_ids
    ex_ids = existing[C.SITE_ID]
    before = nearest_time(cm.times, ids.get_indexer(ex_ids))
    kept = ex_ids[~ex_ids.isin(removed_ids)]
    after = nearest_time(cm.times, ids.get_indexer(pd.concat([kept, added[C.SITE_ID]])))
    cells = _cells_frame(study)
    cells[_TIME_BEFORE] = before
    cells[_TIME_AFTER] = after
    cells["gain_min"] = before - after
    communes = change_summary(cells, threshold_min=threshold, minutes=minutes, by=C.COMMUNE_CODE)
    names = study.layers.communes.set_index(C.COMMUNE_CODE)
    communes.insert(1, C.COMMUNE_NAME, communes[C.COMMUNE_CODE].map(names[C.COMMUNE_NAME]))
    communes.insert(2, C.EPCI_CODE, communes[C.COMMUNE_CODE].map(names[C.EPCI_CODE]))
    communes.insert(3, C.EPCI_NAME, communes[C.COMMUNE_CODE].map(names[C.EPCI_NAME]))
    communes = (
        communes.assign(_gain=-communes["change_mean_min"].fillna(0))
        .sort_values(["newly_within", "_gain"], ascending=False, kind="stable")
        .drop(columns="_gain")
        .reset_index(drop=True)
    )
    epci = change_summary(cells, threshold_min=threshold, minutes=minutes, by=C.EPCI_CODE)
    epci.insert(
        1,
        C.EPCI_NAME,
        epci[C.EPCI_CODE].map(
            names.drop_duplicates(C.EPCI_CODE).set_index(C.EPCI_CODE)[C.EPCI_NAME]
        ),
    )
    territory = change_summary(cells, threshold_min=threshold, minutes=minutes)
    t = territory.iloc[0]
    removed = existing[existing[C.SITE_ID].isin(removed_ids)]
    summary = scenario_summary_fr(
        cat.label,
        _place_names(added),
        [f"{lab} ({c})" for lab, c in zip(removed[C.LABEL], removed[C.COMMUNE_CODE], strict=True)],
        float(t["newly_within"] - t["no_longer_within"]),
        threshold,
        float(t["mean_before_min"]),
        float(t["mean_after_min"]),
    )
    return ScenarioEvaluation(
        category=cat.key,
        category_label=cat.label,
        threshold_min=threshold,
        minutes=tuple(float(m) for m in minutes),
        added=added,
        removed=removed,
        existing=existing,
        cells=gpd.GeoDataFrame(cells, geometry="geometry", crs=study.layers.cells.crs),
        communes=communes,
        epci=epci,
        territory=territory,
        summary_fr=summary,
    )


def _check_removed(existing: gpd.GeoDataFrame, removed: Sequence[str], category: str) -> list[str]:
    if isinstance(removed, str):
        raise TypeError("removed: expected a sequence of service ids, got a single string")
    removed = [str(r) for r in removed]
    unknown = [r for r in removed if r not in set(existing[C.SITE_ID])]
    if unknown:
        sample = ", ".join(existing[C.SITE_ID].head(5))
        raise DataError(
            f"removed: {len(unknown)} id(s) are not services of category {category!r}: "
            f"{', '.join(unknown)} (its {len(existing)} services have ids like {sample})"
        )
    return removed


def _prepare_added(added: gpd.GeoDataFrame | None, existing: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if added is None or len(added) == 0:
        return gpd.GeoDataFrame(
            {C.SITE_ID: pd.Series(dtype=str), C.LABEL: pd.Series(dtype=str)},
            geometry=gpd.GeoSeries([], crs=existing.crs),
        )
    added = added.copy()
    if C.SITE_ID not in added.columns:
        raise MissingColumnError(f"added sites: missing column {C.SITE_ID!r}")
    if C.LABEL not in added.columns:
        added[C.LABEL] = added[C.SITE_ID].astype(str)
    require_unique(added, C.SITE_ID, where="added sites")
    clash = set(added[C.SITE_ID]) & set(existing[C.SITE_ID])
    if clash:
        raise DataError(f"added sites: ids already used by existing services: {sorted(clash)}")
    return added


def evaluate_scenario(
    study: Any,
    category: str,
    *,
    added: gpd.GeoDataFrame | None = None,
    removed: Sequence[str] = (),
    threshold_min: float | None = None,
    minutes: Sequence[float] = MINUTES,
) -> ScenarioEvaluation:
    """Before/after access to ``category`` when sites are added and/or removed.

    Parameters
    ----------
    study
        A :class:`~accessibility.pipeline.Study`.
    category
        A service category key (``france_services``, ``childcare``...).
    added
        New sites: points with ``site_id`` (and ``label``; ``commune_name`` names them
        in the summary when present).
    removed
        Service ids of existing sites of the category to close.
    threshold_min
        Threshold of ``newly_within`` and of the summary; default the category's.
    minutes
        Thresholds of the "population within" figures.
    """
    cat = category_of(category)
    threshold = float(cat.threshold_min if threshold_min is None else threshold_min)
    existing = existing_sites(study, category)
    removed_ids = _check_removed(existing, removed, category)
    added = _prepare_added(added, existing)
    if len(added):
        check_candidates(study, added, where="added sites")
    sites = pd.concat(
        [existing[[C.SITE_ID, "geometry"]], added[[C.SITE_ID, "geometry"]].to_crs(existing.crs)],
        ignore_index=True,
    )
    cm = site_matrix(study, gpd.GeoDataFrame(sites, geometry="geometry", crs=existing.crs))
    return _evaluate(study, cat, threshold, cm, existing, added, removed_ids, minutes)


@dataclass(frozen=True, eq=False)
class SiteChoice:
    """What :func:`choose_sites` found: the model's answer and its evaluation."""

    result: SitingResult
    chosen: gpd.GeoDataFrame
    """The new sites chosen (``site_id``, ``label``, ``commune_code``, geometry)."""
    candidates: gpd.GeoDataFrame
    evaluation: ScenarioEvaluation
    model: str
    threshold_min: float


def choose_sites(
    study: Any,
    category: str,
    *,
    new: int,
    model: str,
    threshold_min: float | None = None,
    candidates: gpd.GeoDataFrame | Path | str | None = None,
    removed: Sequence[str] = (),
    time_limit_s: float | None = 60,
) -> SiteChoice:
    """Choose ``new`` sites among the candidates with a siting model, the existing
    services of the category (minus ``removed``) open, then evaluate the scenario.

    Parameters
    ----------
    model
        ``"mclp"`` (most population within the threshold), ``"p-median"`` (least total
        travel time), ``"p-center"`` (least worst time) or ``"lscp"`` (fewest sites
        reaching everyone within the threshold: ``new`` is then ignored).
    candidates
        Candidate sites (a GeoDataFrame with ``site_id``/``label``, or a file for
        :func:`read_candidates`); default the territory's town halls.
    threshold_min
        Coverage threshold (MCLP, LSCP) and threshold of the evaluation; default the
        category's.
    """
    cat = category_of(category)
    if model not in MODELS:
        raise DataError(f"unknown siting model {model!r}; known: {', '.join(MODELS)}")
    threshold = float(cat.threshold_min if threshold_min is None else threshold_min)
    if isinstance(candidates, str | Path):
        where = f"candidates file {candidates}"
        cand = read_candidates(candidates)
    elif candidates is None:
        where = "candidates (town halls)"
        cand = town_hall_candidates(study.layers.communes)
    else:
        where = "candidates"
        cand = candidates
    existing = existing_sites(study, category)
    removed_ids = _check_removed(existing, removed, category)
    cand = _prepare_added(cand, existing).to_crs(existing.crs)
    if model != "lscp" and (isinstance(new, bool) or not isinstance(new, int) or new < 1):
        raise DataError(f"new: expected a whole number of new sites >= 1, got {new!r}")
    if model != "lscp" and new > len(cand):
        raise DataError(
            f"{new} new site(s) asked for but there are only {len(cand)} {where}; "
            "ask for fewer or give more candidates"
        )
    check_candidates(study, cand, where=where)
    kept = existing[~existing[C.SITE_ID].isin(removed_ids)]
    sites = pd.concat(
        [cand[[C.SITE_ID, "geometry"]], existing[[C.SITE_ID, "geometry"]]], ignore_index=True
    )
    cm = site_matrix(study, gpd.GeoDataFrame(sites, geometry="geometry", crs=existing.crs))
    # the removed sites leave the model's matrix; they stay in ``cm`` for "before"
    model_ids = pd.Index(pd.concat([cand[C.SITE_ID], kept[C.SITE_ID]]))
    sub = CostMatrix(cm.times[:, cm.candidate_ids.get_indexer(model_ids)], cm.demand_ids, model_ids)
    weights = pd.Series(study.layers.cells[C.POP_TOTAL].to_numpy(float), index=cm.demand_ids)
    ex = list(kept[C.SITE_ID])
    if model == "mclp":
        res = mclp(sub, weights, new, threshold, existing=ex, time_limit_s=time_limit_s)
    elif model == "p-median":
        res = p_median(sub, weights, new, existing=ex, time_limit_s=time_limit_s)
    elif model == "p-center":
        res = p_center(sub, weights, new, existing=ex, time_limit_s=time_limit_s)
    else:
        populated = weights > 0  # LSCP: every inhabited cell must be covered
        lsub = CostMatrix(
            sub.times[populated.to_numpy()], sub.demand_ids[populated.to_numpy()], sub.candidate_ids
        )
        try:
            res = lscp(lsub, threshold, existing=ex, time_limit_s=time_limit_s)
        except DataError as exc:
            raise DataError(
                f"LSCP infeasible with a threshold of {threshold:g} min and {len(cand)} "
                f"candidate(s): {exc}; raise the threshold or add candidates"
            ) from exc
    chosen = cand.set_index(C.SITE_ID).loc[list(res.sites)].reset_index()
    chosen = gpd.GeoDataFrame(chosen, geometry="geometry", crs=cand.crs)
    evaluation = _evaluate(study, cat, threshold, cm, existing, chosen, removed_ids, MINUTES)
    return SiteChoice(res, chosen, cand, evaluation, model, threshold)


# --------------------------------------------------------------------------------------
# the project sheet
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ProjectSheet:
    """The « fiche projet » of one proposed site (figures in inhabitants and minutes)."""

    category: str
    category_label: str
    threshold_min: float
    place: str
    """Where the site is proposed (« Valloire (73306) »)."""
    commune_code: str | None
    territory_name: str
    catchment: pd.DataFrame
    """Per threshold (``minutes``): ``pop_total``, ``pop_65plus``, ``pop_under15``
    within that many minutes of the site."""
    nearest: Mapping[str, float]
    """``population`` for whom the site becomes the nearest of its category (strictly
    quicker than every existing one), ``mean_saved_min`` (their population-weighted
    mean saving), ``person_minutes_saved``, ``newly_within`` (brought within the
    threshold), ``unreached_before`` (cells that reached no site before and now do)."""
    cells: pd.DataFrame
    """The cells within the threshold of the site: ``cell_id``, ``commune_code``,
    ``commune_name``, populations, ``time_site_min``, ``time_before_min``,
    ``saved_min`` (0 when the site is not quicker)."""
    priority: pd.DataFrame
    """The priority communes (diagnostic) with inhabitants within the threshold:
    ``rank``, ``commune_code``, ``commune_name``, ``priority_score``, ``reasons``,
    ``population_within``, ``share_within``."""
    ranking: pd.DataFrame
    """The proposal and every alternative town hall (:func:`rank_sites`)."""
    rank: int
    """Rank of the proposal among them (1 = best)."""

    @property
    def alternatives(self) -> pd.DataFrame:
        """The :data:`TOP_ALTERNATIVES` best alternatives (the proposal left out)."""
        return self.ranking[~self.ranking["proposal"]].head(TOP_ALTERNATIVES)

    def figures(self) -> pd.DataFrame:
        """Every figure of the sheet as a long table: ``section``, ``indicator``, ``value``."""
        rows: list[tuple[str, str, Any]] = []
        for r in self.catchment.itertuples(index=False):
            for col in (C.POP_TOTAL, C.POP_65PLUS, C.POP_UNDER15):
                rows.append(("catchment", f"{col}_within_{r.minutes:g}_min", getattr(r, col)))
        rows += [("nearest", k, v) for k, v in self.nearest.items()]
        rows += [
            ("priority", f"{r.commune_code}_population_within", r.population_within)
            for r in self.priority.itertuples(index=False)
        ]
        rows.append(("ranking", "rank", self.rank))
        rows.append(("ranking", "n_sites_ranked", len(self.ranking)))
        return pd.DataFrame(rows, columns=["section", "indicator", "value"])

    # --- writers -------------------------------------------------------------------------

    def _sections(self) -> list[tuple[str, str, pd.DataFrame | None]]:
        n = self.nearest
        thr = f"{self.threshold_min:g}{_fr.NBSP}min"
        c = self.catchment.copy()
        catchment = pd.DataFrame({
            "Temps d'accès": [f"{m:g}{_fr.NBSP}min ou moins" for m in c["minutes"]],
            "Habitants": [_fr.num(v) for v in c[C.POP_TOTAL]],
            "dont 65 ans et plus": [_fr.num(v) for v in c[C.POP_65PLUS]],
            "dont moins de 15 ans": [_fr.num(v) for v in c[C.POP_UNDER15]],
        })  # fmt: skip
        nearest_text = (
            f"Le site devient le plus proche de sa catégorie pour {_fr.num(n['population'])} "
            f"habitants, qui gagnent en moyenne {_fr.minutes(n['mean_saved_min'])}. "
            f"{_fr.num(n['newly_within'])} habitants passent sous le seuil de {thr}."
        )
        pr = self.priority
        priority_text = (
            f"{len(pr)} commune(s) prioritaire(s) du diagnostic ont des habitants à {thr} "
            "ou moins du site."
            if len(pr)
            else f"Aucune commune prioritaire du diagnostic n'a d'habitant à {thr} ou moins."
        )
        priority = pd.DataFrame({
            "Rang": pr["rank"], "Commune": pr[C.COMMUNE_NAME],
            "Score": [_fr.num(v, 1) for v in pr["priority_score"]],
            f"Habitants à {thr}": [_fr.num(v) for v in pr["population_within"]],
            "Part": [_fr.pct(v) for v in pr["share_within"]],
            "Motifs": pr["reasons"],
        })  # fmt: skip
        alt = self.alternatives
        alternatives = pd.DataFrame({
            "Rang": alt["rank"], "Site": alt[C.LABEL],
            "Nouveaux habitants sous le seuil": [_fr.num(v) for v in alt["newly_within"]],
            "Minutes gagnées par habitant": [_fr.num(v, 2) for v in alt["mean_saved_min"]],
        })  # fmt: skip
        me = self.ranking[self.ranking["proposal"]].iloc[0]
        rank_text = (
            f"Classé {self.rank}e sur {len(self.ranking)} sites comparés (le projet et les "
            f"mairies des autres communes) : {_fr.num(me['newly_within'])} habitants "
            f"nouvellement à {thr} ou moins, {_fr.num(me['mean_saved_min'], 2)} minute(s) "
            "gagnée(s) par habitant du territoire. Les 5 meilleures alternatives :"
        )
        return [
            ("Population desservie", "Habitants à 10, 20 et 30 minutes du site "
             "(carreaux de 1 km du recensement 2021).", catchment),
            ("Qui gagne du temps", nearest_text, None),
            ("Communes prioritaires atteintes", priority_text, priority if len(pr) else None),
            ("Comparaison avec d'autres emplacements", rank_text, alternatives),
        ]  # fmt: skip

    @property
    def title(self) -> str:
        return f"Fiche projet : {self.category_label} à {self.place}"

    def to_markdown(self) -> str:
        """The sheet in French, as Markdown."""
        lines = [f"# {self.title}", "",
                 f"{self.territory_name}. Seuil de la catégorie : "
                 f"{self.threshold_min:g}{_fr.NBSP}min en voiture.", ""]  # fmt: skip
        for head, text, table in self._sections():
            lines += [f"## {head}", "", text, ""]
            if table is not None and len(table):
                lines += [_md_table(table), ""]
        lines.append(_SOURCE_FR)
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """The sheet in French, as a self-contained HTML page (inline CSS)."""
        body = [f"<h1>{html.escape(self.title)}</h1>",
                f"<p>{html.escape(self.territory_name)}. Seuil de la catégorie : "
                f"{self.threshold_min:g}{_fr.NBSP}min en voiture.</p>"]  # fmt: skip
        for head, text, table in self._sections():
            body += [f"<h2>{html.escape(head)}</h2>", f"<p>{html.escape(text)}</p>"]
            if table is not None and len(table):
                body.append(table.to_html(index=False, border=0, escape=True))
        body.append(f'<p class="source">{html.escape(_SOURCE_FR)}</p>')
        return (
            '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n"
        )

    def write(self, out_dir: Path | str, stem: str | None = None) -> dict[str, Path]:
        """Write ``<stem>.md``, ``<stem>.html``, ``<stem>.csv`` (the figures) and
        ``<stem>_cellules.csv`` atomically; default stem
        ``fiche_projet_<category>_<place>``."""
        out_dir = Path(out_dir)
        stem = stem or f"fiche_projet_{self.category}_{slug(self.place)}"
        md, page = self.to_markdown(), self.to_html()
        return {
            "md": atomic_write(out_dir / f"{stem}.md", lambda p: p.write_text(md, "utf-8")),
            "html": atomic_write(out_dir / f"{stem}.html", lambda p: p.write_text(page, "utf-8")),
            "csv": write_table(self.figures(), out_dir / f"{stem}.csv"),
            "cells": write_table(self.cells, out_dir / f"{stem}_cellules.csv"),
        }


_SOURCE_FR = (
    "Sources : carreaux de population du recensement 2021 (Eurostat / INSEE), réseau "
    "routier, services du territoire. Temps en voiture, hors congestion."
)
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
    "color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em;border-bottom:1px "
    "solid #ccc}table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .6em;"
    "border-bottom:1px solid #ddd;text-align:left}td{font-variant-numeric:tabular-nums}"
    ".source{color:#666;font-size:.85em;margin-top:2em}"
)


def _md_table(df: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(map(cell, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


def slug(text: str) -> str:
    """ASCII file-name part: « Saint-Jean-de-Maurienne (73248) » -> ``saint-jean-de-maurienne``."""
    text = re.sub(r"\s*\(\d[0-9AB]\d{3}\)\s*$", "", str(text))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "site"


def _resolve(study: Any, at: Any) -> tuple[str, gpd.GeoDataFrame, str | None]:
    from accessibility.inputs.places import Place, resolve_place

    place = at
    if isinstance(at, str):
        place = resolve_place(
            at, paths=study.paths, prefer=frozenset(study.layers.communes[C.COMMUNE_CODE])
        )
    if not isinstance(place, Place):
        raise TypeError(f"at: expected a place name, code, 'lon,lat' or a Place, got {at!r}")
    site = gpd.GeoDataFrame(
        {C.SITE_ID: ["projet"], C.LABEL: [f"Projet ({place.label})"]},
        geometry=[place.point],
        crs="EPSG:4326",
    )
    return place.label, site, place.commune_code


def project_sheet(
    study: Any,
    diagnostic: Any,
    category: str,
    at: Any,
    *,
    threshold_min: float | None = None,
    minutes: Sequence[float] = MINUTES,
) -> ProjectSheet:
    """The « fiche projet » of a site of ``category`` proposed at ``at``.

    Parameters
    ----------
    study, diagnostic
        The territory's study and its :func:`~accessibility.indicators.diagnostic.run_diagnostic`
        (for the priority communes).
    category
        The category the site belongs to (a MAM: ``childcare``; a health centre:
        ``general_practitioner``).
    at
        A commune name, an INSEE code, ``"lon,lat"`` (placed by
        :func:`accessibility.inputs.places.resolve_place`) or a
        :class:`~accessibility.inputs.places.Place`.
    threshold_min
        Default: the category's threshold.

    Notes
    -----
    The alternatives are the town halls of the territory's other communes (the
    proposal's own commune is left out: its town hall is the proposal when ``at`` is a
    commune), each added alone to the existing services and ranked by
    :func:`rank_sites`.
    """
    cat = category_of(category)
    threshold = float(cat.threshold_min if threshold_min is None else threshold_min)
    label, site, code = _resolve(study, at)
    site = site.to_crs(study.layers.cells.crs)
    check_candidates(study, site, where=f"proposed site {label}")
    existing = existing_sites(study, category)
    halls = town_hall_candidates(study.layers.communes)
    if code is not None:
        halls = halls[halls[C.COMMUNE_CODE] != code]
    sites = pd.concat(
        [
            site[[C.SITE_ID, "geometry"]],
            existing[[C.SITE_ID, "geometry"]],
            halls[[C.SITE_ID, "geometry"]],
        ],
        ignore_index=True,
    )
    cm = site_matrix(study, gpd.GeoDataFrame(sites, geometry="geometry", crs=existing.crs))
    cells = _cells_frame(study).drop(columns="geometry")
    t_site = cm.times[:, 0]
    before = nearest_time(cm.times, cm.candidate_ids.get_indexer(existing[C.SITE_ID]))
    pop = cells[C.POP_TOTAL].to_numpy(float)

    catchment = pd.DataFrame({"minutes": [float(m) for m in minutes]})
    for col in (C.POP_TOTAL, C.POP_65PLUS, C.POP_UNDER15):
        v = cells[col].to_numpy(float)
        catchment[col] = [float(v[_within(t_site, m)].sum()) for m in minutes]

    quicker = np.isfinite(t_site) & ~(np.nan_to_num(before, nan=np.inf) <= t_site)
    saved = np.where(quicker & np.isfinite(before), before - t_site, 0.0)
    gainers = quicker & np.isfinite(before)
    nearest = {
        "population": float(pop[quicker].sum()),
        "mean_saved_min": float((pop * saved)[gainers].sum() / pop[gainers].sum())
        if pop[gainers].sum() > 0 else 0.0,
        "person_minutes_saved": float((pop * saved).sum()),
        "newly_within": float(pop[_within(t_site, threshold) & ~_within(before, threshold)].sum()),
        "unreached_before": float(pop[quicker & ~np.isfinite(before)].sum()),
    }  # fmt: skip

    cells["time_site_min"] = t_site
    cells[_TIME_BEFORE] = before
    cells["saved_min"] = saved
    served = cells[_within(t_site, threshold)].sort_values("time_site_min", kind="stable")

    within_by_commune = served.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    total_by_commune = cells.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    prio = diagnostic.priority
    prio = prio[prio[C.COMMUNE_CODE].isin(within_by_commune.index)].copy()
    prio["population_within"] = prio[C.COMMUNE_CODE].map(within_by_commune).astype(float)
    prio["share_within"] = prio["population_within"] / prio[C.COMMUNE_CODE].map(
        total_by_commune
    ).where(lambda s: s > 0)
    prio = prio[prio["population_within"] > 0]
    prio = prio[["rank", C.COMMUNE_CODE, C.COMMUNE_NAME, "priority_score", "reasons",
                 "population_within", "share_within"]].reset_index(drop=True)  # fmt: skip

    alt_cols = np.concatenate([[0], cm.candidate_ids.get_indexer(halls[C.SITE_ID])])
    ranking = rank_sites(
        cm.times[:, alt_cols], before, pop, ["projet", *halls[C.SITE_ID]], threshold_min=threshold
    )
    labels = dict(zip(halls[C.SITE_ID], halls[C.LABEL], strict=True))
    labels["projet"] = f"Projet ({label})"
    ranking.insert(1, C.LABEL, ranking[C.SITE_ID].map(labels))
    ranking["proposal"] = ranking[C.SITE_ID] == "projet"
    # ties: the proposal ranks first among equals (it is what is being assessed)
    me = ranking[ranking["proposal"]].iloc[0]
    better = (ranking["newly_within"] > me["newly_within"]) | (
        (ranking["newly_within"] == me["newly_within"])
        & (ranking["mean_saved_min"] > me["mean_saved_min"])
    )
    rank = int(better.sum()) + 1
    return ProjectSheet(
        category=cat.key,
        category_label=cat.label,
        threshold_min=threshold,
        place=label,
        commune_code=code,
        territory_name=study.layers.territory.name,
        catchment=catchment,
        nearest=nearest,
        cells=served.reset_index(drop=True),
        priority=prio,
        ranking=ranking,
        rank=rank,
    )


# --------------------------------------------------------------------------------------
# the itinerant tour
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TourResult:
    """An itinerant tour over the town halls and its comparison with a fixed site."""

    plan: Any
    """The :class:`accessibility.planning.tours.TourPlan`."""
    stops: pd.DataFrame
    """The candidate stops: ``stop_id`` (commune code), ``commune_name``,
    ``population``, ``priority_score``, ``priority`` (the prize weight)."""
    times: pd.DataFrame
    """Town hall × town hall travel times (long table, ids = commune codes)."""
    comparison: pd.DataFrame
    """:func:`accessibility.planning.tours.compare_with_fixed_site` with the depot."""
    depot_name: str
    excluded_hosts: tuple[str, ...]
    """Communes left out of the stops because they already host a site of the category."""

    def schedule(self) -> pd.DataFrame:
        """The timetable with the commune names (``commune_name``)."""
        s = self.plan.schedule()
        names = self.stops.set_index(C.STOP_ID)[C.COMMUNE_NAME]
        s.insert(3, C.COMMUNE_NAME, s[C.STOP_ID].map(names))
        return s


def tour_priority(scores: pd.Series) -> pd.Series:
    """Prize weight of each commune: ``1 + score / max score`` (1 to 2).

    A commune with no priority score (not in the diagnostic's priority table) weighs
    1; the commune with the highest score weighs 2, so a priority inhabitant counts at
    most twice an ordinary one (population still matters most).
    """
    s = scores.fillna(0.0).clip(lower=0)
    top = float(s.max()) if len(s) else 0.0
    return 1.0 + (s / top if top > 0 else s * 0)


def plan_itinerant_tour(
    study: Any,
    *,
    depot: str,
    days: int,
    day_hours: float,
    stop_minutes: float,
    category: str = "france_services",
    diagnostic: Any = None,
    time_limit_s: float = 10,
    day_start: str = "09:00",
) -> TourResult:
    """Plan an itinerant service's tour over the territory's town halls.

    Stops are the town halls of the territory's communes, except those of communes that
    already host a service of ``category`` (the depot is never a stop). The prize of a
    stop is its population × :func:`tour_priority` of its commune's priority score
    (``diagnostic.priority``; the diagnostic is run when not given). The travel matrix is
    town hall × town hall (:func:`accessibility.engine.travel_times.od_matrix`); the tour is
    :func:`accessibility.planning.tours.plan_tour` and is compared with a fixed site at the
    depot by :func:`accessibility.planning.tours.compare_with_fixed_site`.

    Parameters
    ----------
    depot
        The depot's commune: a name or INSEE code of a commune of the territory.
    days, day_hours, stop_minutes
        Tour days a week, hours a day (driving and stops), minutes at each stop.
    """
    from accessibility.inputs.places import _fold
    from accessibility.planning.tours import compare_with_fixed_site, plan_tour

    category_of(category)
    communes = study.layers.communes
    text = str(depot).strip()
    hit = communes[(communes[C.COMMUNE_CODE] == text)
                   | (communes[C.COMMUNE_NAME].map(_fold) == _fold(text))]  # fmt: skip
    if len(hit) != 1:
        raise DataError(
            f"depot {depot!r}: not a commune of {study.layers.territory.name} (give the name "
            f"or INSEE code of one of its {len(communes)} communes)"
        )
    depot_code = str(hit[C.COMMUNE_CODE].iloc[0])
    if diagnostic is None:
        from accessibility.indicators.diagnostic import run_diagnostic

        diagnostic = run_diagnostic(study)
    halls = town_hall_points(communes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapWarning)  # town halls: see the layers' checks
        times = od_matrix(
            study.network, halls, halls, origin_id=C.COMMUNE_CODE, destination_id=C.COMMUNE_CODE
        )
    scores = diagnostic.priority.set_index(C.COMMUNE_CODE)["priority_score"]
    stops = pd.DataFrame({
        C.STOP_ID: communes[C.COMMUNE_CODE].astype(str).to_numpy(),
        C.COMMUNE_NAME: communes[C.COMMUNE_NAME].to_numpy(),
        C.POPULATION: communes[C.POPULATION].to_numpy(float),
    })  # fmt: skip
    stops["priority_score"] = stops[C.STOP_ID].map(scores).astype(float)
    stops[C.PRIORITY] = tour_priority(stops["priority_score"]).to_numpy()
    svc = study.layers.services
    hosts = set(svc.loc[(svc[C.CATEGORY] == category) & svc[C.IN_TERRITORY], C.COMMUNE_CODE])
    excluded = tuple(sorted(hosts & set(stops[C.STOP_ID]) - {depot_code}))
    candidates = stops[~stops[C.STOP_ID].isin(hosts) & (stops[C.STOP_ID] != depot_code)]
    plan = plan_tour(times, candidates[[C.STOP_ID, C.POPULATION, C.PRIORITY]], depot=depot_code,
                     days=days, day_minutes=day_hours * 60, stop_minutes=stop_minutes,
                     time_limit_s=time_limit_s, day_start=day_start)  # fmt: skip
    population = stops.set_index(C.STOP_ID)[C.POPULATION]
    comparison = compare_with_fixed_site(times, population, plan, depot_code)
    return TourResult(plan, stops, times, comparison, str(hit[C.COMMUNE_NAME].iloc[0]), excluded)


__all__ = [
    "MINUTES",
    "MODELS",
    "ProjectSheet",
    "ScenarioEvaluation",
    "SiteChoice",
    "TourResult",
    "category_of",
    "change_summary",
    "check_candidates",
    "choose_sites",
    "evaluate_scenario",
    "existing_sites",
    "nearest_time",
    "plan_itinerant_tour",
    "project_sheet",
    "rank_sites",
    "read_candidates",
    "site_matrix",
    "tour_priority",
    "town_hall_candidates",
]
