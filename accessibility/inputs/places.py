"""Turn what a user types (a commune name, an INSEE code, ``lon,lat``) into a point."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shapely.geometry import Point

from accessibility.core import columns as C
from accessibility.core.errors import DataError
from accessibility.core.names import normalise_name
from accessibility.core.paths import Paths
from accessibility.inputs.communes import load_town_halls

_LONLAT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_CODE = re.compile(r"^\s*(\d[0-9AB]\d{3})\s*$")


@dataclass(frozen=True)
class Place:
    """A resolved place: a WGS84 point and how it was found."""

    label: str
    point: Point  # EPSG:4326
    commune_code: str | None = None


def resolve_place(
    text: str, *, paths: Paths | None = None, prefer: frozenset[str] = frozenset()
) -> Place:
    """Resolve ``text`` to a point: ``lon,lat``, an INSEE code, or a commune name.

    Communes are placed at their town hall. A name shared by several communes is
    resolved to the one in ``prefer`` (e.g. the territory's communes) when exactly one
    is there; otherwise the error lists the candidates with their codes.
    """
    m = _LONLAT.match(text)
    if m:
        lon, lat = float(m[1]), float(m[2])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise DataError(f"place {text!r}: longitude,latitude out of range")
        if abs(lat) < abs(lon) and 41 <= lon <= 52:
            raise DataError(
                f"place {text!r}: expected longitude,latitude (e.g. 6.35,45.28); "
                "the values look swapped"
            )
        return Place(label=f"{lon:.5f},{lat:.5f}", point=Point(lon, lat))
    halls = load_town_halls(paths)
    m = _CODE.match(text)
    if m:
        hit = halls[halls[C.COMMUNE_CODE] == m[1]]
        if hit.empty:
            raise DataError(f"place {text!r}: no commune with INSEE code {m[1]} in COG 2026")
        row = hit.iloc[0]
        return Place(
            f"{row[C.COMMUNE_NAME]} ({row[C.COMMUNE_CODE]})", row.geometry, row[C.COMMUNE_CODE]
        )
    # the project's one name normaliser: "St-Jean-de-Maurienne" = "Saint Jean de Maurienne"
    folded = halls[C.COMMUNE_NAME].astype(str).map(normalise_name)
    hit = halls[folded == normalise_name(text)]
    if len(hit) > 1 and prefer:
        preferred = hit[hit[C.COMMUNE_CODE].isin(prefer)]
        if len(preferred) == 1:
            hit = preferred
    if hit.empty:
        raise DataError(
            f"place {text!r}: no commune of that name (COG 2026); give an INSEE code or lon,lat"
        )
    if len(hit) > 1:
        options = ", ".join(
            f"{n} ({c})" for n, c in zip(hit[C.COMMUNE_NAME], hit[C.COMMUNE_CODE], strict=True)
        )
        raise DataError(f"place {text!r} is ambiguous: {options}; give the INSEE code")
    row = hit.iloc[0]
    return Place(
        f"{row[C.COMMUNE_NAME]} ({row[C.COMMUNE_CODE]})", row.geometry, row[C.COMMUNE_CODE]
    )
