"""The diagnostic on the real Maurienne data, and its exports.

Sanity bounds are justified in each test; exact values come from independent
computations (a plain pandas/numpy recomputation from the cell table, or the inputs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest

from accessibility.core import columns as C
from accessibility.inputs.services import load_categories
from accessibility.outputs.dictionary import data_dictionary
from accessibility.outputs.exports import export_diagnostic

pytestmark = pytest.mark.integration


def test_every_cell_has_a_time_to_each_main_category(maurienne_diagnostic):
    cells = maurienne_diagnostic.cells
    for key in ("france_services", "hospital", "general_practitioner", "post_office"):
        t = cells[f"time_{key}_min"]
        # every Maurienne cell is on the one road network (largest component): reachable
        assert t.notna().all(), key
        # the valley is ~120 km long: nothing is more than 2 hours from a hospital or FS
        assert (t >= 0).all() and (t < 120).all(), key


def test_commune_times_are_population_weighted_means_of_their_cells(maurienne_diagnostic):
    d = maurienne_diagnostic
    col = "time_france_services_min"
    cells = d.cells
    expected = (cells[col] * cells[C.POP_TOTAL]).groupby(
        cells[C.COMMUNE_CODE]
    ).sum() / cells.groupby(C.COMMUNE_CODE)[C.POP_TOTAL].sum()
    got = d.communes.set_index(C.COMMUNE_CODE)[col]
    common = expected.index.intersection(got.index)
    assert np.allclose(got.loc[common], expected.loc[common])


def test_france_services_communes_are_close_to_one(maurienne_diagnostic, maurienne):
    """The five communes that host a France Services (source file) reach one quickly."""
    fs = maurienne.services
    hosts = set(fs.loc[(fs[C.CATEGORY] == "france_services") & fs[C.IN_TERRITORY], C.COMMUNE_CODE])
    assert len(hosts) == 5
    t = maurienne_diagnostic.communes.set_index(C.COMMUNE_CODE)["time_france_services_min"]
    # a 1 km cell centre to the service in its own commune: a few minutes, 15 at most
    assert (t.loc[sorted(hosts)] < 15).all()
    # Bonneval-sur-Arc, at the head of the valley, is farther than any host commune
    assert t.loc["73047"] > t.loc[sorted(hosts)].max()


def test_territory_summary_agrees_with_the_cells(maurienne_diagnostic):
    d = maurienne_diagnostic
    row = d.territory.set_index("indicator").loc["time_france_services_min"]
    cells = d.cells
    far = cells.loc[~(cells["time_france_services_min"] <= row["threshold_min"]), C.POP_TOTAL].sum()
    assert row["population_beyond"] == pytest.approx(far)
    assert row["population"] == pytest.approx(cells[C.POP_TOTAL].sum())
    epci = d.epci[d.epci["indicator"] == "time_france_services_min"]
    assert len(epci) == 5
    assert epci["population_beyond"].sum() == pytest.approx(far)


def test_gamme_poles(maurienne_diagnostic):
    d = maurienne_diagnostic
    # Saint-Jean-de-Maurienne (sous-préfecture, hospital, lycées) is a pole of every gamme
    for g in ("proximite", "intermediaire", "superieure"):
        assert "73248" in d.meta["gamme_poles"][g], g
    # the poles of a higher gamme are fewer
    n = {g: len(p) for g, p in d.meta["gamme_poles"].items()}
    assert n["proximite"] > n["intermediaire"] > n["superieure"] > 0
    # the people of a pole commune are a few minutes from a pole of that gamme: in
    # Saint-Jean (a town of 7,500 in the valley floor) the population-weighted mean is
    # under 6 minutes (its outlying mountainside cells are farther)
    sj = d.cells[d.cells["commune_code"] == "73248"]
    mean = np.average(sj["gamme_superieure_pole_min"], weights=sj[C.POP_TOTAL])
    assert mean < 6


def test_apl_and_2sfca_are_consistent(maurienne_diagnostic):
    c = maurienne_diagnostic.cells
    # APL 0 exactly where no general practitioner is within 20 min (DREES span)
    no_gp = c["time_general_practitioner_min"] > 20
    assert (c.loc[no_gp, "apl_general_practitioner"] == 0).all()
    assert (c.loc[c["time_general_practitioner_min"] <= 10, "apl_general_practitioner"] > 0).all()


def test_priority_list(maurienne_diagnostic):
    p = maurienne_diagnostic.priority
    assert p["rank"].tolist() == list(range(1, len(p) + 1))
    assert (np.diff(p["priority_score"]) <= 0).all()
    top = p.iloc[0]
    assert top["reasons"] and "seuil" in top["reasons"]
    # Bonneval-sur-Arc (head of the valley, no doctor) is among the first five
    assert "73047" in set(p.head(5)[C.COMMUNE_CODE])


def test_exports_and_data_dictionary(maurienne_study, maurienne_diagnostic, tmp_path):
    out = tmp_path / "maurienne"
    (out).mkdir()
    (out / "old.txt").write_text("previous run")
    (out / ".accessibility-output").write_text('{"run_id": "previous"}')  # a run wrote it
    files = export_diagnostic(maurienne_study, maurienne_diagnostic, out)
    assert not (out / "old.txt").exists()  # the folder is replaced as a whole
    layers = dict(pyogrio.list_layers(files["gpkg"]))
    assert {"communes", "cells", "services", "priority", "epci_summary", "data_dictionary"} <= set(
        layers
    )
    communes = pd.read_csv(out / "communes.csv", dtype={C.COMMUNE_CODE: str})
    assert len(communes) == 53
    dictionary = pd.read_csv(out / "dictionnaire_des_donnees.csv")
    # every exported column of every table is described, in French and in English
    for table in ("communes", "cells", "services", "priority", "epci_summary"):
        exported = set(pd.read_csv(out / f"{table}.csv", nrows=1).columns) - {"lon", "lat"}
        described = set(dictionary.loc[dictionary["table"] == table, "column"])
        assert exported <= described, (table, exported - described)
    assert dictionary["description_fr"].str.len().gt(0).all()
    assert dictionary["description_en"].str.len().gt(0).all()
    assert (out / "data_dictionary.md").read_text().count("|") > 100


def test_dictionary_rejects_undocumented_columns():
    labels = {k: c.label for k, c in load_categories().items()}
    with pytest.raises(ValueError, match="no description for column 'mystery'"):
        data_dictionary({"t": ["commune_code", "mystery"]}, labels)
    d = data_dictionary({"t": ["time_france_services_min", "gamme_proximite_pole_min"]}, labels)
    assert d["unit"].tolist() == ["min", "min"]
