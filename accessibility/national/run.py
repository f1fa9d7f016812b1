"""The partitioned national run: one Dask task per département, retried on failure.

Owns :class:`NationalSpec` (what a run computes), :func:`run_partition` (one
département's diagnostic, the task every worker runs), :func:`run_serial` (the same
partitions in this process, without Dask), :func:`submit_partitions` /
:func:`collect` / :func:`run_distributed` (the same on a Dask cluster, with retries and a
progress bar) and :func:`assemble` (the partitions' tables in département order, so a
serial and a distributed run give identical tables).

A task carries only the spec and a département code: each worker reads the national
inputs from the cache once (:func:`shared_inputs`) and keeps them for its next tasks.
A task that raises is retried (``retries``); a task whose worker dies is run again on
another worker by the scheduler; either way it computes the same result.
"""

from __future__ import annotations

import logging
import os
import resource
import secrets
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.errors import AccessibilityError
from accessibility.core.paths import Paths, default_paths
from accessibility.indicators.diagnostic import run_diagnostic
from accessibility.national.inputs import (
    DEFAULT_BUFFER_KM,
    NationalInputs,
    check_departements,
    national_inputs,
)
from accessibility.national.partition import Partition, partition_study, partitions

log = logging.getLogger(__name__)

class PartitionError(AccessibilityError):
    """A partition failed on every try (or its workers kept dying)."""


#: How many times a failed partition is run again.
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class NationalSpec:
    """What a national run computes: the départements (all for None) and the buffer."""

    paths: Paths
    departements: tuple[str, ...] | None = None
    buffer_km: float = DEFAULT_BUFFER_KM

    @classmethod
    def make(cls, paths: Paths | None = None, departements: Iterable[str] | None = None,
             buffer_km: float = DEFAULT_BUFFER_KM) -> NationalSpec:
        chosen = None if departements is None else check_departements(departements)
        return cls(paths or default_paths(), chosen, float(buffer_km))


@dataclass(frozen=True, eq=False)
class PartitionResult:
    """One département's tables and how its task went."""

    departement: str
    cells: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    indicators: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_gb: float = 0.0
    """The peak memory (max RSS) of the process that ran it, so far."""
    pid: int = 0
    """The process that ran it (a worker, or this process)."""


@dataclass(frozen=True, eq=False)
class NationalResult:
    """The assembled tables of a national run."""

    cells: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    indicators: pd.DataFrame
    departements: pd.DataFrame
    partitions: pd.DataFrame
    """Per partition: département, cells, seconds, peak memory of its worker, warnings."""
    warnings: list[str]


_INPUTS: dict[NationalSpec, NationalInputs] = {}


def shared_inputs(spec: NationalSpec) -> NationalInputs:
    """The national inputs of ``spec``, read once per process (the worker's copy)."""
    if spec not in _INPUTS:
        _INPUTS.clear()  # one run at a time: free the previous run's inputs
        _INPUTS[spec] = national_inputs(spec.paths, departements=spec.departements,
                                        buffer_km=spec.buffer_km)
    return _INPUTS[spec]


def run_partition(spec: NationalSpec, departement: str) -> PartitionResult:
    """The diagnostic of one département (the task of a national run)."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = shared_inputs(spec)
        names = inputs.departements.set_index("departement")["departement_name"]
        study = partition_study(inputs, departement, str(names.get(departement, "")))
        diag = run_diagnostic(study)
    cells = diag.cells.copy()
    communes = diag.communes.copy()
    for frame in (cells, communes):
        frame.insert(0, "departement", departement)
    messages = list(dict.fromkeys(f"{departement}: {w.message}" for w in caught))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return PartitionResult(departement, cells, communes, diag.indicators, messages,
                           time.perf_counter() - start, rss, os.getpid())


def assemble(results: Iterable[PartitionResult], inputs: NationalInputs) -> NationalResult:
    """The partitions' tables stacked in département order (whatever order they ended in)."""
    done = sorted(results, key=lambda r: r.departement)
    cells = pd.concat([r.cells for r in done], ignore_index=True)
    communes = pd.concat([r.communes for r in done], ignore_index=True)
    indicators = pd.concat([r.indicators for r in done], ignore_index=True)
    indicators = indicators.drop_duplicates("indicator").reset_index(drop=True)
    crs = inputs.communes.crs
    report = pd.DataFrame([
        {"departement": r.departement, "cells": len(r.cells), "communes": len(r.communes),
         "seconds": round(r.seconds, 2), "peak_rss_gb": round(r.peak_rss_gb, 3),
         "pid": r.pid, "warnings": len(r.warnings)}
        for r in done
    ])
    return NationalResult(
        cells=gpd.GeoDataFrame(cells, geometry="geometry", crs=crs),
        communes=gpd.GeoDataFrame(communes, geometry="geometry", crs=crs),
        indicators=indicators,
        departements=inputs.departements[inputs.departements["departement"].isin(inputs.chosen)]
        .reset_index(drop=True),
        partitions=report,
        warnings=[m for r in done for m in r.warnings],
    )


def run_serial(spec: NationalSpec, *, on_done: Callable[[PartitionResult], None] | None = None
               ) -> NationalResult:
    """Every partition in this process, one after the other (no Dask)."""
    inputs = shared_inputs(spec)
    results = []
    for part in partitions(inputs):
        results.append(run_partition(spec, part.departement))
        if on_done:
            on_done(results[-1])
    return assemble(results, inputs)


def submit_partitions(client: Any, spec: NationalSpec, parts: list[Partition], *,
                      retries: int = DEFAULT_RETRIES) -> list[Any]:
    """One Dask task per partition (largest first), each retried ``retries`` times."""
    token = secrets.token_hex(4)  # a new run gets new keys
    return [
        client.submit(run_partition, spec, p.departement, key=f"partition-{p.slug}-{token}",
                      retries=retries)
        for p in parts
    ]


def collect(futures: list[Any], *, on_done: Callable[[PartitionResult], None] | None = None
            ) -> list[PartitionResult]:
    """The partitions' results as they end (``on_done`` called for each); the first task
    that failed all its tries raises."""
    from distributed import as_completed

    results = []
    for future in as_completed(futures):
        try:
            result = future.result()
        except Exception as exc:  # the task failed all its tries: name the partition
            raise PartitionError(
                f"national run: partition {future.key} failed after its retries "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        results.append(result)
        if on_done:
            on_done(result)
    return results


def run_distributed(spec: NationalSpec, client: Any, *, retries: int = DEFAULT_RETRIES,
                    on_done: Callable[[PartitionResult], None] | None = None,
                    inputs: NationalInputs | None = None) -> NationalResult:
    """Every partition as a task of ``client``'s cluster; the tables assembled here."""
    inputs = inputs or shared_inputs(spec)  # built (and cached) once, before the workers
    futures = submit_partitions(client, spec, partitions(inputs), retries=retries)
    try:
        return assemble(collect(futures, on_done=on_done), inputs)
    finally:
        client.cancel(futures)


def population(result: NationalResult) -> float:
    """The population of the run's cells."""
    return float(result.cells[C.POP_TOTAL].sum())
