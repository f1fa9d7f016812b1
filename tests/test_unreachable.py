"""Unreachable cells are reported beside every commune mean, never silently dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility.core import columns as C
from accessibility.indicators.diagnostic import _commune_table, unreachable_column


def test_unreachable_column_names():
    assert unreachable_column("time_hospital_min") == "time_hospital_unreachable_pop"
    assert unreachable_column("gamme_proximite_pole_min") == "gamme_proximite_pole_unreachable_pop"
    assert (
        unreachable_column("fca2_general_practitioner_per_100k")
        == "fca2_general_practitioner_unreachable_pop"
    )
    assert (
        unreachable_column("apl_general_practitioner") == "apl_general_practitioner_unreachable_pop"
    )


def test_commune_mean_reports_the_population_it_leaves_out():
    # commune A: 100 inhabitants at 10 min, 50 who reach no service (NaN);
    # commune B: 30 inhabitants at 20 min
    cells = pd.DataFrame(
        {
            C.COMMUNE_CODE: ["A", "A", "B"],
            C.POP_TOTAL: [100.0, 50.0, 30.0],
            C.POP_65PLUS: [10.0, 5.0, 3.0],
            C.POP_UNDER15: [20.0, 10.0, 6.0],
            "time_x_min": [10.0, np.nan, 20.0],
        }
    )
    communes = pd.DataFrame({C.COMMUNE_CODE: ["A", "B"]})
    out = _commune_table(cells, communes, [{"indicator": "time_x_min", "threshold_min": 15}])
    # A: the mean is over the 100 who reach one (10 min); the 50 others are reported
    assert out.loc["A", "time_x_min"] == 10
    assert out.loc["A", "time_x_unreachable_pop"] == 50
    # unreachable counts as beyond the threshold
    assert out.loc["A", "time_x_beyond_pop"] == 50
    assert out.loc["B", "time_x_min"] == 20
    assert out.loc["B", "time_x_unreachable_pop"] == 0
    assert out.loc["B", "time_x_beyond_pop"] == 30
    assert out.loc["A", "share_65plus"] == pytest.approx(15 / 150)


def test_a_commune_nobody_can_leave_has_no_mean_and_all_its_people_reported():
    cells = pd.DataFrame(
        {
            C.COMMUNE_CODE: ["A"],
            C.POP_TOTAL: [40.0],
            C.POP_65PLUS: [0.0],
            C.POP_UNDER15: [0.0],
            "time_x_min": [np.nan],
        }
    )
    out = _commune_table(cells, pd.DataFrame({C.COMMUNE_CODE: ["A"]}), [])
    assert np.isnan(out.loc["A", "time_x_min"])
    assert out.loc["A", "time_x_unreachable_pop"] == 40


@pytest.mark.integration
def test_real_commune_tables_carry_the_unreachable_population(maurienne_diagnostic):
    d = maurienne_diagnostic
    cells, communes = d.cells, d.communes.set_index(C.COMMUNE_CODE)
    means = [
        c for c in communes.columns if c.startswith(("time_", "gamme_")) and c.endswith("_min")
    ]
    assert len(means) > 20
    for col in means:
        lost = cells.loc[cells[col].isna(), C.POP_TOTAL].groupby(cells[C.COMMUNE_CODE]).sum()
        got = communes[unreachable_column(col)]
        assert got.sum() == pytest.approx(lost.sum()), col
    # and the territory summary agrees with the communes for every indicator
    terr = d.territory.set_index("indicator")
    for col in terr.index:
        assert communes[unreachable_column(col)].sum() == pytest.approx(
            terr.loc[col, "population_unreachable"]
        ), col
