"""INSEE gammes: composition file, grouped types, the half rule, loud data problems.

Hand-made cases first (answers worked out by hand in the comments), then the shipped
composition against the real BPE 2013 file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from tt_grid import grid_network, node_xy

from accessibility.core import columns as C
from accessibility.core.errors import DataError, DataWarning
from accessibility.indicators.gammes import (
    GAMMES_FILE,
    RECONSTRUCTED_FILE,
    counts_by_commune,
    gamme_poles,
    gamme_times,
    load_gamme_composition,
    pole_mask,
    type_presence,
)
from accessibility.indicators.nearest import Reach
from accessibility.inputs.services import load_categories

# A small gamme de proximité: the three post office forms grouped as one type, a bakery,
# a pharmacy (3 types: a pole needs ceil(3 / 2) = 2 of them).
GROUPED = """
[meta]
vintage = "test"
gamme_verified = true

[[gamme.proximite]]
name = "Poste"
bpe2013 = { A206 = "Bureau de poste", A207 = "Relais poste commerçant", \
A208 = "Agence postale communale" }

[[gamme.proximite]]
name = "Boulangerie"
bpe2013 = { B203 = "Boulangerie" }

[[gamme.proximite]]
name = "Pharmacie"
bpe2013 = { D301 = "Pharmacie" }
"""

# The same five codes, each counted alone (5 types: a pole needs ceil(5 / 2) = 3).
UNGROUPED = """
[meta]
gamme_verified = false
""" + "".join(
    f'\n[[gamme.proximite]]\nname = "{lab}"\nbpe2013 = {{ {code} = "{lab}" }}\n'
    for code, lab in (
        ("A206", "Bureau de poste"),
        ("A207", "Relais poste commerçant"),
        ("A208", "Agence postale communale"),
        ("B203", "Boulangerie"),
        ("D301", "Pharmacie"),
    )
)

LABELS = [
    "Bureau de poste",
    "Relais poste commerçant",
    "Agence postale communale",
    "Boulangerie",
    "Pharmacie",
]


def _composition(tmp_path: Path, body: str, name: str = "gammes.toml"):
    f = tmp_path / name
    f.write_text(body, encoding="utf-8")
    return load_gamme_composition(f)


def _counts(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=LABELS)


#                bureau relais agence bakery pharmacy
COUNTS = _counts(
    {
        "00001": [1, 1, 1, 0, 0],  # the three post forms only: 1 grouped type, 3 alone
        "00002": [0, 0, 1, 1, 0],  # agence postale + bakery: 2 grouped types, 2 alone
        "00003": [0, 0, 0, 0, 2],  # a pharmacy: 1 type either way
        "00004": [0, 1, 0, 1, 1],  # relais + bakery + pharmacy: 3 grouped, 3 alone
    }
)


def test_grouped_types_count_once(tmp_path):
    comp = _composition(tmp_path, GROUPED)
    presence = type_presence(COUNTS, comp.types("proximite"))
    assert list(presence.columns) == ["Poste", "Boulangerie", "Pharmacie"]
    # 00001 has three post codes: one type present, not three
    assert presence.loc["00001"].tolist() == [True, False, False]
    assert presence.sum(axis=1).to_dict() == {"00001": 1, "00002": 2, "00003": 1, "00004": 3}


def test_half_rule_grouped_vs_alone(tmp_path):
    grouped = _composition(tmp_path, GROUPED)
    alone = _composition(tmp_path, UNGROUPED, "alone.toml")
    # grouped: need 2 of 3 -> 00002 (2) and 00004 (3)
    assert gamme_poles(COUNTS, grouped)["proximite"] == ["00002", "00004"]
    # alone: need 3 of 5 -> 00001 (its 3 post forms) and 00004 (3)
    assert gamme_poles(COUNTS, alone)["proximite"] == ["00001", "00004"]


def test_half_rule_with_an_odd_and_an_even_number_of_types():
    odd = pd.DataFrame({"a": [1, 1, 1, 0], "b": [1, 1, 0, 0], "c": [1, 0, 0, 0]}, dtype=bool)
    # 3 types: need 2 -> rows with 3 and 2 types
    assert pole_mask(odd).tolist() == [True, True, False, False]
    even = odd.assign(d=[False, False, False, True])
    # 4 types: need 2 -> unchanged (row 3 now has d only: 1 type)
    assert pole_mask(even).tolist() == [True, True, False, False]
    assert pole_mask(odd.iloc[:, :0]).tolist() == [False] * 4


def test_missing_type_warns_and_leaves_the_count(tmp_path):
    body = GROUPED + '\n[[gamme.proximite]]\nname = "Fleuriste"\nbpe2013 = { B312 = "Fleuriste" }\n'
    comp = _composition(tmp_path, body)
    with pytest.warns(DataWarning, match=r"1 type\(s\).*Fleuriste: B312 \(Fleuriste\)"):
        presence = type_presence(COUNTS, comp.types("proximite"), where="test counts")
    # the florist has no column: 3 types remain, a pole still needs 2
    assert presence.shape[1] == 3
    with pytest.warns(DataWarning):
        assert gamme_poles(COUNTS, comp)["proximite"] == ["00002", "00004"]


def test_type_declared_absent_from_bpe2013_is_left_out_quietly(tmp_path):
    body = GROUPED + '\n[[gamme.proximite]]\nname = "Bibliothèque"\nbpe2013 = {}\n'
    comp = _composition(tmp_path, body)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        presence = type_presence(COUNTS, comp.types("proximite"))
    assert presence.shape[1] == 3
    assert comp.absent_from_bpe2013()["proximite"] == ["Bibliothèque"]


def test_non_numeric_counts_and_unmapped_communes_warn():
    table = pd.DataFrame(
        {
            "depcom": ["00001", "00002", "00009", "00003"],
            "Boulangerie": [1.0, "", 2.0, "deux"],
            "Pharmacie": ["1", " ", 1.0, 1.0],
        }
    )
    # 00003 was merged into 00001 since the BPE year; 00009 no longer exists anywhere
    code_map = {"00001": "00001", "00002": "00002", "00003": "00001"}
    with pytest.warns(DataWarning) as record:
        out = counts_by_commune(table, code_map, where="test.xlsx")
    messages = [str(w.message) for w in record]
    assert any("1 count(s) in 1 column(s) are not numbers" in m and "deux" in m for m in messages)
    assert any("1 row(s) have a commune code" in m and "00009" in m for m in messages)
    # "" and " " are empty cells (no equipment), "deux" is read as 0 and reported;
    # 00003's pharmacy is summed into 00001; 00009's equipment is left out
    assert out.to_dict() == {
        "Boulangerie": {"00001": 1.0, "00002": 0.0},
        "Pharmacie": {"00001": 2.0, "00002": 0.0},
    }


@pytest.mark.parametrize(
    "body,message",
    [
        (
            '[[gamme.haute]]\nname = "x"\nbpe2013 = { A206 = "Bureau de poste" }\n',
            "haute: expected 'proximite', 'intermediaire' or 'superieure'",
        ),
        (
            '[[gamme.proximite]]\nname = ""\nbpe2013 = {}\n',
            "proximite\\[0\\].name: expected to have at least 1 character",
        ),
        (
            '[[gamme.proximite]]\nname = "x"\nbpe2013 = { Z99 = "y" }\n',
            "bpe2013.Z99: expected to match pattern",
        ),
        (
            '[[gamme.proximite]]\nname = "x"\nbpe2013 = { A206 = "" }\n',
            "bpe2013.A206: expected to have at least 1 character",
        ),
        ('[[gamme.proximite]]\nname = "x"\n', "proximite\\[0\\].bpe2013: required key is missing"),
        (
            '[[gamme.proximite]]\nname = "x"\nbpe2013 = {}\ncolour = 1\n',
            "colour: unknown key \\(expected one of: name, bpe2013, basis\\)",
        ),
        (
            '[[gamme.proximite]]\nname = "x"\nbpe2013 = { A206 = "a" }\n'
            '[[gamme.superieure]]\nname = "y"\nbpe2013 = { A206 = "a" }\n',
            "A206 is in \\[\\[gamme.proximite\\]\\] \\(x\\)",
        ),
        ("[meta]\n", "gamme: required key is missing"),
    ],
)
def test_bad_composition_files_name_file_and_entry(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_gamme_composition(f)
    assert str(f) in str(info.value)


def test_gamme_times_on_a_hand_made_network(tmp_path):
    """3 x 3 grid, 1 min per edge; halls at nodes 0 and 8, the origin at node 1.

    Hall 00001 (node 0) has the three post forms; hall 00002 (node 8, 3 min from node 1)
    has an agence postale and a bakery. Grouped: only 00002 is a pole -> 3 min; each
    code alone: only 00001 is (3 of 5) -> 1 min.
    """
    net = grid_network(3)
    counts = COUNTS.loc[["00001", "00002"]]
    halls = gpd.GeoDataFrame(
        {C.COMMUNE_CODE: counts.index},
        geometry=[Point(node_xy(0, 3)), Point(node_xy(8, 3))],
        crs=net.crs,
    )
    origins = gpd.GeoDataFrame({"id": ["o"]}, geometry=[Point(node_xy(1, 3))], crs=net.crs)
    reach = Reach(net, origins, halls, origin_id="id", destination_id=C.COMMUNE_CODE)
    ids = np.array(["o"])
    grouped = gamme_times(reach, counts, _composition(tmp_path, GROUPED), ids, origin_id="id")
    alone = gamme_times(
        reach, counts, _composition(tmp_path, UNGROUPED, "a.toml"), ids, origin_id="id"
    )
    assert grouped.poles["proximite"] == ["00002"]
    assert grouped.times["gamme_proximite_pole_min"].iloc[0] == pytest.approx(3.0)
    assert alone.poles["proximite"] == ["00001"]
    assert alone.times["gamme_proximite_pole_min"].iloc[0] == pytest.approx(1.0)
    # mean over the types found: post 1 min (node 0), bakery 3 min; no pharmacy anywhere
    assert grouped.times["gamme_proximite_mean_min"].iloc[0] == pytest.approx(2.0)
    assert grouped.missing_types["proximite"] == ["Pharmacie"]


def test_gamme_times_reports_types_absent_from_bpe2013(tmp_path, caplog):
    net = grid_network(3)
    counts = COUNTS.loc[["00002"]]
    halls = gpd.GeoDataFrame(
        {C.COMMUNE_CODE: counts.index}, geometry=[Point(node_xy(8, 3))], crs=net.crs
    )
    origins = gpd.GeoDataFrame({"id": ["o"]}, geometry=[Point(node_xy(8, 3))], crs=net.crs)
    reach = Reach(net, origins, halls, origin_id="id", destination_id=C.COMMUNE_CODE)
    body = GROUPED + '\n[[gamme.proximite]]\nname = "Bibliothèque"\nbpe2013 = {}\n'
    with caplog.at_level("WARNING", logger="accessibility.indicators.gammes"):
        out = gamme_times(
            reach, counts, _composition(tmp_path, body), np.array(["o"]), origin_id="id"
        )
    assert "1 type(s) of gammes.toml have no BPE 2013 equivalent" in caplog.text
    assert "a pole needs 2 of the 3 others" in caplog.text
    # 00002 (post + bakery: 2 of the 3 types BPE 2013 can tell) stays a pole
    assert out.poles["proximite"] == ["00002"]
    assert out.missing_types["proximite"] == ["Pharmacie", "Bibliothèque (not in BPE 2013)"]


# --- the shipped composition -------------------------------------------------------------


def _type_of(comp, code):
    for g, types in comp.gammes.items():
        for t in types:
            if code in t.codes:
                return g, t
    return None, None


def test_shipped_composition_groups_as_insee(paths):
    comp = load_gamme_composition(paths.data / GAMMES_FILE)
    assert set(comp.gammes) == {"proximite", "intermediaire", "superieure"}
    assert comp.verified is False  # intermédiaire and supérieure are not INSEE's lists yet
    g, post = _type_of(comp, "A206")
    assert g == "proximite" and set(post.codes) == {"A206", "A207", "A208"}
    g, school = _type_of(comp, "C101")
    assert g == "proximite" and set(school.codes) == {"C101", "C102", "C104", "C105"}
    g, grocery = _type_of(comp, "B201")
    assert g == "proximite" and set(grocery.codes) == {"B201", "B202"}
    # INSEE's 2025 gamme de proximité: 26 types or groupings, 3 of them unknown in 2013
    assert len(comp.types("proximite")) == 26
    assert sorted(comp.absent_from_bpe2013()["proximite"]) == [
        "Accueil de loisirs sans hébergement",
        "Bibliothèque",
        "Station de recharge de véhicules électriques",
    ]
    # banks are in the intermédiaire (INSEE 2016 and 2025), no longer in the proximité
    assert _type_of(comp, "A203")[0] == "intermediaire"
    old = load_gamme_composition(paths.data / RECONSTRUCTED_FILE)
    assert all(len(t.codes) == 1 for ts in old.gammes.values() for t in ts)


def test_categories_agree_with_the_composition(paths):
    comp = load_gamme_composition(paths.data / GAMMES_FILE)
    checked = 0
    for key, cat in load_categories().items():
        for e in cat.bpe_equipment:
            g, _ = _type_of(comp, e.typequ)
            if g is not None:
                assert cat.gamme == g, f"{key}: gamme {cat.gamme}, {e.typequ} is in {g}"
                checked += 1
    assert checked >= 20


def test_real_bpe_savoie_counts_under_the_right_groups(paths):
    from accessibility.indicators.gammes import bpe_counts

    comp = load_gamme_composition(paths.data / GAMMES_FILE)
    counts = bpe_counts(paths)
    # every BPE 2013 column named by the composition exists in the file
    labels = {lab for ts in comp.gammes.values() for t in ts for lab in t.codes.values()}
    assert labels <= set(counts.columns)
    savoie = counts[counts.index.str.startswith("73")]
    presence = type_presence(savoie, comp.types("proximite"))
    post = "Poste : bureau de poste, relais poste, agence postale"
    # Saint-Jean-de-Maurienne: 1 bureau de poste and 6 pharmacies in BPE 2013
    assert counts.loc["73248", ["Bureau de poste", "Pharmacie"]].tolist() == [1.0, 6.0]
    assert presence.loc["73248", post] and presence.loc["73248", "Pharmacie"]
    # Aillon-le-Jeune: an agence postale communale, no bureau, no relais: it has the post
    row = counts.loc["73004"]
    assert row["Agence postale communale"] > 0
    assert row["Bureau de poste"] == 0 and row["Relais poste commerçant"] == 0
    assert presence.loc["73004", post]
    # no commune has more types than the gamme has columns (groups count once)
    assert presence.sum(axis=1).max() <= presence.shape[1] == 23


# --- the comparison (accessibility.validation.gammes_check) -----------------------------


def test_compare_compositions_on_the_maurienne(paths, maurienne_study):
    from accessibility.indicators.gammes import bpe_counts
    from accessibility.validation.gammes_check import compare_compositions

    insee = load_gamme_composition(paths.data / GAMMES_FILE)
    old = load_gamme_composition(paths.data / RECONSTRUCTED_FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the study's known snapping warnings
        cmp = compare_compositions(maurienne_study, old, insee, counts=bpe_counts(paths))
    assert len(cmp.summary) == 6 and cmp.labels == ("reconstructed", "insee")
    # the supérieure has the same types in both files: nothing may change
    sup = cmp.changes.set_index("gamme").loc["superieure"]
    assert sup[["poles_gained", "poles_lost", "communes_newly_far"]].tolist() == [0, 0, 0]
    assert cmp.communes["gamme_superieure_pole_min_diff"].abs().max() == 0
    # the flags are the commune times against the thresholds (7, 15, 30 min)
    for row in cmp.summary.itertuples():
        t = cmp.communes[f"gamme_{row.gamme}_pole_min_{row.variant}"]
        assert row.communes_far == int((t > row.threshold_min).sum())
        assert row.communes == 53
    # Saint-Jean-de-Maurienne is a pole of the proximité in both compositions
    prox = cmp.changes.set_index("gamme").loc["proximite"]
    assert "73248" not in prox["poles_lost_list"] + prox["poles_gained_list"]


def test_compare_networks_needs_the_same_cells():
    from types import SimpleNamespace

    from accessibility.validation.gammes_check import compare_networks

    def study(ids):
        return SimpleNamespace(layers=SimpleNamespace(cells=pd.DataFrame({C.CELL_ID: ids})))

    with pytest.raises(DataError, match="do not hold the same cells"):
        compare_networks(study(["a", "b"]), study(["a", "c"]), composition=None)


def test_missing_or_malformed_composition_file(tmp_path):
    with pytest.raises(DataError, match="gamme composition not found"):
        load_gamme_composition(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[gamme.proximite]\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.toml: not valid TOML"):
        load_gamme_composition(bad)
