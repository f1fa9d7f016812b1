"""Atomic writes: a failing writer leaves the previous file intact and no temp file."""

from __future__ import annotations

import pandas as pd
import pytest

from accessibility.core.files import atomic_write, write_table


def test_failed_write_keeps_previous_version(tmp_path):
    target = tmp_path / "out.csv"
    write_table(pd.DataFrame({"a": [1]}), target)
    before = target.read_text()

    def broken(p):
        p.write_text("half-written")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.csv"]


def test_write_table_round_trip(tmp_path):
    df = pd.DataFrame({"origin_id": ["a", "b"], "travel_time_min": [1.5, float("nan")]})
    out = write_table(df, tmp_path / "t.parquet")
    back = pd.read_parquet(out)
    assert back["travel_time_min"].isna().tolist() == [False, True]
