"""Resolving what users type into points."""

from __future__ import annotations

import pytest

from accessibility.core.errors import DataError
from accessibility.core.names import normalise_name
from accessibility.inputs.places import resolve_place


def test_one_normaliser_for_every_place_lookup():
    assert normalise_name("Saint-Jean-de-Maurienne") == "saint jean de maurienne"
    assert normalise_name("St-Jean-de-Maurienne") == "saint jean de maurienne"
    assert normalise_name("Ste-Marie-de-Cuines") == "sainte marie de cuines"
    assert normalise_name("Val-d'Arc") == "val d arc"
    assert normalise_name("Orelle") == "orelle"


def test_lonlat_and_swapped():
    p = resolve_place("6.35,45.28")
    assert (p.point.x, p.point.y) == (6.35, 45.28)
    with pytest.raises(DataError, match="swapped"):
        resolve_place("45.28,6.35")


@pytest.mark.integration
def test_names_and_codes(paths):
    p = resolve_place("saint jean de maurienne", paths=paths)
    assert p.commune_code == "73248"
    # abbreviated as in a scenario file: the same commune (failed before one normaliser)
    assert resolve_place("St-Jean-de-Maurienne", paths=paths).commune_code == "73248"
    assert resolve_place("ste marie de cuines", paths=paths).commune_code == "73255"
    assert resolve_place("Bessans", paths=paths).commune_code == "73040"
    q = resolve_place("73248", paths=paths)
    assert q.point.equals(p.point)
    with pytest.raises(DataError, match="no commune with INSEE code 99999"):
        resolve_place("99999", paths=paths)
    with pytest.raises(DataError, match="no commune of that name"):
        resolve_place("Atlantis-sur-Arc", paths=paths)


@pytest.mark.integration
def test_ambiguous_names_list_codes_or_prefer_the_territory(paths):
    # Fourneaux is a Maurienne commune (73117) and a commune of other départements
    with pytest.raises(DataError, match=r"ambiguous: .*Fourneaux \(73117\)"):
        resolve_place("Fourneaux", paths=paths)
    p = resolve_place("Fourneaux", paths=paths, prefer=frozenset({"73117", "73248"}))
    assert p.commune_code == "73117"
