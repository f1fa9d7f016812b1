"""Tests of the Travel Mapping reader (accessibility.network.travelmapping)."""

from __future__ import annotations

import io
import tarfile
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import box

from accessibility.core.errors import CorruptFileError, NetworkError, NetworkWarning
from accessibility.network.travelmapping import (
    SOURCE_NAME,
    load_sinuosity,
    read_travel_mapping,
    system_road_class,
)

URL = "http://www.openstreetmap.org/?lat={lat}&lon={lon}"
# Two routes crossing at P2 = (45.0 N, 6.1 E):
#   A1 (autoroute):  P1 (6.0 E) - P2 - P3 (6.2 E), along 45.0 N
#   D1 (departementale): Q1 (44.9 N) - P2 - +X1 (45.1 N, shaping) - ColTes (45.2 N) - Q4 (45.3 N)
# Hand count: nodes P1 P2 P3 Q1 X1 ColTes Q4 = 7; segments 2 + 4 = 6, two ways = 12 edges.
# Mountain: the Col label marks the segments between the visible waypoints around it,
# P2 ("A1", the previous visible label; +X1 is hidden) .. Q4: 3 segments.
A1 = [("D1", 45.0, 6.0), ("D1_W", 45.0, 6.1), ("End", 45.0, 6.2)]
D1 = [("Start", 44.9, 6.1), ("A1", 45.0, 6.1), ("+X1", 45.1, 6.1),
      ("ColTes", 45.2, 6.1), ("End", 45.3, 6.1)]  # fmt: skip
SIN = {"autoroute": 1.0, "nationale": 1.1, "departementale": 1.2, "mountain_pass": 1.5}
GEOD = Geod(ellps="WGS84")


class Speeds:
    """A stand-in speed table with round figures."""

    table: ClassVar[dict[str, float]] = {
        "autoroute": 100.0, "nationale": 80.0, "departementale": 50.0, "mountain_pass": 30.0
    }  # fmt: skip

    def speed_for(self, road_class: str) -> float:
        return self.table[road_class]


def _wpt(points: list[tuple[str, float, float]]) -> bytes:
    return "".join(f"{lab} {URL.format(lat=lat, lon=lon)}\n" for lab, lat, lon in points).encode()


def make_archive(path: Path) -> Path:
    members = {
        "HighwayData/hwy_data/FRA-ARA/fraa/fraara.a001.wpt": _wpt(A1),
        "HighwayData/hwy_data/FRA-ARA/fraarad73/fraara.d000173.wpt": _wpt(D1),
        # an overlay system on the same waypoints: left out by default
        "HighwayData/hwy_data/FRA-ARA/eure/fraara.e999.wpt": _wpt(A1),
        "HighwayData/hwy_data/_systems/fraa.csv": (
            "\ufeffsystemName;region;route;banner;abbrev;city;root;altRouteNames\n"
            "fraa;FRA-ARA;A1;;;;fraara.a001;\n"
        ).encode(),
        "HighwayData/hwy_data/_systems/fraarad73.csv": (
            b"systemName;region;route;banner;abbrev;city;root;altRouteNames\n"
            b"fraarad73;FRA-ARA;D1;-73;;;fraara.d000173;\n"
        ),
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return make_archive(tmp_path / "tm.tar.gz")


def geodesic(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2])


def test_counts_classes_and_refs(archive: Path) -> None:
    net = read_travel_mapping(archive, speeds=Speeds(), sinuosity=SIN)
    assert net.n_nodes == 7
    assert net.n_edges == 12
    e = net.edges
    assert set(e["ref"]) == {"A1", "D1"}  # the banner "-73" is not part of the ref
    assert set(e.loc[e["ref"] == "A1", "road_class"]) == {"autoroute"}
    assert set(e.loc[e["ref"] == "D1", "road_class"]) == {"departementale"}
    assert set(e["system"]) == {"fraa", "fraarad73"}
    assert int(e["mountain"].sum()) == 3 * 2
    # the crossing is one node of degree 4 (2 routes x 2 directions out)
    assert e["u"].value_counts().max() == 4


def test_lengths_and_times(archive: Path) -> None:
    net = read_travel_mapping(archive, speeds=Speeds(), sinuosity=SIN)
    e = net.edges
    n = net.nodes
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)

    def edge(lat0: float, lon0: float, lat1: float, lon1: float):  # type: ignore[no-untyped-def]
        x0, y0 = to_l93.transform(lon0, lat0)
        x1, y1 = to_l93.transform(lon1, lat1)
        i = int(np.argmin(np.hypot(n["x"] - x0, n["y"] - y0)))
        j = int(np.argmin(np.hypot(n["x"] - x1, n["y"] - y1)))
        row = e[(e["u"] == i) & (e["v"] == j)]
        assert len(row) == 1
        return row.iloc[0], float(np.hypot(x1 - x0, y1 - y0))

    # A1, P1-P2: 0.1 degree of longitude at 45 N is about 7.9 km; factor 1.0, 100 km/h
    row, l93 = edge(45.0, 6.0, 45.0, 6.1)
    g = geodesic(45.0, 6.0, 45.0, 6.1)
    assert 7800 < g < 8000
    assert row["straight_m"] == pytest.approx(g, rel=1e-9)
    assert row["straight_m"] == pytest.approx(l93, rel=3e-3)  # Lambert-93 scale error
    assert row["length_m"] == pytest.approx(g)
    assert row["travel_time_s"] == pytest.approx(g / (100 / 3.6))
    # D1, Q1-P2 (not a pass): factor 1.2, 50 km/h
    row, _ = edge(44.9, 6.1, 45.0, 6.1)
    g = geodesic(44.9, 6.1, 45.0, 6.1)
    assert not row["mountain"]
    assert row["length_m"] == pytest.approx(1.2 * g)
    assert row["travel_time_s"] == pytest.approx(1.2 * g / (50 / 3.6))
    # D1, ColTes-Q4 (pass): mountain factor 1.5, 30 km/h, class stays departementale
    row, _ = edge(45.2, 6.1, 45.3, 6.1)
    g = geodesic(45.2, 6.1, 45.3, 6.1)
    assert row["mountain"] and row["road_class"] == "departementale"
    assert row["length_m"] == pytest.approx(1.5 * g)
    assert row["speed_kph"] == 30.0


def test_area_keeps_segments_with_an_end_inside_or_crossing(archive: Path) -> None:
    # P3 (45.0 N, 6.2 E) alone inside: only the segment P2-P3 is kept (2 nodes, 2 edges)
    net = read_travel_mapping(
        archive, area=box(6.15, 44.95, 6.25, 45.05), speeds=Speeds(), sinuosity=SIN
    )
    assert (net.n_nodes, net.n_edges) == (2, 2)
    # no waypoint inside, but P1-P2 crosses the box
    net = read_travel_mapping(
        archive, area=box(6.04, 44.99, 6.06, 45.01), speeds=Speeds(), sinuosity=SIN
    )
    assert (net.n_nodes, net.n_edges) == (2, 2)
    assert set(net.edges["ref"]) == {"A1"}
    with pytest.raises(NetworkError, match="area"):
        read_travel_mapping(archive, area=box(0, 0, 1, 1), speeds=Speeds(), sinuosity=SIN)


def test_systems_filter(archive: Path) -> None:
    net = read_travel_mapping(archive, speeds=Speeds(), sinuosity=SIN, systems={"fraa"})
    assert (net.n_nodes, net.n_edges) == (3, 4)


def test_corrupt_archive_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(b"this is not a gzip file")
    with pytest.raises(CorruptFileError, match="broken.tar.gz"):
        read_travel_mapping(bad, speeds=Speeds(), sinuosity=SIN)
    full = make_archive(tmp_path / "t.tar.gz").read_bytes()
    cut = tmp_path / "truncated.tar.gz"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(CorruptFileError, match="truncated.tar.gz"):
        read_travel_mapping(cut, speeds=Speeds(), sinuosity=SIN)


def test_system_classes() -> None:
    assert system_road_class("fraa") == "autoroute"
    assert system_road_class("fran") == "nationale"
    for s in ("fraarad73", "fraaram42", "fraarad69m", "fragesd6ae", "fracord"):
        assert system_road_class(s) == "departementale"
    assert system_road_class("itass2") == "nationale"
    with pytest.warns(NetworkWarning, match="xyzzy"):
        assert system_road_class("xyzzy") == "departementale"


def test_bad_sinuosity_file(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("[factors]\ndepartementale = 0.8\n")
    with pytest.raises(NetworkError, match="departementale"):
        load_sinuosity(f)


# --- the real archive ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_archive() -> Path:
    from accessibility.inputs.sources import fetch

    return fetch(SOURCE_NAME)


@pytest.mark.integration
def test_maurienne(real_archive: Path) -> None:
    # clipping to the box always cuts routes into pieces: largest_component says so
    with pytest.warns(NetworkWarning, match="largest_component"):
        net = read_travel_mapping(real_archive, area=box(6.0, 45.05, 7.2, 45.45))
    refs = set(net.edges["ref"])
    # the Maurienne's N6 was handed to the département in 2006: it is the D1006 now
    assert {"A43", "D1006", "D902", "D926", "D213"} <= refs
    assert net.meta["routes_parsed"] < net.meta["routes_in_systems"] / 20
    mnt = net.edges[net.edges["mountain"]]
    assert {"D902", "D1006"} <= set(mnt["ref"])
    assert (mnt["speed_kph"] < net.edges.loc[~net.edges["mountain"], "speed_kph"].min()).all()
    assert (net.edges["length_m"] >= net.edges["straight_m"]).all()


@pytest.mark.integration
def test_whole_france(real_archive: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetworkWarning)  # Corsica and islets are cut off
        net = read_travel_mapping(real_archive)
    # 158,837 distinct coordinates in FRA-* without the overlay systems, + ~936 in
    # ITA-PIE, minus Corsica (~1,800 nodes) and small islands/ferries cut off
    assert 150_000 < net.n_nodes < 160_000
    assert net.meta["removed"]["n_nodes"] > 1_500
