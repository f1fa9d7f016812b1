"""Property-based tests of the candidates reader: any file either reads or raises the
project's own error naming the file; never a traceback from pandas or pyogrio."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
from hypothesis import given, settings
from hypothesis import strategies as st

from accessibility.core.errors import AccessibilityError
from accessibility.planning.candidates import read_candidates

# characters that matter to a CSV parser, plus letters, digits and accents
FIELD = st.text(alphabet=st.sampled_from(list('ab1-.,;"\n\r\t é€NnaA0 ')), max_size=12)
HEADERS = st.sampled_from(["id,label,lon,lat", "id,label,lat", "label,lon,lat,id", "", "id"])


def _read(name: str, payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        try:
            out = read_candidates(path)
        except AccessibilityError as exc:
            assert name in str(exc), str(exc)  # the message names the file
            return
        assert isinstance(out, gpd.GeoDataFrame)
        assert list(out.columns) == ["site_id", "label", "geometry"]
        assert len(out) > 0 and out["site_id"].is_unique
        assert (out.geom_type == "Point").all()


@settings(max_examples=150, deadline=None, database=None)
@given(HEADERS, st.lists(st.tuples(FIELD, FIELD, FIELD, FIELD), max_size=4))
def test_any_csv_reads_or_raises_the_projects_error(header, rows):
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    _read("cands.csv", text.encode())


@settings(max_examples=60, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_any_bytes_as_csv_or_geojson(payload):
    _read("cands.csv", payload)
    _read("cands.geojson", payload)


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.sampled_from(['{"type": "FeatureCollection", "features": [', '{"type": "Feature"']),
    st.text(alphabet=st.sampled_from(list('{}[]":,0123456789. abcdeilnoprty')), max_size=80),
)
def test_broken_geojson_is_the_projects_error(head, tail):
    _read("cands.geojson", (head + tail).encode())
