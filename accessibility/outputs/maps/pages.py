"""Writing the atlas pages: one self-contained HTML file per map, and the index.

Owns: :func:`render_offline` (a map as one HTML page, assets inlined, element ids made
deterministic), :func:`save_map` and :func:`write_index`. folium names every element
with 32 random hexadecimal digits (``map_3f9a...``); :func:`render_offline` renumbers
them in their order of appearance, so the same map gives the same bytes at every run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import folium

from accessibility.core.escape import html_attr, html_text
from accessibility.core.files import atomic_write
from accessibility.outputs.maps._assets import inline_assets
from accessibility.outputs.maps.base import MAP_CAPTIONS_FR, MAP_TITLES_FR

#: folium / branca element ids: ``_`` and 32 hexadecimal digits (``Element._generate_id``).
_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])")


def deterministic_ids(page: str) -> str:
    """Replace each random element id of a rendered page by its rank of appearance
    (``map_3f9a...`` -> ``map_00000000000000000000000000000001``).

    The ids keep their length, so nothing else in the page moves.
    """
    ranks: dict[str, str] = {}

    def rank(m: re.Match[str]) -> str:
        return ranks.setdefault(m[0], f"{len(ranks) + 1:032x}")

    return _ELEMENT_ID.sub(rank, page)


def render_offline(m: folium.Map) -> str:
    """The map as one self-contained HTML page (layer control added if missing), with
    deterministic element ids."""
    if not any(isinstance(c, folium.LayerControl) for c in m._children.values()):
        folium.LayerControl(collapsed=False).add_to(m)
    urls = {u: n for n, u in (*m.default_js, *m.default_css)}
    page = m.get_root().render()
    return deterministic_ids(inline_assets(page, urls))


def save_map(m: folium.Map, path: Path | str) -> Path:
    """Write ``m`` as a self-contained HTML file, atomically."""
    page = render_offline(m)
    return atomic_write(Path(path), lambda p: p.write_text(page, encoding="utf-8"))


def write_index(maps: Mapping[str, Path], out_dir: Path | str, *, territory_name: str,
                attribution: str = "", titles: Mapping[str, str] | None = None,
                captions: Mapping[str, str] | None = None) -> Path:
    """``index.html``: a link to each map with its one-line French caption.

    ``titles`` and ``captions`` add to (or override) the standard maps' ones.
    """
    out_dir = Path(out_dir)
    titles = {**MAP_TITLES_FR, **(titles or {})}
    captions = {**MAP_CAPTIONS_FR, **(captions or {})}
    items = "\n".join(
        f'<li><a href="{html_attr(Path(p).name)}">{html_text(titles.get(k, k))}</a>'
        f" : {html_text(captions.get(k, ''))}</li>"
        for k, p in maps.items()
    )
    name = html_text(territory_name)
    page = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Atlas de l'accessibilité : {name}</title>
<style>body {{ font: 15px/1.5 sans-serif; max-width: 46em; margin: 2em auto; }}</style>
</head><body>
<h1>Atlas de l'accessibilité aux services : {name}</h1>
<p>Cartes interactives, utilisables hors ligne (le fond de carte OpenStreetMap, facultatif,
demande une connexion).</p>
<ul>
{items}
</ul>
<p><small>{html_text(attribution)}</small></p>
</body></html>
"""
    return atomic_write(out_dir / "index.html",
                        lambda p: p.write_text(page, encoding="utf-8"))
