"""The winter/summer comparison compares the same cells with the same weights (issue 12).

The old comparison took each season's commune means as the diagnostic gives them:
weighted by residents + that season's visitors, over the cells that had a time in that
season. More visitors in winter near a fast road, or a cell cut off by a closure, could
then make a commune "faster in winter" although winter only closes and slows roads
(Saint François Longchamp, emergency care, « 2.5 min plus rapide en hiver »). Now both
means are over the cells with a time in both seasons, weighted by residents; visitors
and the people with no route are reported on their own columns.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

try:
    from accessibility.core import columns as C
except ModuleNotFoundError:  # the old layout (commit 9ad74fd), for the before/after check
    from accessibility import columns as C  # type: ignore[no-redef]

IND = "time_emergency_min"


def _api(name: str, new: str, old: str):
    """``name`` from module ``new``, or from ``old`` when the test runs on the old code
    (``PYTHONPATH=/work/wt-old``, commit 9ad74fd, before the subpackages)."""
    try:
        return getattr(importlib.import_module(new), name)
    except ModuleNotFoundError:
        return getattr(importlib.import_module(old), name)


def _compare():
    return _api("compare", "accessibility.planning.scenarios", "accessibility.scenarios")


def _diag(times, pop_total, commune_mean, beyond, epci_beyond, epci_unreachable):
    """One commune (X, in EPCI E) of three cells with 100, 100 and 50 residents; the
    commune figures are those the diagnostic computes (weighted by ``pop_total`` over
    the cells with a time), given here by hand."""
    cells = pd.DataFrame({C.CELL_ID: ["c1", "c2", "c3"], C.COMMUNE_CODE: "X"})
    cells[C.POP_TOTAL] = pop_total
    cells["pop_resident"] = [100.0, 100.0, 50.0]
    cells[IND] = times
    communes = pd.DataFrame({C.COMMUNE_CODE: ["X"], C.COMMUNE_NAME: ["Station"]})
    communes[C.EPCI_CODE] = "E"
    communes[IND] = commune_mean
    communes["time_emergency_beyond_pop"] = beyond
    epci = pd.DataFrame({C.EPCI_CODE: ["E"], C.EPCI_NAME: ["CC"], "indicator": [IND]})
    epci["threshold_min"] = 30.0
    epci["population_beyond"] = epci_beyond
    epci["population_unreachable"] = epci_unreachable
    indicators = pd.DataFrame({"indicator": [IND], "threshold_min": [30.0]})
    return SimpleNamespace(cells=cells, communes=communes, epci=epci, indicators=indicators)


def test_same_cells_same_weights_by_hand():
    """Summer: c1 10 min, c2 30, c3 40, no visitors. Winter: c1 10, c2 32, c3 cut off
    (no route), and 1,000 skiers in c1. The old commune mean went from 24.0 (all three
    by residents) to (10 x 1,100 + 32 x 100) / 1,200 = 11.8: « 12 min faster ». On the
    same cells (c1, c2) with the residents as weights: 20.0 -> 21.0 (+1.0), with the 50
    residents of c3 without a route in winter, and the 1,000 visitors on their own."""
    summer = _diag([10.0, 30.0, 40.0], [100.0, 100.0, 50.0], 24.0, 50.0, 50.0, 0.0)
    winter = _diag(
        [10.0, 32.0, np.nan], [1100.0, 100.0, 50.0], 14200.0 / 1200.0, 150.0, 150.0, 50.0
    )
    c = _compare()(summer, winter, labels=("summer", "winter"))
    for level in ("commune", "epci"):
        row = c[c["level"] == level].iloc[0]
        assert row["summer_min"] == pytest.approx(20.0)
        assert row["winter_min"] == pytest.approx(21.0)
        assert row["change_min"] == pytest.approx(1.0)
        assert row["summer_unreachable_pop"] == 0.0
        assert row["winter_unreachable_pop"] == 50.0
        # residents beyond 30 min or without a route: c3 in summer; c2 and c3 in winter
        assert row["summer_beyond_pop"] == 50.0
        assert row["winter_beyond_pop"] == 150.0
        assert row["summer_visitors_pop"] == 0.0
        assert row["winter_visitors_pop"] == 1000.0
        assert row["winter_visitors_beyond_pop"] == 0.0  # the skiers are 10 min away


@pytest.mark.integration
@pytest.mark.slow
def test_maurienne_winter_is_never_faster_than_summer(maurienne_study, known_warnings):
    """Winter only closes passes and slows roads (data/scenarios/winter.toml), so no
    cell, commune or EPCI reaches any category faster than in summer."""
    from accessibility.pipeline import scenario_of

    run_diagnostic = _api(
        "run_diagnostic", "accessibility.indicators.diagnostic", "accessibility.diagnostic"
    )
    load_scenario = _api(
        "load_scenario", "accessibility.planning.scenarios", "accessibility.scenarios"
    )
    winter = load_scenario("winter")
    only_closes = (
        not winter.links
        and all(e.action in ("remove", "close") for e in winter.services)
        and all((e.factor or 1.0) <= 1.0 and e.kph is None for e in winter.speeds)
    )
    assert only_closes, "winter.toml no longer only closes and slows: this test's premise"
    diags = {}
    for season in ("summer", "winter"):
        with known_warnings("unmatched_beds"):
            study, _ = scenario_of(maurienne_study, season)
        with known_warnings("far_origins", "far_destinations"):
            diags[season] = run_diagnostic(study)
    ds, dw = diags["summer"], diags["winter"]
    cols = [c for c in ds.cells.columns if c.startswith(("time_", "gamme_")) and c.endswith("_min")]
    a = ds.cells.set_index(C.CELL_ID)[cols].to_numpy(float)
    b = dw.cells.set_index(C.CELL_ID)[cols].reindex(ds.cells[C.CELL_ID]).to_numpy(float)
    both = np.isfinite(a) & np.isfinite(b)
    assert (b[both] >= a[both] - 1e-9).all(), "a cell reaches something faster in winter"
    assert not (np.isnan(a) & np.isfinite(b)).any(), "a cell gains a route in winter"
    c = _compare()(ds, dw, labels=("summer", "winter"))
    assert set(c["indicator"]) >= {"time_emergency_min", "time_france_services_min"}
    assert len(c[c["level"] == "commune"]) == 53 * c["indicator"].nunique()
    changes = c.dropna(subset=["change_min"])
    faster = changes[changes["change_min"] < -1e-9]
    assert faster.empty, faster[["level", "name", "indicator", "change_min"]].to_string()
    assert (changes["change_beyond_pop"] >= -1e-9).all()
    sfl = c[(c["name"] == "Saint François Longchamp") & (c["indicator"] == IND)].iloc[0]
    assert sfl["change_min"] > 0  # the Madeleine closes above the resort
    assert sfl["winter_visitors_pop"] > sfl["summer_visitors_pop"] > 0
