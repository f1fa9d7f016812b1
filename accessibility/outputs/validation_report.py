"""The validation report: ``validation.html`` (« Validation des temps de trajet ») and CSVs.

:func:`compute_validation` gathers the checks of :mod:`accessibility.validation` for one
territory (coarse vs full network where a full network covers it, otherwise the
calibration's held-out errors; the well-known routes; the national France Services
check; the population far from the network); :func:`write_validation` writes the French
HTML page for the steering committee (figures inlined as PNG) and the CSV tables, with
English column names, for analysts. :func:`reliability` returns the measured error band
and the « Fiabilité des temps de trajet » paragraph of the main report.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure

from accessibility.core import columns as C
from accessibility.core.files import atomic_write
from accessibility.core.fr import num, pct
from accessibility.core.paths import Paths, default_paths
from accessibility.engine.access import model_columns
from accessibility.engine.access_model import DENSITY_COLUMN, add_density, snap_options_for
from accessibility.engine.snapping import SnapOptions
from accessibility.inputs.layers import prepare_layers
from accessibility.inputs.population import census_points_in_area
from accessibility.inputs.services import load_categories
from accessibility.inputs.territory import Territory
from accessibility.network.graph import RoadNetwork
from accessibility.network.load import territory_network
from accessibility.outputs.report import template_environment
from accessibility.validation.compare import (
    Comparison,
    coarse_territory,
    compare_networks,
    has_full_network,
    heldout_summary,
    read_heldout,
)
from accessibility.validation.coverage import FAR_M, commune_coverage
from accessibility.validation.national import MINISTRY_SOURCE, national_tables
from accessibility.validation.routes import compare_routes, load_routes

log = logging.getLogger(__name__)

TEMPLATE = "validation.html.j2"
FIG_DPI = 120


@dataclass(frozen=True, eq=False)
class Validation:
    """Every check of one territory (``None``: not available or not run)."""

    territory: Territory
    population: float
    routes: pd.DataFrame
    communes_far: pd.DataFrame
    coverage_network: str
    comparison: Comparison | None = None
    heldout: pd.DataFrame | None = None
    national: pd.DataFrame | None = None
    departements: pd.DataFrame | None = None


def compute_validation(
    territory: str | Territory,
    *,
    paths: Paths | None = None,
    national: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Validation:
    """Run every check of ``territory`` (see the module docstring).

    ``national=False`` skips the national check (15-30 s and 1 GB the first time; its
    two small tables are cached afterwards).
    """
    say = progress or (lambda message: log.info("%s", message))
    paths = paths or default_paths()
    say("layers and road network")
    layers = prepare_layers(territory, paths=paths)
    terr = layers.territory
    net = territory_network(terr, layers.communes, paths=paths)
    comparison = heldout = None
    coarse = net
    if has_full_network(terr):
        say("coarse network (Travel Mapping) and coarse/full comparison")
        coarse = territory_network(coarse_territory(terr), layers.communes, paths=paths)
        snap = snap_options_for(coarse)  # the model as `run` uses it: the access model
        cells, services = _with_density(layers, snap, paths)
        comparison = compare_networks(net, coarse, cells, services,
                                      full_snap=snap_options_for(net), coarse_snap=snap)
    else:
        heldout = read_heldout()
    say("well-known routes")
    routes = compare_routes(net, load_routes())
    say("population far from the network")
    far = commune_coverage(coarse, layers.cells, layers.communes)
    nat = deps = None
    if national:
        say("national check (France Services, all of France)")
        nat, deps = national_tables(paths)
    return Validation(
        territory=terr,
        population=float(layers.cells[C.POP_TOTAL].sum()),
        routes=routes,
        communes_far=far,
        coverage_network="Travel Mapping",
        comparison=comparison,
        heldout=heldout,
        national=nat,
        departements=deps,
    )


def _with_density(
    layers: Any, snap: SnapOptions, paths: Paths
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The cells and services with the density the access model reads, as
    :func:`accessibility.pipeline.open_study` gives them (that layer is above this one)."""
    cells, services = layers.cells, layers.services
    if DENSITY_COLUMN not in model_columns(snap.access_model):
        return cells, services
    extent = services.total_bounds if len(services) else cells.total_bounds
    area = gpd.GeoSeries([shapely.box(*extent).buffer(5000)], crs=services.crs)
    grid = census_points_in_area(area, paths=paths)
    return add_density(cells, grid), add_density(services, grid)


# --- the measured error band -----------------------------------------------------------------


def _span(values: pd.Series) -> tuple[float, float] | None:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return (float(v.min()), float(v.max())) if len(v) else None


def _signed(x: float, decimals: int = 0) -> str:
    """``2.5`` -> ``'+2,5'``, ``-3`` -> ``'−3'`` (minus sign); NaN -> ``'n.d.'``."""
    text = num(x, decimals).replace("-", "\u2212")
    if text.lstrip("\u2212").strip("0,") == "":
        return "0"  # rounds to zero: no sign
    return ("+" if x > 0 else "") + text


def reliability(
    *,
    comparison: Comparison | None = None,
    heldout: pd.DataFrame | None = None,
    routes: pd.DataFrame | None = None,
    communes_far: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The measured error band and the French « Fiabilité des temps de trajet » text.

    Returns ``{"band_pct": (lo, hi) or None, "routes_pct": (lo, hi) or None,
    "far_1km": people, "far_2km": people, "sentences": [...], "text": "..."}``.
    """
    out: dict[str, Any] = {"band_pct": None, "routes_pct": None, "sentences": []}
    s = out["sentences"]
    if comparison is not None:
        bands = comparison.by_band[comparison.by_band["band"] != "all"]
        out["band_pct"] = _span(bands["mean_signed_error_pct"])
        mae = _span(bands["median_abs_error_min"])
        if out["band_pct"] and mae:
            lo, hi = out["band_pct"]
            s.append(
                f"Comparé au réseau routier complet du territoire, le modèle simplifié "
                f"s'écarte en moyenne de {_signed(lo)} % à {_signed(hi)} % selon la durée "
                f"du trajet (écart absolu médian de {num(mae[0], 1)} à {num(mae[1], 1)} min)."
            )
    elif heldout is not None and (h := heldout_summary(heldout)) is not None:
        out["band_pct"] = _span(h.signed_pct.stack())
        mae = _span(h.median_abs_min.stack())
        regions = [c for c in h.signed_pct.columns if str(c) not in ("pooled", "all")]
        if out["band_pct"] and mae:
            lo, hi = out["band_pct"]
            s.append(
                "Aucun réseau complet ne couvre ce territoire ; sur les "
                f"{len(regions)} régions de contrôle de la calibration (chacune "
                f"écartée du calage), l'écart moyen du modèle va de {_signed(lo)} % à "
                f"{_signed(hi)} % selon la région et la durée du trajet (écart absolu "
                f"médian de {num(mae[0], 1)} à {num(mae[1], 1)} min)."
            )
    if routes is not None and routes["difference_pct"].notna().any():
        ok = routes[routes["difference_pct"].notna()]
        out["routes_pct"] = _span(ok["difference_pct"])
        lo, hi = out["routes_pct"]
        med = float(ok["difference_pct"].abs().median())
        s.append(
            f"Sur {len(ok)} itinéraires connus (cols et routes de vallée), la longueur "
            f"calculée s'écarte de {_signed(lo)} % à {_signed(hi)} % de la longueur "
            f"publiée (écart médian {num(med)} %)."
        )
    if communes_far is not None and len(communes_far):
        pop = communes_far["population"].sum()
        f1 = communes_far["population_beyond_1km"].sum()
        f2 = communes_far["population_beyond_2km"].sum()
        out["far_1km"], out["far_2km"] = f1, f2
        s.append(
            f"{num(f1)} habitants ({pct(f1 / pop, 1)}) vivent à plus de 1 km d'une route du "
            f"réseau et {num(f2)} ({pct(f2 / pop, 1)}) à plus de 2 km : pour eux, le trajet "
            "jusqu'à la route est estimé en ligne droite et le temps est le moins sûr."
        )
    if not s:
        s.append("La fiabilité des temps n'a pas encore été mesurée pour ce territoire.")
    out["text"] = " ".join(s)
    return out


def reliability_for_study(study: Any) -> dict[str, Any]:
    """The « Fiabilité des temps de trajet » paragraph of a study's main report, from the
    quick checks (routes, distance to the network, held-out errors); the full
    comparison is in ``accessibility validate``."""
    layers = study.layers
    heldout = None if has_full_network(layers.territory) else read_heldout()
    net = study.network
    if "closed" in net.edges.columns:  # a scenario's closed passes: lengths of the roads
        net = RoadNetwork(net.nodes, net.edges.drop(columns="closed"), dict(net.meta))
    routes = compare_routes(net, load_routes())
    far = commune_coverage(study.network, layers.cells, layers.communes)
    return reliability(heldout=heldout, routes=routes, communes_far=far)


# --- figures -----------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Data text for matplotlib: a ``$`` would start math mode."""
    return text.replace("$", r"\$")


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIG_DPI, bbox_inches="tight", facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def scatter_figure(times: pd.DataFrame, labels: dict[str, str]) -> Figure:
    """Coarse against full time per category (one panel each), dot area ∝ population."""
    cats = list(dict.fromkeys(times["category"]))
    ncol = min(4, len(cats))
    nrow = -(-len(cats) // ncol)
    fig = Figure(figsize=(3.1 * ncol, 3.0 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, cat in zip(axes, cats, strict=False):
        t = times[(times["category"] == cat)].dropna(subset=["full_min", "coarse_min"])
        top = max(5.0, float(np.nanquantile(np.r_[t["full_min"], t["coarse_min"]], 0.995)))
        size = 4 + 40 * t["population"] / max(1.0, float(t["population"].max()))
        ax.scatter(t["full_min"], t["coarse_min"], s=size, alpha=0.45, color="#0072B2", lw=0)
        ax.plot([0, top], [0, top], color="#D55E00", lw=1)
        ax.set(xlim=(0, top), ylim=(0, top), title=_plain(labels.get(cat, cat)[:38]))
        ax.title.set_fontsize(9)
        ax.set_xlabel("réseau complet (min)", fontsize=8)
        ax.set_ylabel("modèle simplifié (min)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(cats):]:
        ax.set_visible(False)
    return fig


def routes_figure(routes: pd.DataFrame) -> Figure:
    """Published against model length of each routed route."""
    r = routes[routes["model_km"].notna()]
    fig = Figure(figsize=(7.5, 0.35 * len(r) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(r))
    ax.barh(y - 0.2, r["published_km"], height=0.4, color="#999999", label="longueur publiée")
    ax.barh(y + 0.2, r["model_km"], height=0.4, color="#0072B2", label="modèle")
    ax.set_yticks(y, [_plain(str(n)[:48]) for n in r["name"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("km")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08 - 0.5 / len(r)), ncol=2)
    return fig


# --- tables and page ---------------------------------------------------------------------------


def validation_tables(v: Validation) -> dict[str, pd.DataFrame]:
    """The CSV tables (English column names), by file stem."""
    tables: dict[str, pd.DataFrame] = {
        "validation_routes": v.routes,
        "validation_far_population_communes": v.communes_far,
    }
    if v.comparison is not None:
        tables["validation_coarse_full_by_band"] = v.comparison.by_band
        tables["validation_coarse_full_by_category"] = v.comparison.by_category
        tables["validation_coarse_full_cells"] = v.comparison.times
    if v.heldout is not None:
        tables["validation_calibration_heldout"] = v.heldout
    if v.national is not None:
        tables["validation_national_france_services"] = v.national
    if v.departements is not None:
        tables["validation_far_population_departements"] = v.departements
    return tables


def _records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    return [] if df is None else df.to_dict("records")


def _departements(v: Validation) -> list[dict[str, Any]]:
    """The territory's départements and France (the full list is in the CSV)."""
    if v.departements is None:
        return []
    codes = {str(c)[:2] for c in v.communes_far[C.COMMUNE_CODE]} | {"France"}
    d = v.departements
    return _records(d[d["departement"].astype(str).isin(codes)])


def _context(v: Validation, figures: dict[str, str], files: dict[str, str]) -> dict[str, Any]:
    cats = load_categories()
    comp = v.comparison
    worst = v.departements
    if worst is not None:
        worst = worst[worst["departement"] != "France"].nlargest(5, "share_beyond_2km")
    return {
        "title": f"Validation des temps de trajet — {v.territory.name}",
        "territory": v.territory.name,
        "date": date.today().strftime("%d/%m/%Y"),
        "population": v.population,
        "reliability": reliability(
            comparison=comp, heldout=v.heldout, routes=v.routes, communes_far=v.communes_far
        ),
        "has_full": comp is not None,
        "by_band": _records(comp.by_band if comp else None),
        "by_category": [
            {**r, "label": cats[r["category"]].label if r["category"] in cats else r["category"]}
            for r in _records(comp.by_category if comp else None)
        ],
        "edges": (comp.full_edges, comp.coarse_edges) if comp else None,
        "heldout": v.heldout,
        "heldout_summary": None if v.heldout is None else heldout_summary(v.heldout),
        "heldout_columns": [] if v.heldout is None else [str(c) for c in v.heldout.columns],
        "heldout_rows": [] if v.heldout is None
        else list(v.heldout.itertuples(index=False, name=None)),
        "routes": _records(v.routes),
        "national": _records(v.national),
        "national_run": v.national is not None,
        "ministry_source": MINISTRY_SOURCE,
        "departements": _departements(v),
        "worst_departements": _records(worst),
        "communes_far": _records(v.communes_far.head(20)),
        "n_communes": len(v.communes_far),
        "far_m": FAR_M,
        "coverage_network": v.coverage_network,
        "figures": figures,
        "files": files,
    }


def write_validation(
    v: Validation, *, html_dir: str | Path, csv_dir: str | Path
) -> dict[str, Path]:
    """Write ``validation.html`` into ``html_dir`` and the CSV tables into ``csv_dir``.

    Returns the paths written, by name (``"html"`` and each table's stem).
    """
    html_dir, csv_dir = Path(html_dir), Path(csv_dir)
    written: dict[str, Path] = {}
    for stem, table in validation_tables(v).items():
        path = csv_dir / f"{stem}.csv"
        atomic_write(path, lambda p, t=table: t.to_csv(p, index=False))
        written[stem] = path
    figures: dict[str, str] = {}
    if v.comparison is not None:
        labels = {k: c.label for k, c in load_categories().items()}
        figures["scatter"] = _png(scatter_figure(v.comparison.times, labels))
    if v.routes["model_km"].notna().any():
        figures["routes"] = _png(routes_figure(v.routes))
    files = {k: _relative(p, html_dir) for k, p in written.items()}
    template = template_environment(signed=_signed).get_template(TEMPLATE)
    html = template.render(**_context(v, figures, files))
    path = html_dir / "validation.html"
    atomic_write(path, lambda p: p.write_text(html, encoding="utf-8"))
    written["html"] = path
    log.info("validation report written: %s", path)
    return written


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
