"""Priority scores and their French reasons, on a hand-made table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accessibility.core.errors import DataError, DataWarning
from accessibility.indicators.priority import (
    Criterion,
    Tier,
    load_criteria,
    load_tiers,
    rank_communes,
    score,
    tier_of,
)

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


TIERS = (Tier("p1", "Priorité 1", 6), Tier("watch", "À surveiller", 3))


def test_tiers_by_hand():
    # scores 6, 0, 6, 3 (see above): A and C reach 6, D reaches 3 only, B none
    r = rank_communes(_table(), [FS, APL, OLD], TIERS)
    assert dict(zip(r["commune_code"], r["priority_tier"], strict=True)) == {
        "A": "Priorité 1", "C": "Priorité 1", "D": "À surveiller",
    }  # fmt: skip
    assert tier_of(np.array([5.99, 6.0, 2.9, 0.0]), TIERS).tolist() == [
        "À surveiller", "Priorité 1", "", "",
    ]  # fmt: skip


def test_shipped_tiers_and_bad_tier_files(tmp_path):
    tiers = load_tiers()
    assert [t.key for t in tiers] == ["priority_1", "watch"]
    assert all(t.rule for t in tiers), "each shipped tier states its rule"
    crit = '[[criterion]]\nkey="x"\ncolumn="c"\nweight=1\nabove=1\nreason_fr="r"\n'
    bad = tmp_path / "p.toml"
    bad.write_text(crit + '[[tier]]\nkey="a"\nlabel_fr="A"\nmin_score=2\n'
                   '[[tier]]\nkey="b"\nlabel_fr="B"\nmin_score=5\n')  # fmt: skip
    with pytest.raises(DataError, match="decreasing min_score"):
        load_tiers(bad)
    bad.write_text(crit + '[[tier]]\nkey="a"\nlabel_fr="A"\nmin_score=0\n')
    with pytest.raises(DataError, match="min_score"):
        load_tiers(bad)
