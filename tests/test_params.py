"""The parameter loader (accessibility.core.params): one schema-checked reader for every
TOML file, each error naming the file, the key path and what was expected."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import tomllib
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessibility.core import params
from accessibility.core.errors import (
    AccessibilityError,
    DataError,
    NetworkError,
    ParameterError,
    ScenarioError,
    TerritoryError,
)
from accessibility.core.paths import project_data_dir
from accessibility.indicators.catchment import load_catchment_parameters
from accessibility.indicators.diagnostic import load_parameters
from accessibility.indicators.gammes import load_gamme_composition
from accessibility.indicators.priority import load_criteria
from accessibility.inputs.categories import load_categories
from accessibility.inputs.sources import load_catalogue
from accessibility.inputs.territory import load_territory
from accessibility.network.speeds import load_speed_table
from accessibility.network.travelmapping import load_sinuosity
from accessibility.planning.scenario_file import load_scenario, parse_scenario

DATA = project_data_dir()
TERRITORY = 'slug = "x"\nname = "X"\n[communes]\ninsee = ["73248"]\n'


def _write(tmp_path: Path, body: str, name: str = "t.toml") -> Path:
    f = tmp_path / name
    f.write_text(body, encoding="utf-8")
    return f


# --- messages: file, key path, expectation -------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("closure", 2, "factor"), "[[closure]] #3 .factor"),
        (("category", "fs", "label"), "[category.fs].label"),
        (("communes", "insee", 0), "[communes].insee[0]"),
        (("speed", 0, "section", "from"), "[[speed]] #1 .section.from"),
        (("slug",), "slug"),
    ],
)
def test_key_paths_read_as_toml(loc, expected):
    assert params.key_path(loc) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # unknown key, with the close known one
        (TERRITORY.replace('name = "X"', 'name = "X"\nbufer_km = 3'),
         "t.toml: bufer_km: unknown key; did you mean 'buffer_km'?"),
        # keys named like Python types are keys like any other
        (TERRITORY.replace('name = "X"', 'name = "X"\nstr = 3'), "t.toml: str: unknown key"),
        (TERRITORY + "list = []\n", "t.toml: [communes].list: unknown key"),
        # wrong type: the value found is quoted
        (TERRITORY.replace('["73248"]', "[73248]"),
         "t.toml: [communes].insee[0]: expected a valid string (got 73248)"),
        (TERRITORY + "expected_count = true\n",
         "t.toml: [communes].expected_count: expected a valid integer (got True)"),
        # out of bounds
        (TERRITORY.replace('name = "X"', 'name = "X"\nbuffer_km = 500'),
         "t.toml: buffer_km: expected less than or equal to 200 (got 500)"),
        (TERRITORY.replace('name = "X"', 'name = "X"\nbuffer_km = nan'),
         "t.toml: buffer_km: expected a finite number (got nan)"),
        # slugs become folder names
        (TERRITORY.replace('slug = "x"', 'slug = "../../x"'),
         "t.toml: slug: expected to match pattern '^[a-z0-9][a-z0-9-]*$' (got '../../x')"),
        (TERRITORY.replace('slug = "x"', 'slug = "Maurienne Nord"'), "slug: expected to match"),
        # CRS: pyproj's error becomes the project's
        (TERRITORY.replace('name = "X"', 'name = "X"\ncrs = "EPSG:99999"'),
         "t.toml: crs: expected a coordinate reference system pyproj knows"),
        (TERRITORY.replace('name = "X"', 'name = "X"\ncrs = "EPSG:4326"'),
         "t.toml: crs: expected a projected CRS in metres"),
        # a network file outside the territory's folder only from the command line
        (TERRITORY + '[sources.network]\nreader = "osm"\nsource = "/etc/passwd"\n',
         "t.toml: [sources.network].source: expected a catalogued source"),
        (TERRITORY + '[sources.network]\nreader = "osm"\nsource = "../x.osm.pbf"\n',
         "[sources.network].source: expected a catalogued source"),
        (TERRITORY + '[sources.network]\nreader = "osrm"\nsource = "a.pbf"\n',
         "[sources.network].reader: expected 'travelmapping', 'osm' or 'lines' (got 'osrm')"),
        ('slug = "x"\nname = "X"\n', "t.toml: communes: required key is missing"),
        ('slug = "x"\nname = \n', "t.toml: not valid TOML"),
    ],
)
def test_territory_errors_name_file_key_and_expectation(tmp_path, body, message):
    f = _write(tmp_path, body)
    with pytest.raises(TerritoryError) as err:
        load_territory(str(f))
    text = str(err.value)
    assert message in text
    assert str(f) in text and "\n" not in text


def _winter_with(edit: str) -> str:
    return (DATA / "scenarios" / "winter.toml").read_text(encoding="utf-8") + edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ('[[speed]]\nmountain = true\nfactor = 1000\n',
         "w.toml: [[speed]] #3 .factor: expected less than or equal to 2 (got 1000)"),
        ('[[speed]]\nmountain = true\nfactor = 0.01\n',
         "[[speed]] #3 .factor: expected greater than or equal to 0.05 (got 0.01)"),
        ('[[speed]]\nmountain = true\nfacor = 0.9\n',
         "[[speed]] #3 .facor: unknown key; did you mean 'factor'?"),
        ('[[service]]\naction = "add"\nservice_id = "t"\ncategory = "teleportation"\n'
         "lon = 6.5\nlat = 45.2\n",
         "[[service]] #1 .category: expected a known category"),
        ('[[service]]\naction = "add"\nservice_id = "t"\ncategory = "general_practitionr"\n'
         "lon = 6.5\nlat = 45.2\n",
         "did you mean 'general_practitioner'?"),
        ('[[service]]\naction = "add"\nservice_id = "t"\ncategory = "pharmacy"\n'
         "lon = 45.2\nlat = 6.5\n",
         "[[service]] #1: an added service must lie in France"),
        ('[[closure]]\nref = "D902"\nfrom = "BonArc"\n', "[[closure]] #7 .to: required key"),
        ('[[link]]\nfrom = [6.5, 45.2]\nto = [6.6]\nroad_class = "departementale"\n',
         "[[link]] #1 .to: expected a [lon, lat] pair"),
    ],
)
def test_scenario_bounds_and_known_categories(tmp_path, edit, message):
    f = _write(tmp_path, _winter_with(edit), "w.toml")
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert message in str(err.value)
    assert str(f) in str(err.value)


def test_scenario_names_are_slugs(tmp_path):
    body = _winter_with("").replace('name = "winter"', 'name = "../winter"')
    with pytest.raises(ScenarioError, match=r"name: expected to match pattern"):
        load_scenario(_write(tmp_path, body, "w.toml"))
    # without a name, the file's stem must be one
    body = _winter_with("").replace('name = "winter"\n', "")
    with pytest.raises(ScenarioError, match=r"becomes a folder name; got 'My Winter'"):
        load_scenario(_write(tmp_path, body, "My Winter.toml"))
    assert load_scenario(_write(tmp_path, body, "hiver-2026.toml")).name == "hiver-2026"


@pytest.mark.parametrize(
    ("loader", "name", "body", "error", "message"),
    [
        (load_criteria, "p.toml",
         '[[criterion]]\nkey = "a"\ncolumn = "c"\nweight = 1\nabove = 3\nreason_fr = "{nope}"\n',
         DataError, "[[criterion]] #1: reason_fr may use only {value} and {threshold}"),
        (load_criteria, "p.toml",
         '[[criterion]]\nkey = "a"\ncolumn = "c"\nweight = 1\nabove = 3\nreason_fr = "r"\n'
         '[[criterion]]\nkey = "a"\ncolumn = "d"\nweight = 1\nabove = 3\nreason_fr = "r"\n',
         DataError, "duplicate criterion key(s): a"),
        (load_speed_table, "s.toml", '[classes]\nprimary = { kph = 900, source = "x" }\n',
         NetworkError, "[classes.primary].kph: expected less than or equal to 200 (got 900)"),
        (load_speed_table, "s.toml",
         '[classes]\nprimary = { kph = 50, source = "x" }\n[class_maps.m]\na = "nope"\n',
         NetworkError, "maps to unknown class(es) a -> nope"),
        (load_sinuosity, "n.toml", "[factors]\nnationale = 0.9\n",
         NetworkError, "[factors].nationale: expected greater than or equal to 1 (got 0.9)"),
        (load_catchment_parameters, "c.toml", "[two_step_fca]\nthreshold_min = 30\n",
         DataError, "enhanced_two_step_fca: required key is missing"),
        (load_parameters, "d.toml",
         "[supply.gp]\nconsultations_per_practitioner = 5\n[catchment]\nlimit_min = 30\n",
         DataError, "[supply.gp].consultations_per_practitioner: expected greater than or equal"),
        (load_categories, "k.toml",
         '[category.x]\nlabel = "X"\nsources = ["services/bpe2013.xlsx"]\nthreshold_min = 7\n'
         'threshold_policy = "p"\n',
         DataError, "[category.x]: a BPE category needs bpe_equipment"),
    ],
)
def test_every_parameter_file_names_file_key_and_expectation(
    tmp_path, loader, name, body, error, message
):
    f = _write(tmp_path, body, name)
    with pytest.raises(error) as err:
        loader(f)
    assert message in str(err.value)
    assert str(f) in str(err.value)


def test_missing_and_binary_files_are_project_errors(tmp_path):
    with pytest.raises(ParameterError, match="priority criteria file not found"):
        load_criteria(tmp_path / "none.toml")
    f = tmp_path / "bin.toml"
    f.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NetworkError, match="bin.toml: not valid TOML"):
        load_speed_table(f)


def test_source_catalogue_is_checked(tmp_path):
    from accessibility.core.errors import SourceError
    from accessibility.core.paths import Paths

    (tmp_path / "sources.toml").write_text(
        '[[source]]\npath = "/etc/passwd"\nurl = "https://x"\nsha256 = "ab"\n'
        'licence = "l"\nvintage = "v"\ndescription = "d"\n',
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"\[\[source\]\] #1 .path: expected a relative path"):
        load_catalogue(Paths(data=tmp_path, cache=tmp_path, mirror=None))


# --- frozen results ------------------------------------------------------------------------


def test_results_are_frozen():
    terr = load_territory("corse")
    with pytest.raises(TypeError):
        terr.sources["network"]["source"] = "/etc/passwd"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        terr.slug = "x"  # type: ignore[misc]
    assert isinstance(terr.selectors, MappingProxyType)
    diag = load_parameters()
    with pytest.raises(TypeError):
        diag["catchment"]["limit_min"] = 1  # type: ignore[index]
    winter = load_scenario("winter")
    assert isinstance(winter.speeds, tuple) and isinstance(winter.population, MappingProxyType)
    with pytest.raises(TypeError):
        winter.population["secondary_home_occupancy"] = 2  # type: ignore[index]
    table = load_speed_table()
    with pytest.raises(TypeError):
        table.speeds["primary"] = 500  # type: ignore[index]
    assert isinstance(load_gamme_composition().types("proximite"), tuple)


def test_shipped_files_load_with_their_documented_values():
    assert load_territory("maurienne").buffer_km == 30
    assert dict(load_sinuosity())["mountain_pass"] == 1.45
    assert load_speed_table().maxspeed_factor == 0.8
    assert {s.factor for s in load_scenario("winter").speeds} == {0.85}
    assert load_categories()["france_services"].threshold_min == 30
    assert load_parameters()["supply"]["general_practitioner"][
        "consultations_per_practitioner"
    ] == 4900
    assert len(load_catalogue()) > 80


def test_territory_network_given_on_the_command_line(tmp_path):
    pbf = _write(tmp_path, "not really a pbf", "region.osm.pbf")
    body = TERRITORY + '[sources.network]\nreader = "osm"\nsource = "roads/x.osm.pbf"\n'
    terr = load_territory(str(_write(tmp_path, body)), network=pbf)
    assert terr.sources["network"]["source"] == str(pbf.resolve())
    with pytest.raises(TerritoryError, match="no such file"):
        load_territory(str(_write(tmp_path, body)), network=tmp_path / "none.pbf")


def test_scenario_service_category_checked_against_given_categories():
    raw = {"service": [{"action": "close", "service_id": "a", "category": "gp"}]}
    assert parse_scenario(raw, name="x", categories=["gp"]).services[0].category == "gp"
    with pytest.raises(ScenarioError, match="known category"):
        parse_scenario(raw, name="x", categories=["pharmacy"])


# --- property-based: any TOML document loads or raises the project's error ------------------


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else
                                            "-inf" if v == -math.inf else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        items = (f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items())
        return "{ " + ", ".join(items) + " }"
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def _toml(doc: dict) -> str:
    return "".join(f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in doc.items())


_keys = st.sampled_from(
    ["slug", "name", "factor", "kph", "category", "weight", "above", "label", "sources",
     "threshold_min", "lon", "lat", "reader", "source", "crs", "buffer_km", "insee", "from",
     "to", "ref", "action", "service_id", "classes", "x", "mountain", "count", "str", "list"]
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["france_services", "73248", "EPSG:2154", "D902", "add", "../x", ""])
)
_values = st.recursive(
    _scalars.filter(lambda v: v is not None),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=8,
)


def _mutate(base, data):
    """Replace or add one value somewhere in ``base`` (a parsed shipped file)."""
    node = base
    while True:
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)) | _keys)
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            return
        child = node[key] if (isinstance(node, list) or key in node) else None
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            node = child
            continue
        if data.draw(st.integers(0, 4)) == 0 and isinstance(node, dict):
            node.pop(key, None)
        else:
            node[key] = data.draw(_values)
        return


LOADERS = {
    "territory": (DATA / "communes" / "maurienne.toml", lambda f: load_territory(str(f))),
    "scenario": (DATA / "scenarios" / "winter.toml", load_scenario),
    "categories": (DATA / "services" / "categories.toml", load_categories),
    "priority": (DATA / "indicators" / "priority.toml", load_criteria),
    "speeds": (DATA / "network" / "speeds.toml", load_speed_table),
}


@pytest.mark.parametrize("kind", sorted(LOADERS))
@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_any_toml_loads_or_raises_the_projects_error(kind, data):
    template, loader = LOADERS[kind]
    doc = tomllib.loads(template.read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(doc, data)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "hostile.toml"
        f.write_text(_toml(doc), encoding="utf-8")
        try:
            loader(f)
        except AccessibilityError as exc:
            message = str(exc)
            assert str(f) in message, message
            assert "\n" not in message and "Traceback" not in message
