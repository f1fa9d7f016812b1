"""The build-once caches: prepared layers, town halls and road networks.

Reuse and rebuild are asserted by the build counter (:data:`accessibility.core.cache.BUILDS`),
never by timing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from accessibility.core import cache
from accessibility.core.cache import BUILDS, GEOPARQUET, cached, code_hash, make_key
from accessibility.core.errors import CacheWarning, DataWarning
from accessibility.core.paths import Paths, default_paths
from accessibility.inputs import layers as L
from accessibility.inputs.territory import load_territory
from accessibility.network.build import NETWORK_MODULES, largest_component
from accessibility.network.load import territory_network
from accessibility.network.osm import read_osm

REPO = Path(__file__).resolve().parents[1]
TINY_OSM = Path(__file__).parent / "fixtures" / "net_tiny.osm"
POLYGONS = "communes/communes-73-savoie.geojson"


def _frame(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(range(n))}, geometry=shapely.points(range(n), range(n)), crs="EPSG:2154"
    )


# --- the generic cache -------------------------------------------------------------------
def test_builds_once_rebuilds_on_a_changed_part(tmp_path):
    calls = []

    def build(n=3):
        calls.append(n)
        return _frame(n)

    first = cached(tmp_path, "t-unit", {"n": 3}, build, GEOPARQUET)
    again = cached(tmp_path, "t-unit", {"n": 3}, build, GEOPARQUET)
    assert calls == [3]
    pd.testing.assert_frame_equal(pd.DataFrame(again), pd.DataFrame(first))
    cached(tmp_path, "t-unit", {"n": 4}, lambda: build(4), GEOPARQUET)
    assert calls == [3, 4]
    # the older entry of the same name is gone, and no temporary folder is left
    assert [p.name for p in tmp_path.iterdir()] == [f"t-unit-{make_key({'n': 4})}"]


def test_a_truncated_entry_is_rebuilt_with_a_warning(tmp_path):
    cached(tmp_path, "t-trunc", {"n": 5}, lambda: _frame(5), GEOPARQUET)
    (entry,) = tmp_path.iterdir()
    data = (entry / "layer.parquet").read_bytes()
    (entry / "layer.parquet").write_bytes(data[: len(data) // 2])
    before = BUILDS["t-trunc"]
    with pytest.warns(CacheWarning, match=r"t-trunc-\w+ cannot be read .*rebuilding it"):
        value = cached(tmp_path, "t-trunc", {"n": 5}, lambda: _frame(5), GEOPARQUET)
    assert BUILDS["t-trunc"] == before + 1
    assert list(value["id"]) == [0, 1, 2, 3, 4]
    # and the rebuilt entry is sound again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached(tmp_path, "t-trunc", {"n": 5}, lambda: _frame(5), GEOPARQUET)
    assert BUILDS["t-trunc"] == before + 1


def test_warnings_of_a_build_are_raised_again_when_loaded(tmp_path):
    def build():
        warnings.warn("3 town halls outside their commune: 73001, 73002", DataWarning, stacklevel=1)
        return _frame(1)

    with pytest.warns(DataWarning, match="73001, 73002"):
        cached(tmp_path, "t-warn", {}, build, GEOPARQUET)
    with pytest.warns(DataWarning, match="73001, 73002") as record:
        cached(tmp_path, "t-warn", {}, build, GEOPARQUET)
    assert BUILDS["t-warn"] == 1
    assert len([w for w in record if issubclass(w.category, DataWarning)]) == 1


def test_code_hash_follows_the_source_of_a_package(tmp_path, monkeypatch):
    pkg = tmp_path / "fakereader"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "passes.py").write_text("PASSES = ('Col de l Iseran',)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    h1 = code_hash(["fakereader"])
    (pkg / "passes.py").write_text("PASSES = ('Col de l Iseran', 'Col du Galibier')\n")
    assert code_hash(["fakereader"]) != h1
    sys.modules.pop("fakereader", None)
    # the network key covers every module of the network package (MOUNTAIN_PASSES lives
    # in travelmapping.py, the speed rules in speeds.py)
    assert "accessibility.network" in NETWORK_MODULES


# --- largest component: the record survives a second pass --------------------------------
def test_largest_component_twice_keeps_what_the_first_removed():
    net = read_osm(TINY_OSM)
    with pytest.warns(Warning, match="removed 5 of 11 nodes"):
        once = largest_component(net)
    twice = largest_component(once)  # what territory_network does after a reader
    assert twice.meta["removed"]["n_nodes"] == 5
    assert twice.meta["removed"]["n_edges"] == 9
    assert twice.n_nodes == 6


def test_maurienne_network_records_its_removed_parts(maurienne_study):
    # Travel Mapping reader, then territory_network: 61 nodes were cut off (the build
    # log says "removed 61 of 3426 nodes"); the cached meta must not say 0
    removed = maurienne_study.network.meta["removed"]
    assert removed["n_nodes"] == 61 and removed["n_edges"] == 100
    assert maurienne_study.network.n_nodes == 3426 - 61


# --- the network cache follows its parameter files ----------------------------------------
def _tiny_territory(tmp_path: Path, network: str) -> Path:
    file = tmp_path / "tiny.toml"
    file.write_text(
        'slug = "tiny"\nname = "Tiny"\nbuffer_km = 1\n[communes]\ninsee = ["73157"]\n'
        f"[sources]\ncommune_polygons = [{POLYGONS!r}]\n"
        'census_grid = "population/census2021_1km"\n'
        f"[sources.network]\n{network}\n",
        encoding="utf-8",
    )
    return file


def test_network_rebuilds_when_the_speed_table_changes(tmp_path):
    # a territory's own network file sits beside it (absolute paths only on the CLI)
    shutil.copy(TINY_OSM, tmp_path / "net_tiny.osm")
    data = tmp_path / "data"
    shutil.copytree(REPO / "data" / "network", data / "network")
    shutil.copy(REPO / "data" / "sources.toml", data / "sources.toml")
    paths = Paths(data=data, cache=tmp_path / "cache", mirror=None)
    terr = load_territory(
        str(_tiny_territory(tmp_path, 'reader = "osm"\nsource = "net_tiny.osm"')), paths
    )
    area = gpd.GeoDataFrame(geometry=[shapely.box(5.99, 44.99, 6.01, 45.01)], crs=4326)
    communes = area.to_crs(2154)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixture's cut-off parts
        first = territory_network(terr, communes, paths=paths)
        n = BUILDS["network-tiny"]
        again = territory_network(terr, communes, paths=paths)
        assert BUILDS["network-tiny"] == n  # unchanged: reused
        # built or reused, a network says where it is stored
        assert first.meta["cache"] == again.meta["cache"]
        assert Path(first.meta["cache"]).is_dir()
        speeds = data / "network" / "speeds.toml"
        text = speeds.read_text(encoding="utf-8")
        new, count = re.subn(r"(?m)^(residential = \{ kph = )\d+", r"\g<1>7", text)
        assert count, "residential speed not found in speeds.toml"
        speeds.write_text(new, encoding="utf-8")
        second = territory_network(terr, communes, paths=paths)
    assert BUILDS["network-tiny"] == n + 1
    resid = second.edges["road_class"] == "residential"
    assert resid.any() and (second.edges.loc[resid, "speed_kph"] == 7).all()
    assert (first.edges.loc[first.edges["road_class"] == "residential", "speed_kph"] != 7).all()


# --- prepared layers on a tmp mirror and catalogue ----------------------------------------
@pytest.fixture(scope="module")
def tiny_env(tmp_path_factory, paths):
    """A copy of the project data (catalogue, one-category services file) and a mirror
    whose commune polygons can be edited; the rest links to the real mirror."""
    root = tmp_path_factory.mktemp("layers")
    data = root / "data"
    (data / "services").mkdir(parents=True)
    shutil.copy(REPO / "data" / "sources.toml", data / "sources.toml")
    lines = (REPO / "data" / "services" / "categories.toml").read_text("utf-8").splitlines()
    start = lines.index("[category.france_services]")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    head = next(i for i, line in enumerate(lines) if line.startswith("[category."))
    (data / "services" / "categories.toml").write_text(
        "\n".join(lines[:head] + lines[start:end]) + "\n", encoding="utf-8"
    )
    mirror = root / "mirror"
    mirror.mkdir()
    for item in paths.mirror.iterdir():
        (mirror / item.name).symlink_to(item)
    (mirror / "communes").unlink()
    (mirror / "communes").mkdir()
    for item in (paths.mirror / "communes").iterdir():
        (mirror / "communes" / item.name).symlink_to(item)
    (mirror / POLYGONS).unlink()
    shutil.copy(paths.mirror / POLYGONS, mirror / POLYGONS)
    env = Paths(data=data, cache=root / "cache", mirror=mirror)
    terr = load_territory(str(_tiny_territory(root, 'reader = "osm"\nsource = "x.pbf"')), env)
    return env, terr


def _edit_source(env: Paths, name: str) -> None:
    """Change a mirrored file's bytes (still valid) and catalogue its new sha256."""
    file = env.mirror / name
    old = hashlib.sha256(file.read_bytes()).hexdigest()
    file.write_bytes(file.read_bytes() + b"\n")
    new = hashlib.sha256(file.read_bytes()).hexdigest()
    catalogue = env.data / "sources.toml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace(old, new), "utf-8")


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore::accessibility.core.errors.DataWarning")
def test_layers_are_built_once_and_rebuilt_on_any_changed_input(tiny_env, monkeypatch):
    env, terr = tiny_env
    name = "tiny-communes"

    def prepare():
        return L.prepare_layers(terr, paths=env)

    first = prepare()
    n_communes, n_cells, n_services = (
        BUILDS[name], BUILDS["tiny-cells-census1km"], BUILDS["tiny-services"]
    )
    assert list(first.communes["commune_code"]) == ["73157"]
    assert set(first.services["category"]) == {"france_services"}

    # unchanged inputs: everything reused, and equal to a build from the sources
    again = prepare()
    assert (BUILDS[name], BUILDS["tiny-cells-census1km"], BUILDS["tiny-services"]) == (
        n_communes, n_cells, n_services
    )
    fresh = L.prepare_layers(terr, paths=env, use_cache=False)
    for layer in ("communes", "cells", "services"):
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(again, layer)), pd.DataFrame(getattr(fresh, layer))
        )

    # an edited parameter file (the categories) rebuilds the services only
    cats = env.data / "services" / "categories.toml"
    cats.write_text(cats.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    prepare()
    assert BUILDS["tiny-services"] == n_services + 1
    assert BUILDS[name] == n_communes

    # an edited source file rebuilds the communes and what is built on them
    _edit_source(env, POLYGONS)
    prepare()
    assert BUILDS[name] == n_communes + 1
    assert BUILDS["tiny-cells-census1km"] == n_cells + 1
    assert BUILDS["tiny-services"] == n_services + 2

    # a new reader version rebuilds that layer
    monkeypatch.setattr(L, "BUILD_VERSION", {**L.BUILD_VERSION, "communes": 99})
    prepare()
    assert BUILDS[name] == n_communes + 2

    # a truncated layer file is rebuilt with a warning, not a traceback
    (entry,) = env.prepared.glob(f"{name}-*")
    (entry / "layer.parquet").write_bytes(b"PAR1 truncated")
    with pytest.warns(CacheWarning, match="cannot be read"):
        again = prepare()
    assert BUILDS[name] == n_communes + 3
    assert list(again.communes["commune_code"]) == ["73157"]


@pytest.mark.integration
def test_route_reads_neither_cells_nor_services(tiny_env, monkeypatch):
    env, terr = tiny_env

    def fail(*args, **kwargs):
        raise AssertionError("route must not build or load this layer")

    monkeypatch.setattr(L, "load_cells", fail)
    monkeypatch.setattr(L, "load_services", fail)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lay = L.prepare_layers(terr, paths=env, with_cells=False, with_services=False)
    assert len(lay.communes) == 1 and lay.cells.empty and lay.services.empty



@pytest.mark.integration
@pytest.mark.filterwarnings("ignore::accessibility.core.errors.AccessibilityWarning")
def test_data_prepare_fills_the_cache_every_command_reads(paths):
    from click.testing import CliRunner

    from accessibility.cli import main

    result = CliRunner().invoke(main, ["-q", "data", "prepare"])
    assert result.exit_code == 0, result.output
    assert "communes: 53 in 5 EPCI" in result.stdout
    assert "road network: 3,365 nodes, 8,172 edges" in result.stdout
    for layer in ("communes", "cells-census1km", "services"):
        assert len(list(paths.prepared.glob(f"maurienne-{layer}-*/layer.parquet"))) == 1
    assert len(list((paths.cache / "networks").glob("network-maurienne-*/edges.parquet"))) == 1
    # what a command then reads is what prepare stored: nothing is built again
    before = dict(BUILDS)
    L.prepare_layers("maurienne", paths=paths)
    assert dict(BUILDS) == before


def test_an_unstorable_value_warns_and_goes_on(tmp_path):
    def bad_save(value, folder):
        raise TypeError("cannot convert column 'x'")

    store = cache.Store(save=bad_save, load=lambda folder, meta: None)
    with pytest.warns(CacheWarning, match="cannot be written"):
        assert cached(tmp_path, "t-bad", {}, lambda: 42, store) == 42
    assert list(tmp_path.iterdir()) == []  # no half entry, no temporary folder


@pytest.mark.integration
def test_census_points_around_services_are_cached(tiny_env):
    from accessibility.inputs.population import census_points_in_area

    env, terr = tiny_env
    area = gpd.GeoSeries([shapely.box(990_000, 6_450_000, 1_000_000, 6_460_000)], crs=2154)
    first = L.load_census_points(terr, area, env)
    n = BUILDS["tiny-cells-points"]
    again = L.load_census_points(terr, area, env)
    assert BUILDS["tiny-cells-points"] == n
    pd.testing.assert_frame_equal(pd.DataFrame(again), pd.DataFrame(first))
    fresh = census_points_in_area(area, paths=env)
    pd.testing.assert_frame_equal(pd.DataFrame(again), pd.DataFrame(fresh))
    assert len(fresh) > 0 and fresh["pop_total"].sum() > 0
    # another area is another entry
    L.load_census_points(terr, area.translate(10_000, 0), env)
    assert BUILDS["tiny-cells-points"] == n + 1


@pytest.mark.integration
def test_bpe_counts_are_read_once_then_reused(tmp_path):
    from accessibility.indicators.gammes import bpe_counts

    base = default_paths()
    paths = Paths(data=base.data, cache=tmp_path / "cache", mirror=base.mirror)
    first = bpe_counts(paths)
    n = BUILDS["bpe2013-counts"]
    again = bpe_counts(paths)
    assert BUILDS["bpe2013-counts"] == n  # reused, not rebuilt
    pd.testing.assert_frame_equal(first, again)
    assert first.loc["73011"].sum() > 0  # Aiton holds equipment
