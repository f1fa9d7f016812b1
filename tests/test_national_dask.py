"""The national run on the real mirror: three small neighbouring départements (Paris,
Hauts-de-Seine, Val-de-Marne) serially and on a real Dask LocalCluster of two workers,
one of them killed mid-run; Corsica's partitions on Corsica's roads only; a border
commune's times against a run with a much larger buffer."""

from __future__ import annotations

import filecmp
import os
import signal
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from accessibility.core import columns as C
from accessibility.indicators.diagnostic import run_diagnostic
from accessibility.inputs.services import load_categories
from accessibility.national.cluster import close_client, make_client
from accessibility.national.exports import write_national
from accessibility.national.inputs import national_inputs
from accessibility.national.partition import partition_study, partitions
from accessibility.national.run import (
    NationalSpec,
    assemble,
    collect,
    run_distributed,
    run_serial,
    shared_inputs,
    submit_partitions,
)

pytestmark = pytest.mark.integration

SMALL = ("75", "92", "94")  # Paris and two neighbours: 507 populated cells


@pytest.fixture(scope="module")
def spec(paths):
    return NationalSpec.make(paths, SMALL)


@pytest.fixture(scope="module")
def serial(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_serial(spec)


@pytest.fixture(scope="module")
def client():
    c = make_client(n_workers=2)
    yield c
    close_client(c)


def _labels(paths):
    return {k: c.label for k, c in load_categories(paths.data / "services" /
                                                   "categories.toml").items()}


def _same_files(a, b):
    """Every data file byte for byte (the GeoPackage layer by layer: SQLite pages may
    differ), except partitions.csv (timings)."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        if name in ("partitions.csv",):
            continue
        if name.endswith(".gpkg"):
            for layer, _ in pyogrio.list_layers(a / name):
                pd.testing.assert_frame_equal(pyogrio.read_dataframe(a / name, layer=layer),
                                              pyogrio.read_dataframe(b / name, layer=layer))
        else:
            assert filecmp.cmp(a / name, b / name, shallow=False), name


def test_serial_run_covers_the_three_departements(serial):
    assert list(serial.partitions["departement"]) == list(SMALL)
    assert serial.cells["departement"].unique().tolist() == list(SMALL)
    # each cell in one partition only, each commune once
    assert not serial.cells[C.CELL_ID].duplicated().any()
    assert not serial.communes[C.COMMUNE_CODE].duplicated().any()
    assert len(serial.communes) == 1 + 36 + 47  # COG 2026
    fs = serial.cells["time_france_services_min"]
    assert fs.notna().all() and (fs < 30).all()  # dense Île-de-France


def test_distributed_run_equals_the_serial_run_file_for_file(spec, serial, client, paths,
                                                             tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dask = run_distributed(spec, client)
    labels = _labels(paths)
    for name, result in (("serial", serial), ("dask", dask)):
        (tmp_path / name).mkdir()
        write_national(result, tmp_path / name, labels=labels)
    _same_files(tmp_path / "serial", tmp_path / "dask")
    assert set(dask.partitions["departement"]) == set(SMALL)


def test_a_killed_worker_does_not_change_the_results(spec, serial, client):
    inputs = shared_inputs(spec)
    futures = submit_partitions(client, spec, partitions(inputs))
    deadline = time.monotonic() + 120
    busy: list[str] = []
    while not busy and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        time.sleep(0.1)
    assert busy, "no partition started within 2 minutes"
    time.sleep(1.0)  # the task is running (a partition takes seconds)
    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
    assert not all(f.done() for f in futures)  # killed mid-run
    os.kill(pid, signal.SIGKILL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = assemble(collect(futures), inputs)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # that worker process is gone
    for a, b in ((result.cells, serial.cells), (result.communes, serial.communes)):
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))


@pytest.fixture(scope="module")
def corsica(paths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return national_inputs(paths, departements=["2A", "2B"])


def test_corsica_is_routed_on_its_own_roads_and_services(corsica):
    land = corsica.islands["corsica"].buffer(5_000)
    for dep in ("2A", "2B"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = partition_study(corsica, dep)
        nodes = gpd.GeoSeries(study.network.nodes.geometry, crs=study.network.crs)
        assert nodes.within(land).all(), dep  # no mainland road
        assert study.layers.services.geometry.within(land).all(), dep  # no mainland service
        assert len(study.layers.services) > 100
        # Corsica in Lambert-93: x 1.17-1.24e6, y 6.04-6.24e6 m; the mainland coast
        # (Nice) is at y 6.30e6
        assert nodes.y.max() < 6_250_000 and nodes.x.min() > 1_150_000


def _border_communes(inputs, dep: str, other: str) -> list[str]:
    c = inputs.communes
    mine, theirs = c[c["departement"] == dep], c[c["departement"] == other]
    touching = gpd.sjoin(mine, theirs[["geometry"]], predicate="intersects")
    return sorted(set(touching[C.COMMUNE_CODE]))


def _border_times(paths, deps: list[str], dep: str, buffer_km: float,
                  codes: list[str]) -> pd.DataFrame:
    """The times of the cells of communes ``codes`` in the partition of ``dep``."""
    from dataclasses import replace

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = national_inputs(paths, departements=deps, buffer_km=buffer_km)
        study = partition_study(inputs, dep)
        cells = study.layers.cells[study.layers.cells[C.COMMUNE_CODE].isin(codes)]
        communes = study.layers.communes[study.layers.communes[C.COMMUNE_CODE].isin(codes)]
        layers = replace(study.layers, cells=cells.reset_index(drop=True),
                         communes=communes.reset_index(drop=True))
        diag = run_diagnostic(replace(study, layers=layers))
    cols = [c for c in diag.cells.columns if c.startswith(("time_", "gamme_"))]
    return diag.cells.set_index(C.CELL_ID)[cols].sort_index()


@pytest.mark.parametrize("deps,dep,others,wide_km", [
    (["2A", "2B"], "2A", ["2B"], 150.0),  # Corse-du-Sud along Haute-Corse
    (list(SMALL), "92", ["78", "95"], 90.0),  # Hauts-de-Seine along Yvelines, Val-d'Oise
])
def test_a_border_commune_gets_the_same_times_as_with_a_large_buffer(
        paths, deps, dep, others, wide_km):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        france = national_inputs(paths, departements=deps)
    codes = sorted({c for o in others for c in _border_communes(france, dep, o)})
    assert len(codes) >= 5
    partition = _border_times(paths, deps, dep, 30.0, codes)  # the run's buffer
    wide = _border_times(paths, deps, dep, wide_km, codes)
    assert len(partition) >= 20
    assert list(partition.columns) == list(wide.columns)
    np.testing.assert_allclose(partition.to_numpy(float), wide.to_numpy(float), rtol=0,
                               atol=1e-9)


def test_partitions_are_submitted_with_retries_and_a_failure_names_its_task(spec, client):
    from accessibility.national.run import PartitionError

    futures = submit_partitions(client, spec, partitions(shared_inputs(spec))[:1], retries=2)
    key = futures[0].key
    retries = None
    for _ in range(100):  # the graph reaches the scheduler asynchronously
        retries = client.run_on_scheduler(
            lambda dask_scheduler: getattr(dask_scheduler.tasks.get(key), "retries", None))
        if retries is not None:
            break
        time.sleep(0.05)
    client.cancel(futures)
    assert retries == 2
    tries = client.submit(lambda: 1 / 0, retries=1, key="partition-boom")
    with pytest.raises(PartitionError, match="partition-boom failed after its retries "
                       r"\(ZeroDivisionError"):
        collect([tries])
