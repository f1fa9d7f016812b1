"""Population-weighted summaries of travel times (hand-computed)."""

from __future__ import annotations

import numpy as np
import pytest

from accessibility.core.errors import DataError
from accessibility.indicators.nearest import weighted_summary


def test_weighted_summary_by_hand():
    # times 10, 20, 40 min for 100, 50, 50 people; threshold 30 min
    # mean = (10*100 + 20*50 + 40*50) / 200 = 4000 / 200 = 20
    # cumulative shares 0.5, 0.75, 1.0 -> median (0.5) = 10, p90 = 40
    # beyond 30 min: the 50 people at 40 min = 25 %
    s = weighted_summary([10, 20, 40], [100, 50, 50], threshold_min=30)
    assert s.mean_min == pytest.approx(20)
    assert s.median_min == 10
    assert s.p90_min == 40
    assert s.population_beyond == 50
    assert s.share_beyond == pytest.approx(0.25)
    assert s.population_unreachable == 0


def test_unreachable_counts_beyond_but_not_in_the_mean():
    # 30 people cannot reach any service: beyond the threshold, out of the mean
    s = weighted_summary([5, np.nan], [70, 30], threshold_min=20)
    assert s.mean_min == 5
    assert s.population_unreachable == 30
    assert s.population_beyond == 30
    assert s.share_beyond == pytest.approx(0.3)


def test_time_exactly_at_threshold_is_within():
    s = weighted_summary([20.0], [10], threshold_min=20)
    assert s.population_beyond == 0


def test_bad_weights():
    with pytest.raises(DataError, match="differ in length"):
        weighted_summary([1, 2], [1], threshold_min=5)
    with pytest.raises(DataError, match=">= 0"):
        weighted_summary([1], [-1], threshold_min=5)
