"""Pipeline: a study (a territory's layers and road network) and the main job.

Owns: :func:`open_study` (which builds the :class:`~accessibility.engine.study.Study`,
re-exported here) and :func:`run_job` (diagnostic, scenarios, exports, atlas and report
with its « Pistes d'implantation » in one call). Orchestrates every layer below it; only the
command line sits above.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely

from accessibility.core.outputs import check_name, check_targets, run_dirs, staged_folders
from accessibility.core.paths import Paths, default_paths
from accessibility.engine.access_model import snap_options_for
from accessibility.engine.study import Study  # re-exported: accessibility.pipeline.Study
from accessibility.inputs.layers import prepare_layers
from accessibility.network.load import territory_network

if TYPE_CHECKING:
    from accessibility.indicators.diagnostic import Diagnostic

log = logging.getLogger(__name__)


def open_study(
    territory: str = "maurienne", *, paths: Paths | None = None, grid: str = "census1km"
) -> Study:
    """Prepare the layers and build (or load) the road network of ``territory``."""
    paths = paths or default_paths()
    layers = prepare_layers(territory, paths=paths, grid=grid)
    net = territory_network(layers.territory, layers.communes, paths=paths)
    log.info("road network: %d nodes, %d edges", net.n_nodes, net.n_edges)
    study = Study(layers=layers, network=net, paths=paths, snap=snap_options_for(net))
    return _with_access_attributes(study)


def _with_access_attributes(study: Study) -> Study:
    """Give the study's cells and services what its access model reads (the density
    of their 1 km census cell), from the census cells around the services' extent."""
    from dataclasses import replace

    from accessibility.inputs.layers import load_census_points

    if not _reads_density(study):
        return study
    services = study.layers.services
    extent = services.total_bounds if len(services) else study.layers.cells.total_bounds
    area = gpd.GeoSeries([shapely.box(*extent).buffer(5000)], crs=services.crs)
    grid = load_census_points(study.layers.territory, area, study.paths)
    study = replace(study, density_grid=grid)
    cells = study.access_points(study.layers.cells)
    layers = replace(study.layers, cells=cells, services=study.access_points(services))
    return replace(study, layers=layers)


def _reads_density(study: Study) -> bool:
    from accessibility.engine.access import model_columns
    from accessibility.engine.access_model import DENSITY_COLUMN

    return DENSITY_COLUMN in model_columns(study.snap.access_model)


@dataclass(frozen=True, eq=False)
class RunResult:
    """What :func:`run_job` produced."""

    study: Study
    diagnostic: Diagnostic
    exports: dict[str, Path]
    maps: dict[str, Path]
    report: Path | None
    comparison: Any = None
    seasonal: Any = None


def _seasonal(study: Study, scenario: Any) -> tuple[Study, Any]:
    """Replace the cells' population by the scenario's peak (residents + visitors)."""
    from dataclasses import replace

    from accessibility.inputs.seasonal import seasonal_population

    if not scenario.population:
        return study, None
    season = seasonal_population(
        study.layers.cells, study.layers.communes, scenario.population, paths=study.paths
    )
    layers = replace(study.layers, cells=season.cells)
    return replace(study, layers=layers), season


def scenario_of(study: Study, name: str) -> tuple[Study, Any]:
    """The study under scenario ``name`` (network, services and peak population edits)."""
    from dataclasses import replace

    from accessibility.planning.scenarios import load_scenario, scenario_study

    scenario = load_scenario(name)
    check_name(scenario.name, what=f"scenario name (from {name})")
    edited = scenario_study(study, scenario)
    edited, season = _seasonal(edited, scenario)
    terr = edited.layers.territory
    label = scenario.season or scenario.name
    named = replace(terr, name=f"{terr.name} ({label})", slug=f"{terr.slug}-{scenario.name}")
    edited = replace(edited, layers=replace(edited.layers, territory=named))
    return edited, season


def run_job(
    territory: str = "maurienne",
    *,
    paths: Paths | None = None,
    grid: str = "census1km",
    scenario: str | None = None,
    compare: str | None = None,
    out_dir: Path | None = None,
    maps_dir: Path | None = None,
    atlas: bool = True,
    report: bool = True,
    progress: Any = None,
) -> RunResult:
    """The main job: indicators, exports, atlas and report of a territory.

    Parameters
    ----------
    scenario
        A scenario name (``data/scenarios/<name>.toml``) or file: road closures, speeds,
        service edits and the seasonal peak population.
    compare
        Another scenario (e.g. ``"summer"``) to compare with: the comparison table
        (per commune and EPCI) is exported, mapped and reported.
    out_dir, maps_dir
        Where the data exports and the atlas + report go (default ``output/<slug>`` and
        ``maps/<slug>``, the slug carrying the scenario name).
    progress
        A callable ``progress(message)`` told about each long step.
    """
    from accessibility.indicators.diagnostic import run_diagnostic

    say = progress or (lambda message: log.info("%s", message))
    for name in (scenario, compare):  # names become folder and file names
        if name:
            check_name(Path(name).stem if str(name).endswith(".toml") else name,
                       what="scenario name")
    # refuse a folder that is not ours before the work
    check_targets(Path(f) for f in (out_dir, maps_dir) if f is not None)
    say("layers and road network")
    base = open_study(territory, paths=paths, grid=grid)
    study, season = base, None
    if scenario:
        say(f"scenario {scenario}")
        study, season = scenario_of(base, scenario)
    say("indicators")
    diag = run_diagnostic(study)
    comparison = cells_compare = None
    scenario_results: list[Any] = []
    if compare:
        say(f"indicators of the comparison scenario {compare}")
        comparison, cells_compare, result = _compare(base, diag, compare, scenario or "base")
        scenario_results.append(result)
    default_out, default_maps = run_dirs(study.layers.territory.slug)
    targets = {"exports": Path(out_dir or default_out)}
    if atlas or report:
        targets["maps"] = Path(maps_dir or default_maps)
    with staged_folders(targets, command="run") as stage:
        say("exports")
        exports = _write_run_exports(stage["exports"], study, diag, season, comparison,
                                     (compare, scenario or "base"))
        maps: dict[str, Path] = {}
        rapport = None
        if atlas:
            from accessibility.outputs.maps import build_atlas

            say("atlas (interactive maps)")
            maps = build_atlas(study, diag, stage["maps"], comparison_cells=cells_compare)
        if report:
            from accessibility.outputs.report import build_report
            from accessibility.planning.pistes import siting_options

            say("report")
            pistes = siting_options(study, diag, scenario=scenario and Path(scenario).stem)
            rapport = build_report(study, diag, stage["maps"], scenarios=scenario_results,
                                   pistes=pistes)
    exports = {k: stage.final(v) for k, v in exports.items()}
    maps = {k: stage.final(v) for k, v in maps.items()}
    rapport = stage.final(rapport) if rapport is not None else None
    return RunResult(study, diag, exports, maps, rapport, comparison, season)


def _compare(base: Study, diag: Any, compare: str, label: str) -> tuple[Any, Any, Any]:
    """The comparison with scenario ``compare``: table, cells before/after, report part."""
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.planning.scenarios import compare as compare_diagnostics

    other, _ = scenario_of(base, compare)
    other_diag = run_diagnostic(other)
    comparison = compare_diagnostics(other_diag, diag, labels=(compare, label))
    return (comparison, _cells_before_after(other_diag, diag),
            _comparison_result(comparison, compare, label))


def _write_run_exports(
    folder: Path, study: Study, diag: Any, season: Any, comparison: Any, names: tuple[str, str]
) -> dict[str, Path]:
    """The exports of a run (diagnostic, seasonal population, comparison) in ``folder``."""
    from accessibility.core.files import write_table
    from accessibility.outputs.exports import write_exports

    exports = write_exports(study, diag, folder)
    if season is not None:
        exports["seasonal_population"] = write_table(
            season.communes, folder / "seasonal_population.csv"
        )
    if comparison is not None:
        exports["comparison"] = write_table(
            comparison, folder / f"comparison_{names[0]}_{names[1]}.csv"
        )
    return exports


def run_steps(
    scenario: str | None = None,
    compare: str | None = None,
    *,
    atlas: bool = True,
    report: bool = True,
) -> int:
    """How many times :func:`run_job` calls ``progress`` with these options."""
    return 3 + bool(scenario) + bool(compare) + bool(atlas) + bool(report)


def _cells_before_after(before: Any, after: Any) -> Any:
    """Cells with ``time_before_min`` / ``time_after_min`` to France Services and
    emergency care, for the comparison map."""
    import geopandas as gpd

    keep = ["cell_id", "pop_total", "geometry"]
    out = {}
    for key in ("france_services", "emergency", "hospital"):
        col = f"time_{key}_min"
        if col in before.cells.columns and col in after.cells.columns:
            t = before.cells[keep].copy()
            t["time_before_min"] = before.cells[col].to_numpy()
            t["time_after_min"] = (
                after.cells.set_index("cell_id")[col].reindex(t["cell_id"]).to_numpy()
            )
            out[key] = gpd.GeoDataFrame(t, geometry="geometry", crs=before.cells.crs)
    return out


def _comparison_result(comparison: Any, a: str, b: str) -> Any:
    """The report's section for a scenario comparison (EPCI rows, main categories)."""
    from accessibility.core import fr as _fr
    from accessibility.planning.results import ScenarioResult

    epci = comparison[comparison["level"] == "epci"]
    main = ["time_france_services_min", "time_emergency_min", "time_general_practitioner_min"]
    rows = epci[epci["indicator"].isin(main)]
    table = rows[["name", "indicator", f"{a}_min", f"{b}_min", "change_min"]].copy()
    labels = {
        "time_france_services_min": "France Services",
        "time_emergency_min": "Urgences",
        "time_general_practitioner_min": "Médecin généraliste",
    }
    table["indicator"] = table["indicator"].map(labels)
    table.columns = ["EPCI", "Service", f"Temps {a} (min)", f"Temps {b} (min)", "Écart (min)"]
    communes = comparison[(comparison["level"] == "commune") & (comparison["indicator"] == main[1])]
    worst = communes.sort_values("change_min", ascending=False).head(1)
    summary = f"Comparaison {a} / {b} : temps d'accès moyens par EPCI."
    if len(worst) and worst["change_min"].iloc[0] > 0:
        w = worst.iloc[0]
        summary = (
            f"Scénario {b} comparé à {a} : l'accès aux urgences s'allonge le plus à "
            f"{w['name']} (+{_fr.minutes(w['change_min'])})."
        )
    return ScenarioResult(
        title=f"Saisons : {a} / {b}",
        summary_fr=summary,
        table=table[["Service", "EPCI", f"Temps {a} (min)", f"Temps {b} (min)", "Écart (min)"]],
        source=(
            "Scénarios data/scenarios/*.toml (fermetures de cols, vitesses, population de pointe)."
        ),
    )
