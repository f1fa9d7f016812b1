"""Place names compared as people write them: one normaliser for every place lookup.

Owns: :func:`normalise_name` ("St-Jean d'Arves" == "Saint Jean d Arves"). Imports
nothing of the project.
"""

from __future__ import annotations

import re
import unicodedata


def normalise_name(text: str) -> str:
    """Lower case, no accents, hyphens/apostrophes/spaces collapsed: ``"St-Jean d'Arves"``.

    ``"Saint"``/``"Sainte"`` abbreviations (``St``, ``Ste``) are expanded.
    """
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    t = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", t))
    return t
