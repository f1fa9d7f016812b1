"""French number formatting for the steering committee's outputs (maps, report, captions).

French typography: decimal comma, a narrow no-break space (U+202F) between thousands,
a no-break space before ``%`` and units.
"""

from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: thousands separator
NBSP = "\u00a0"  # no-break space: before % and units


def num(value: float, decimals: int = 0) -> str:
    """``1234.5`` -> ``'1 234,5'`` (with narrow no-break spaces); NaN -> ``'n.d.'``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def pct(share: float, decimals: int = 0) -> str:
    """``0.314`` -> ``'31 %'``."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "n.d."
    return f"{num(100 * share, decimals)}{NBSP}%"


def minutes(value: float) -> str:
    """``34.2`` -> ``'34 min'``; minutes under 10 keep one decimal (``'7,5 min'``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "inaccessible"
    return f"{num(value, 1 if value < 10 else 0)}{NBSP}min"
