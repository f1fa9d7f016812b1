"""Territory files: parsing, selectors and bad input."""

from __future__ import annotations

import pytest

from accessibility.core.errors import TerritoryError
from accessibility.inputs.territory import load_territory, resolve_communes


def _write(tmp_path, body: str):
    f = tmp_path / "t.toml"
    f.write_text(body)
    return f


def test_shipped_territories_load():
    m = load_territory("maurienne")
    assert m.slug == "maurienne" and m.buffer_m == 30_000
    assert len(m.selectors["epci"]) == 5
    s = load_territory("savoie")
    assert s.selectors["departement"] == ("73",)


def test_unknown_territory_lists_shipped_ones():
    with pytest.raises(TerritoryError, match="maurienne"):
        load_territory("atlantis")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('slug = "x"\nname = "X"\n[communes]\n', "territory is empty"),
        ('slug = "x"\nname = "X"\n', "communes: required key is missing"),
        ('slug = "x"\nname = "X"\n[communes]\ninsee = "73248"\n', "insee: expected a list"),
        ('slug = "x"\nname = "X"\nbuffer_km = -1\n[communes]\ninsee = ["73248"]\n', "buffer_km"),
        ('slug = "x"\nname = "X"\ncolour = 1\n[communes]\ninsee = ["73248"]\n', "colour: unknown"),
        ('slug = "x"\nname = "X"\n[communes]\ncommune = ["73248"]\n', r"communes\].commune: unkn"),
        ('slug = "x"\nname = \n', "not valid TOML"),
    ],
)
def test_bad_territory_files(tmp_path, body, message):
    with pytest.raises(TerritoryError, match=message) as info:
        load_territory(str(_write(tmp_path, body)))
    assert "t.toml" in str(info.value)


@pytest.mark.integration
def test_unknown_insee_code_is_named_with_its_successor(tmp_path, paths):
    # 73002 (Aiguebelle) merged into Val-d'Arc (73212) in 2019
    f = _write(tmp_path, 'slug = "x"\nname = "X"\n[communes]\ninsee = ["73248", "73002"]\n')
    with pytest.raises(TerritoryError, match=r"insee.*73002.*73002->73212"):
        resolve_communes(load_territory(str(f)), paths)


@pytest.mark.integration
def test_expected_count_is_checked(tmp_path, paths):
    f = _write(
        tmp_path,
        'slug = "x"\nname = "X"\n[communes]\ninsee = ["73248"]\nexpected_count = 2\n',
    )
    with pytest.raises(TerritoryError, match="selects 1 communes, expected_count is 2"):
        resolve_communes(load_territory(str(f)), paths)


@pytest.mark.integration
def test_maurienne_is_arrondissement_733(paths):
    """The five EPCI of the Pays de Maurienne are exactly arrondissement 733 (MANIFEST)."""
    by_epci = resolve_communes(load_territory("maurienne"), paths)
    f_arr = load_territory("maurienne").file.parent / "savoie.toml"
    assert f_arr.is_file()
    import dataclasses

    by_arr = resolve_communes(
        dataclasses.replace(
            load_territory("maurienne"),
            selectors={"arrondissement": ("733",), "epci": (), "insee": (), "departement": ()},
        ),
        paths,
    )
    assert by_epci == by_arr
    assert len(by_epci) == 53
    assert len(resolve_communes(load_territory("savoie"), paths)) == 273
