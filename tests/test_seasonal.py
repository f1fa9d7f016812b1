"""Tests of accessibility.inputs.seasonal: secondary homes, classified beds, peak population."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from accessibility.core import columns as C
from accessibility.core.errors import DataWarning
from accessibility.inputs.seasonal import (
    SeasonParameters,
    read_classified_beds,
    read_secondary_homes,
    seasonal_population,
)

FIX = Path(__file__).parent / "fixtures"
# 73056 (Lanslebourg-Mont-Cenis) merged into Val-Cenis (73290)
CODE_MAP = {"73306": "73306", "73290": "73290", "73056": "73290"}
NAMES = pd.DataFrame(
    [("valloire", "73306", "73450"), ("val cenis", "73290", "73480"),
     ("val cenis", "73290", "73500"), ("lanslevillard", "73290", "73480"),
     ("paris", "75056", "75001")],
    columns=["key", C.COMMUNE_CODE, "postcode"],
)
COMMUNES = pd.DataFrame({C.COMMUNE_CODE: ["73306", "73290"],
                         C.COMMUNE_NAME: ["Valloire", "Val-Cenis"], C.POPULATION: [400, 0]})
PARAMS = SeasonParameters(4.0, 0.5, 0.8)


def _inputs():
    homes = read_secondary_homes(FIX / "scn_comparateur.zip", code_map=CODE_MAP)
    with pytest.warns(DataWarning, match="Nowhere-les-Bains"):
        beds, unmatched = read_classified_beds(COMMUNES, FIX / "scn_hebergements.csv", names=NAMES)
    return homes, beds, unmatched


def test_secondary_homes_are_summed_into_current_communes():
    homes = read_secondary_homes(FIX / "scn_comparateur.zip", code_map=CODE_MAP)
    h = homes.set_index(C.COMMUNE_CODE)["secondary_homes"]
    assert h["73306"] == 3000 and h["73290"] == 100 + 400


def test_beds_matched_by_postcode_and_former_names():
    _, beds, unmatched = _inputs()
    b = beds.set_index(C.COMMUNE_CODE)["classified_beds"]
    assert b["73306"] == 100 and b["73290"] == 200  # LANSLEVILLARD is a former commune
    assert list(unmatched["COMMUNE"]) == ["Nowhere-les-Bains"]  # PARIS: not our postcode


def test_peak_population_by_hand():
    homes, beds, unmatched = _inputs()
    cells = gpd.GeoDataFrame(
        {C.CELL_ID: ["a", "b", "c", "d"], C.COMMUNE_CODE: ["73306", "73306", "73290", "73290"],
         C.POP_TOTAL: [300.0, 100.0, 0.0, 0.0]},
        geometry=[Point(i, 0) for i in range(4)], crs="EPSG:2154",
    )
    s = seasonal_population(cells, COMMUNES, PARAMS, homes=homes, beds=beds, unmatched=unmatched)
    # Valloire: 3000 homes × 4 × 0.5 + 100 beds × 0.8 = 6080 visitors, split 3:1
    # Val-Cenis: 500 × 4 × 0.5 + 200 × 0.8 = 1160, no resident: split evenly
    assert list(s.cells["visitors"]) == pytest.approx([4560, 1520, 580, 580])
    assert list(s.cells[C.POP_TOTAL]) == pytest.approx([4860, 1620, 580, 580])
    assert list(s.cells["pop_resident"]) == [300, 100, 0, 0]
    c = s.communes.set_index(C.COMMUNE_CODE)
    assert c.loc["73306", "peak_population"] == pytest.approx(6480)


def test_bad_parameters():
    from accessibility.core.errors import DataError

    with pytest.raises(DataError, match="secondary_home_occupancy"):
        SeasonParameters.from_mapping({"persons_per_secondary_home": 4,
                                       "secondary_home_occupancy": 1.5,
                                       "classified_bed_occupancy": 0.5}, "winter.toml")


@pytest.mark.integration
def test_maurienne_winter_peak(maurienne, paths):
    from accessibility.planning.scenarios import load_scenario

    with pytest.warns(DataWarning, match="match no commune name"):
        s = seasonal_population(maurienne.cells, maurienne.communes,
                                load_scenario("winter").population, paths=paths)
    c = s.communes.set_index(C.COMMUNE_NAME)
    assert c["peak_population"].sum() > c["resident_population"].sum()
    assert "Les Belleville" not in c.index  # Val Thorens is in Tarentaise, not here
    # independent check in the INSEE file: these resorts have more secondary homes
    # than the Maurienne's median commune, and more than their residents
    homes = read_secondary_homes(paths=paths).set_index(C.COMMUNE_CODE)["secondary_homes"]
    for code in ("73306", "73290", "73235", "73280"):  # Valloire, Val-Cenis, St-François, St-Sorlin
        assert homes[code] > 1000
        name = maurienne.communes.set_index(C.COMMUNE_CODE).loc[code, C.COMMUNE_NAME]
        assert c.loc[name, "visitors"] > c.loc[name, "resident_population"]
    assert s.cells[C.POP_TOTAL].sum() == pytest.approx(
        s.cells["pop_resident"].sum() + s.communes["visitors"].sum(), rel=1e-9)
