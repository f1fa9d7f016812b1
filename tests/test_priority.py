"""Priority scores and their French reasons, on a hand-made table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility.core.errors import DataError, DataWarning
from accessibility.indicators.priority import Criterion, load_criteria, rank_communes, score

FS = Criterion(
    key="fs",
    column="time_france_services_min",
    above=20,
    weight=3,
    format="minutes",
    reason_fr="France Services à {value} (seuil {threshold})",
)
APL = Criterion(
    key="apl",
    column="apl_general_practitioner",
    below=2.5,
    weight=2,
    format="num1",
    reason_fr="{value} consultations/hab./an de généraliste (sous-dense < {threshold})",
)
OLD = Criterion(
    key="old",
    column="share_65plus",
    above=0.25,
    weight=1,
    format="pct",
    reason_fr="{value} de 65 ans et plus",
)


def _table():
    return pd.DataFrame(
        {
            "commune_code": ["A", "B", "C", "D"],
            "commune_name": ["Aa", "Bb", "Cc", "Dd"],
            "epci_name": ["E1", "E1", "E2", "E2"],
            "population": [100, 2000, 50, 300],
            "time_france_services_min": [34.2, 10.0, np.nan, 25.0],
            "apl_general_practitioner": [2.1, 3.0, 1.0, 4.0],
            "share_65plus": [0.31, 0.10, 0.40, 0.20],
        }
    )


def test_scores_and_reasons_by_hand():
    s = score(_table(), [FS, APL, OLD])
    # A: FS 34 > 20 (3) + APL 2.1 < 2.5 (2) + 31 % > 25 % (1) = 6
    # B: nothing; C: unreachable FS (3) + APL 1.0 (2) + 40 % (1) = 6; D: FS 25 > 20 (3)
    assert s["priority_score"].tolist() == [6, 0, 6, 3]
    assert s.loc[0, "reasons"] == (
        "France Services à 34\u00a0min (seuil 20\u00a0min) ; "
        "2,1 consultations/hab./an de généraliste (sous-dense < 2,5) ; "
        "31\u00a0% de 65 ans et plus"
    )
    assert s.loc[2, "reasons"].startswith("France Services à inaccessible")


def test_ranking_breaks_ties_by_population():
    r = rank_communes(_table(), [FS, APL, OLD])
    # A and C both score 6: A (100 inhabitants) before C (50); then D; B is not listed
    assert r["commune_code"].tolist() == ["A", "C", "D"]
    assert r["rank"].tolist() == [1, 2, 3]


def test_missing_indicator_is_skipped_with_a_warning():
    t = _table().drop(columns="apl_general_practitioner")
    with pytest.warns(DataWarning, match="apl"):
        s = score(t, [FS, APL])
    assert s["priority_score"].tolist() == [3, 0, 3, 3]


def test_shipped_criteria_load_and_bad_files(tmp_path):
    crits = load_criteria()
    assert {c.key for c in crits} >= {"france_services", "general_practitioner_apl"}
    bad = tmp_path / "p.toml"
    bad.write_text('[[criterion]]\nkey="x"\ncolumn="c"\nweight=1\nreason_fr="r"\n')
    with pytest.raises(DataError, match="exactly one of 'above' or 'below'"):
        load_criteria(bad)
    bad.write_text('[[criterion]]\nkey="x"\ncolumn="c"\nweight=0\nabove=1\nreason_fr="r"\n')
    with pytest.raises(DataError, match=r"\.weight: expected greater than 0"):
        load_criteria(bad)
