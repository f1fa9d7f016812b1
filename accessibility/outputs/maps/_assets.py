"""Offline map assets: folium's CDN links replaced by inlined copies from installed packages.

folium links Leaflet, jQuery, Bootstrap, Font Awesome and Leaflet.awesome-markers from
CDNs. The atlas uses only Leaflet (maps, vectors, tooltips, layer control) and jQuery
(folium's ``Popup`` builds its content with ``$()``); both are inlined from the PyPI
XStatic packages installed with the project (``XStatic-Leaflet``, ``XStatic-jQuery``), at
the versions folium expects. The other libraries are left out: the maps use circle
markers and DivIcon labels, never awesome-markers icons. :func:`inline_assets` refuses any
remaining external script or stylesheet, so a map never silently needs the internet.
"""

from __future__ import annotations

import base64
import functools
import importlib
import re
from pathlib import Path

#: The folium resources the atlas keeps, as (kind, xstatic module, file in its data folder).
_KEEP = {
    "leaflet": ("js", "xstatic.pkg.leaflet", "leaflet.js"),
    "leaflet_css": ("css", "xstatic.pkg.leaflet", "leaflet.css"),
    "jquery": ("js", "xstatic.pkg.jquery", "jquery.min.js"),
}

#: The folium resources dropped (unused by the atlas, see the module docstring).
_DROP = ("bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers",
         "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css")

_TAG = re.compile(
    r"""<script[^>]*\bsrc=["'](?P<js>[^"']+)["'][^>]*>\s*</script>"""
    r"""|<link[^>]*\bhref=["'](?P<css>[^"']+)["'][^>]*/?>"""
)


def _data_dir(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        package = "XStatic-" + module.rsplit(".", 1)[-1].capitalize()
        raise ImportError(
            f"offline maps need the {module} package: pip install {package} "
            "(pinned in requirements.lock)"
        ) from exc
    return Path(mod.BASE_DIR)


@functools.cache
def asset_text(name: str) -> str:
    """The content of a kept resource (``'leaflet'``, ``'leaflet_css'``, ``'jquery'``).

    Leaflet's stylesheet refers to its control images (``images/layers.png``...): they
    are embedded as data URIs so the file stands alone.
    """
    _kind, module, filename = _KEEP[name]
    folder = _data_dir(module)
    text = (folder / filename).read_text(encoding="utf-8")
    if filename.endswith(".css"):

        def embed(match: re.Match[str]) -> str:
            image = folder / match.group(1)
            data = base64.b64encode(image.read_bytes()).decode("ascii")
            return f"url(data:image/png;base64,{data})"

        text = re.sub(r"url\((images/[\w.-]+\.png)\)", embed, text)
    return text


def keep_only_offline_resources(m) -> None:  # type: ignore[no-untyped-def]
    """Restrict ``m``'s default resources to those the atlas inlines (see module docstring)."""
    m.default_js = [(n, u) for n, u in m.default_js if n in _KEEP]
    m.default_css = [(n, u) for n, u in m.default_css if n in _KEEP]
    known = set(_KEEP) | set(_DROP)
    unknown = [n for n, _ in (*type(m).default_js, *type(m).default_css) if n not in known]
    if unknown:  # a newer folium needs something new: fail loudly rather than go online
        raise RuntimeError(f"folium needs resources unknown to the offline atlas: {unknown}")


def inline_assets(html: str, urls: dict[str, str]) -> str:
    """Replace the ``<script src>`` / stylesheet ``<link>`` tags of ``urls`` by inline copies.

    Parameters
    ----------
    html
        A rendered folium page.
    urls
        Resource URL -> name of a kept resource (from the map's ``default_js/css``).

    Raises
    ------
    ValueError
        When the page still links any other external script or stylesheet.
    """

    def replace(match: re.Match[str]) -> str:
        url = match.group("js") or match.group("css")
        if url in urls:
            name = urls[url]
            body = asset_text(name).replace("</script", "<\\/script")
            if _KEEP[name][0] == "js":
                return f"<script>/* {name}, inlined for offline use */\n{body}\n</script>"
            return f"<style>/* {name}, inlined for offline use */\n{body}\n</style>"
        if url.startswith(("http:", "https:", "//")):
            raise ValueError(
                f"the map links an external resource {url!r}: it would not load offline"
            )
        return match.group(0)

    return _TAG.sub(replace, html)
