"""Tests of the service categories file and the services inventory."""

from __future__ import annotations

import json
import tarfile
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning, DuplicateIdError, MissingColumnError
from accessibility.inputs.services import (
    BPE_2013,
    GISCO,
    SERVICE_COLUMNS,
    Category,
    assemble_services,
    build_services,
    load_categories,
    read_bpe2013,
    read_bpe2018_education,
    read_france_services_2024,
    read_gisco,
    read_laposte,
    summarise_services,
)

FIX = Path(__file__).parent / "fixtures"
TO_WGS84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def _cat(key: str = "x", **kw) -> Category:
    base = dict(label=key, sources=(), threshold_min=10.0, threshold_policy="test")
    base.update(kw)
    return Category(key=key, **base)


# --- categories.toml ------------------------------------------------------------------------


def test_shipped_categories_are_valid():
    cats = load_categories()
    for key in (
        "france_services",
        "france_services_2020",
        "hospital",
        "emergency",
        "post_office",
        "general_practitioner",
        "pharmacy",
        "primary_school",
        "college",
    ):
        assert key in cats
    assert cats["general_practitioner"].bpe_equipment[0].typequ == "D201"
    assert cats["france_services_2020"].history
    assert all(c.threshold_min > 0 for c in cats.values())


def _write(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "cats.toml"
    f.write_text(body, encoding="utf-8")
    return f


GOOD = """
[category.fs]
label = "France Services"
sources = ["services/liste-fs-20240801.csv"]
threshold_min = 30
threshold_policy = "2019 commitment"
"""


def test_load_categories_small_file(tmp_path):
    cats = load_categories(_write(tmp_path, GOOD))
    assert list(cats) == ["fs"]
    assert cats["fs"].threshold_min == 30.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD + "colour = 'red'\n", "[category.fs].colour: unknown key"),
        (
            GOOD.replace('label = "France Services"\n', ""),
            "[category.fs].label: required key is missing",
        ),
        (
            GOOD.replace("threshold_min = 30", "threshold_min = 0"),
            "[category.fs].threshold_min: expected greater than 0 (got 0)",
        ),
        (
            GOOD.replace("threshold_min = 30", "threshold_min = -5"),
            "[category.fs].threshold_min: expected greater than 0 (got -5)",
        ),
        (
            GOOD.replace("liste-fs-20240801.csv", "nowhere.csv"),
            "[category.fs].sources[0]: expected a source with a reader",
        ),
        (
            GOOD + 'gamme = "haute"\n',
            "[category.fs].gamme: expected 'proximite', 'intermediaire' or 'superieure'",
        ),
    ],
)
def test_load_categories_rejects_bad_entries(tmp_path, body, message):
    f = _write(tmp_path, body)
    with pytest.raises(DataError, match="category.fs") as err:
        load_categories(f)
    assert message in str(err.value)
    assert str(f) in str(err.value)


def test_bpe_category_needs_the_2013_label(tmp_path):
    body = """
[category.gp]
label = "Médecin"
sources = ["services/bpe2013.xlsx"]
threshold_min = 7
threshold_policy = "convention"
bpe_equipment = [{ typequ = "D201" }]
"""
    with pytest.raises(DataError, match=r"category\.gp.*D201 needs the label"):
        load_categories(_write(tmp_path, body))


# --- readers ---------------------------------------------------------------------------------


def test_read_france_services_keeps_type_format_and_warns_on_missing_coordinates():
    with pytest.warns(DataWarning, match=r"1 row\(s\) have missing or invalid coordinates.*fs:3"):
        df = read_france_services_2024(FIX / "svc_fs.csv", _cat("france_services"))
    assert df[C.SERVICE_ID].tolist() == [
        "france_services/fs:428",
        "france_services/fs:2",
        "france_services/fs:3",
    ]
    assert df[C.SITE_TYPE].tolist() == ["Principal", "Antenne", "Principal"]
    assert df[C.SERVICE_FORMAT].tolist() == ["Fixe", "Bus_équivalent", "Fixe"]
    # "La Poste" in the name -> run by La Poste; else the groupe, else the list itself
    assert df[C.OPERATOR].tolist()[:2] == ["France Services (ANCT list)", "La Poste"]
    assert df.loc[0, C.HOURS] == "lun 09:00 - 12:00"  # samedi "-" means closed
    assert df[C.COMMUNE_CODE].tolist() == ["73261", "01388", "73248"]
    assert df["lon"].isna().tolist() == [False, False, True]


def test_read_france_services_rejects_duplicate_ids():
    with pytest.raises(DuplicateIdError, match=r"svc_fs_duplicate_id\.csv.*'id_fs'.*7"):
        read_france_services_2024(FIX / "svc_fs_duplicate_id.csv", _cat())


def test_read_gisco_filters_types_and_smur_names():
    cat = _cat(
        "hospital",
        sources=(GISCO,),
        gisco_facility_types=("Centre Hospitalier (C.H.)",),
        name_exclude=r"\b(?:SMUR|SAMU)\b",
    )
    df = read_gisco(FIX / "svc_gisco.csv", cat)
    # the SMUR antenna is typed C.H. but excluded by name; the CHS is another type
    assert df[C.SERVICE_ID].tolist() == ["hospital/gisco:730000080"]
    assert df[C.COMMUNE_CODE].isna().all()  # GISCO has no INSEE code
    assert df.loc[0, C.OPERATOR].startswith("public")
    assert df.loc[0, "postcode"] == "73300"


def test_read_laposte_site_types_and_operator():
    cat = _cat(
        "post_office",
        laposte_site_types=(
            "Bureau de Poste",
            "Agence postale communale",
            "Relais poste commerçant",
        ),
    )
    with pytest.warns(DataWarning, match=r"1 row\(s\).*laposte:15019A"):
        df = read_laposte(FIX / "svc_laposte.csv", cat)
    assert df[C.SITE_TYPE].tolist() == [
        "Bureau de Poste",
        "Agence postale communale",
        "Relais poste commerçant",
    ]
    assert df[C.OPERATOR].tolist() == [
        "La Poste",
        "commune (La Poste partner)",
        "shopkeeper (La Poste partner)",
    ]
    only_bp = read_laposte(
        FIX / "svc_laposte.csv", _cat("bp", laposte_site_types=("Bureau de Poste",))
    )
    assert len(only_bp) == 1


def test_read_laposte_missing_column_names_file_and_column():
    with pytest.raises(MissingColumnError, match=r"svc_laposte_no_insee\.csv.*Code_INSEE"):
        read_laposte(
            FIX / "svc_laposte_no_insee.csv", _cat(laposte_site_types=("Bureau de Poste",))
        )


def test_read_bpe2018_sums_iris_rows_per_commune():
    cat = _cat("primary_school", bpe_equipment=(), sources=())
    from accessibility.inputs.services import BpeEquipment

    cat = _cat("primary_school", bpe_equipment=(BpeEquipment("C104"), BpeEquipment("C105")))
    df = read_bpe2018_education(FIX / "svc_bpe18.csv", cat)
    # 73248: C104 1 + 2 = 3 (the C201 row is another type); 73261: C105 1
    assert dict(zip(df[C.COMMUNE_CODE], df[C.COUNT], strict=True)) == {"73248": 3, "73261": 1}
    assert set(df[C.LOCATION]) == {"town_hall"}


def _bpe13_workbook(tmp_path: Path, header: list[str], rows: list[list]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    f = tmp_path / "bpe2013.xlsx"
    wb.save(f)
    return f


def test_read_bpe2013_by_label(tmp_path):
    from accessibility.inputs.services import BpeEquipment

    f = _bpe13_workbook(
        tmp_path,
        ["depcom", "Total de nb_equip", "Police", "Gendarmerie", "Pharmacie"],
        [["73248", 9, 1, 2, 3], ["73261", 4, None, 1, None], ["01001", 2, None, None, 2]],
    )
    cat = _cat(
        "police",
        sources=(BPE_2013,),
        bpe_equipment=(BpeEquipment("A101", "Police"), BpeEquipment("A104", "Gendarmerie")),
    )
    df = read_bpe2013(f, cat)
    # 73248: 1 + 2 = 3; 73261: 0 + 1 = 1; 01001 has neither
    assert dict(zip(df[C.COMMUNE_CODE], df[C.COUNT], strict=True)) == {"73248": 3, "73261": 1}
    bad = _cat(
        "x", sources=(BPE_2013,), bpe_equipment=(BpeEquipment("D201", "Médecin omnipraticien"),)
    )
    with pytest.raises(MissingColumnError, match=r"bpe2013\.xlsx.*Médecin omnipraticien"):
        read_bpe2013(f, bad)


# --- assembly on a hand-made territory -------------------------------------------------------
# Lambert-93: commune 73001 = square x 900000-901000, y 6450000-6451000; 73002 is the square
# east of it. Town halls: 73001 (900500, 6450500), 73002 (901500, 6450500), 73003 outside at
# (903500, 6450500) = 1.5 km east of the territory, 38001 far away (950000, 6450000).


@pytest.fixture()
def toy():
    communes = gpd.GeoDataFrame(
        {C.COMMUNE_CODE: ["73001", "73002"]},
        geometry=[box(900000, 6450000, 901000, 6451000), box(901000, 6450000, 902000, 6451000)],
        crs="EPSG:2154",
    )
    halls = gpd.GeoDataFrame(
        {C.COMMUNE_CODE: ["73001", "73002", "73003", "38001"]},
        geometry=[
            Point(900500, 6450500),
            Point(901500, 6450500),
            Point(903500, 6450500),
            Point(950000, 6450000),
        ],
        crs="EPSG:2154",
    )
    code_map = {
        "73001": "73001",
        "73002": "73002",
        "73099": "73002",
        "73003": "73003",
        "38001": "38001",
    }
    return communes, halls, code_map


def _row(sid: str, category: str, *, code=None, xy=None, count=1, location="source", postcode=""):
    lon, lat = TO_WGS84.transform(*xy) if xy else (float("nan"), float("nan"))
    return {
        C.SERVICE_ID: f"{category}/{sid}",
        C.CATEGORY: category,
        C.LABEL: category,
        C.OPERATOR: "op",
        C.SOURCE: "src",
        C.VINTAGE: "2013",
        C.COMMUNE_CODE: code,
        C.COUNT: count,
        C.ADDRESS: "",
        C.HOURS: "",
        C.SITE_TYPE: "",
        C.SERVICE_FORMAT: "",
        C.LOCATION: location,
        C.COMMUNE_SOURCE: "source",
        "lon": lon,
        "lat": lat,
        "postcode": postcode,
    }


def test_assemble_merges_counts_places_and_buffers(toy):
    communes, halls, code_map = toy
    cand = pd.DataFrame(
        [
            # commune counts: 73002 (2) + old code 73099 merged into it (1) = 3 at 73002's hall
            _row("bpe13:73002", "gp", code="73002", count=2, location="town_hall"),
            _row("bpe13:73099", "gp", code="73099", count=1, location="town_hall"),
            _row("bpe13:73003", "gp", code="73003", count=1, location="town_hall"),  # 1.5 km out
            _row("bpe13:38001", "gp", code="38001", count=5, location="town_hall"),  # 48 km out
            # points without a code: inside 73001 -> polygon; outside -> nearest hall 73003
            _row("gisco:1", "hosp", xy=(900200, 6450200), postcode="73000"),
            _row("gisco:2", "hosp", xy=(903400, 6450600), postcode="73000"),
            # a coded point without coordinates -> its town hall
            _row("fs:9", "fs", code="73001"),
        ]
    )
    out = assemble_services(cand, communes, buffer_m=3000, code_map=code_map, town_halls=halls)
    assert list(out.columns) == [*SERVICE_COLUMNS, "geometry"]
    by_id = out.set_index(C.SERVICE_ID)
    assert by_id.loc["gp/bpe13:73002", C.COUNT] == 3
    assert by_id.loc["gp/bpe13:73002", "geometry"].equals(Point(901500, 6450500))
    assert not by_id.loc["gp/bpe13:73003", C.IN_TERRITORY]
    assert "gp/bpe13:38001" not in by_id.index
    assert (
        by_id.loc["hosp/gisco:1", C.COMMUNE_CODE],
        by_id.loc["hosp/gisco:1", C.COMMUNE_SOURCE],
    ) == ("73001", "polygon")
    assert by_id.loc["hosp/gisco:1", C.IN_TERRITORY]
    assert by_id.loc["hosp/gisco:2", C.COMMUNE_CODE] == "73003"
    assert by_id.loc["hosp/gisco:2", C.COMMUNE_SOURCE] == "nearest_town_hall"
    assert by_id.loc["fs/fs:9", C.LOCATION] == "town_hall"
    assert by_id.loc["fs/fs:9", "geometry"].equals(Point(900500, 6450500))
    summary = summarise_services(out).set_index(C.CATEGORY)
    # gp: 3 in the territory (73002), 1 in the buffer (73003)
    assert summary.loc["gp", ["count", "count_in_territory", "count_in_buffer"]].tolist() == [
        4,
        3,
        1,
    ]


def test_assemble_warns_on_unknown_codes_and_far_postcodes(toy):
    communes, halls, code_map = toy
    cand = pd.DataFrame(
        [
            # an unknown code in the territory's département (73) is warned about...
            _row("bpe13:73999", "gp", code="73999", count=1, location="town_hall"),
            # ...one far away (département 99) only goes to the log
            _row("bpe13:99999", "gp", code="99999", count=1, location="town_hall"),
            # located inside the territory, but its postcode says Isère (38): the nearest
            # Isère town hall (38001) is 50 km away -> geocoding error, left out
            _row("gisco:3", "hosp", xy=(900300, 6450300), postcode="38000"),
        ]
    )
    with pytest.warns(DataWarning) as record:
        out = assemble_services(cand, communes, buffer_m=3000, code_map=code_map, town_halls=halls)
    messages = " | ".join(str(w.message) for w in record)
    assert "unknown since 2013" in messages and "73999" in messages
    assert "99999" not in messages
    assert "postcode" in messages and "gisco:3" in messages
    assert out.empty


def test_assemble_rejects_geographic_crs(toy):
    communes, halls, code_map = toy
    with pytest.raises(DataError, match="metric CRS"):
        assemble_services(
            pd.DataFrame([_row("a", "x", code="73001")]),
            communes.to_crs(4326),
            buffer_m=0,
            code_map=code_map,
            town_halls=halls,
        )


# --- integration: the Maurienne on the real mirror ---------------------------------------------


def _arrondissement_codes(paths, arrondissement: str) -> list[str]:
    from accessibility.inputs.sources import fetch

    with tarfile.open(fetch("communes/etalab-decoupage-administratif-6.0.0.tgz", paths)) as tar:
        communes = json.load(tar.extractfile("package/data/communes.json"))
    return sorted(
        c["code"]
        for c in communes
        if c.get("type") == "commune-actuelle" and c.get("arrondissement") == arrondissement
    )


@pytest.fixture(scope="module")
def maurienne_services(request):
    from accessibility.core.paths import default_paths
    from accessibility.inputs.communes import build_communes, read_polygons
    from accessibility.inputs.sources import fetch

    paths = default_paths()
    if paths.mirror is None:
        pytest.fail("the data mirror is missing: integration tests need it")
    codes = _arrondissement_codes(paths, "733")
    with warnings.catch_warnings():
        # reported data warnings: town halls outside simplified polygons, La Poste rows
        # without coordinates, codes unknown to COG 2026 elsewhere in France
        warnings.simplefilter("ignore", DataWarning)
        communes = build_communes(
            codes, read_polygons(fetch("communes/communes-73-savoie.geojson", paths)), paths=paths
        )
        services = build_services(communes, buffer_m=30_000, paths=paths)
    return paths, codes, services


@pytest.mark.integration
def test_maurienne_france_services_match_the_source_file(maurienne_services):
    paths, codes, services = maurienne_services
    from accessibility.inputs.sources import fetch

    assert len(codes) == 53
    raw = pd.read_csv(fetch("services/liste-fs-20240801.csv", paths), dtype=str)
    expected = raw[raw["insee_com"].isin(codes)]
    assert (
        len(expected) == 5
    )  # Saint-Michel, Saint-Étienne-de-Cuines, Modane, Val-d'Arc, Saint-Jean
    fs = services[(services[C.CATEGORY] == "france_services") & services[C.IN_TERRITORY]]
    assert sorted(fs[C.SERVICE_ID]) == sorted("france_services/fs:" + expected["id_fs"])
    assert set(fs[C.COMMUNE_CODE]) == set(expected["insee_com"])


@pytest.mark.integration
def test_maurienne_hospital_in_saint_jean(maurienne_services):
    _, _, services = maurienne_services
    hosp = services[(services[C.CATEGORY] == "hospital") & services[C.IN_TERRITORY]]
    sj = hosp[hosp[C.COMMUNE_CODE] == "73248"]  # Saint-Jean-de-Maurienne
    assert "hospital/gisco:730000080" in set(sj[C.SERVICE_ID])


@pytest.mark.integration
def test_maurienne_bpe_general_practitioners_match_a_direct_filter(maurienne_services):
    paths, codes, services = maurienne_services
    from accessibility.inputs.sources import fetch

    gp = services[(services[C.CATEGORY] == "general_practitioner") & services[C.IN_TERRITORY]]
    assert gp[C.COUNT].sum() > 0
    # independent count: COG 2013 codes of the Maurienne = the 53 current codes plus the
    # communes merged into them since 2013 (Aiguebelle 73002 -> Val-d'Arc; Châtel 73080 and
    # Pontamafrey-Montpascal 73203 -> La Tour-en-Maurienne 73135; ...), from communes.json
    with tarfile.open(fetch("communes/etalab-decoupage-administratif-6.0.0.tgz", paths)) as tar:
        cj = json.load(tar.extractfile("package/data/communes.json"))
    old = {c["code"] for c in cj if c.get("chefLieu") in codes}
    old |= {a for c in cj if c["code"] in codes for a in c.get("anciensCodes", [])}
    from python_calamine import CalamineWorkbook  # pandas' read_excel takes ~30 s here

    rows = (
        CalamineWorkbook.from_path(str(fetch("services/bpe2013.xlsx", paths)))
        .get_sheet_by_index(0)
        .to_python()
    )
    col = rows[0].index("Médecin omnipraticien")
    table = pd.DataFrame(
        {
            "depcom": [str(r[0]) for r in rows[1:]],
            "Médecin omnipraticien": pd.to_numeric([r[col] for r in rows[1:]], errors="coerce"),
        }
    )
    sel = table[table["depcom"].isin(set(codes) | old) & (table["Médecin omnipraticien"] > 0)]
    assert gp[C.COUNT].sum() == int(sel["Médecin omnipraticien"].sum())
    # a current commune has a row when any of its 2013 communes had a GP
    current = {c: c for c in codes}
    current.update({c["code"]: c["chefLieu"] for c in cj if c.get("chefLieu") in codes})
    current.update(
        {a: c["code"] for c in cj if c["code"] in codes for a in c.get("anciensCodes", [])}
    )
    assert len(gp) == sel["depcom"].map(current).nunique()


@pytest.mark.integration
def test_maurienne_inventory_contract(maurienne_services):
    _, codes, services = maurienne_services
    assert services.crs.to_epsg() == 2154
    assert services[C.SERVICE_ID].is_unique
    inside = services[services[C.IN_TERRITORY]]
    assert set(inside[C.COMMUNE_CODE]) <= set(codes)
    assert not services[~services[C.IN_TERRITORY]][C.COMMUNE_CODE].isin(codes).any()
    assert (services[C.COUNT] >= 1).all()
    # emergency care: Saint-Jean-de-Maurienne's hospital and Modane's SMUR (BPE 2013 D106)
    em = inside[inside[C.CATEGORY] == "emergency"]
    assert set(em[C.COMMUNE_CODE]) == {"73248", "73157"}
