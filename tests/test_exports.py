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


def test_dictionary_markdown_escapes_names(tmp_path):
    from accessibility.outputs.exports import _dictionary_markdown

    d = pd.DataFrame([{"table": "communes", "column": "time_x_min",
                       "description_fr": "Temps : <script>alert(1)</script> | a",
                       "description_en": "line\nbreak", "unit": "min", "source": "s",
                       "vintage": "2024"}])
    text = _dictionary_markdown(d, "Pays <b>", tmp_path).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# Data dictionary — Pays &lt;b&gt;"
    assert text.splitlines()[-1] == (
        "| communes | `time_x_min` | Temps : &lt;script&gt;alert(1)&lt;/script&gt; \\| a | "
        "line break | min | s | 2024 |"
    )
