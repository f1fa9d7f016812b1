"""French number formatting, checked character by character."""

from accessibility.core import fr as _fr


def test_numbers():
    assert _fr.num(1234.5, 1) == "1\u202f234,5"
    assert _fr.num(42890) == "42\u202f890"
    assert _fr.num(float("nan")) == "n.d."


def test_percent_and_minutes():
    assert _fr.pct(0.314) == "31\u00a0%"
    assert _fr.pct(0.314, 1) == "31,4\u00a0%"
    assert _fr.minutes(34.2) == "34\u00a0min"
    assert _fr.minutes(7.46) == "7,5\u00a0min"
    assert _fr.minutes(float("nan")) == "inaccessible"
