"""Escaping by context: one helper per place a string can land in a page we write.

Owns: :func:`html_text`, :func:`html_attr`, :func:`js_string`, :func:`js_template` and
:func:`terminal_text`.
Every name that reaches a page (commune names, service labels, candidate labels,
scenario names, user files) is untrusted: it goes through the helper of the context it
lands in, never through ``html.escape`` alone (which leaves a backtick and ``${`` alive
inside a JavaScript template literal, where folium puts tooltips and popups). Imports
nothing of the project.

=====================  =========================================================
where the text lands   helper
=====================  =========================================================
HTML element content   :func:`html_text`
HTML attribute value   :func:`html_attr` (always quote the attribute)
JS string literal      :func:`js_string` (returns the literal, quotes included)
JS template literal    :func:`js_template` (HTML then template escaping: for the
                       folium ``Tooltip`` / ``Popup`` text, read back as HTML)
a terminal             :func:`terminal_text` (control characters shown, not run)
=====================  =========================================================
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pandas as pd

#: What an empty or missing value reads as on a page.
MISSING = "—"


def _str(value: Any) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return MISSING
    return str(value)


def html_text(value: Any) -> str:
    """``value`` as HTML element content: ``&``, ``<`` and ``>`` become entities (quotes
    mean nothing there; use :func:`html_attr` inside an attribute).

    ``None`` and NaN read as « — ».
    """
    return html.escape(_str(value), quote=False)


def html_attr(value: Any) -> str:
    """``value`` for a quoted HTML attribute (``href="..."``): the same entities, quotes
    included, so the value cannot close its attribute."""
    return html.escape(_str(value), quote=True)


def js_string(value: Any) -> str:
    """A JavaScript string literal (with its double quotes) holding ``value``.

    JSON is a subset of JavaScript; ``<``, ``>``, ``&`` and ``'`` are written as
    ``\\uXXXX`` so the literal can neither close a ``<script>`` element nor start an HTML
    comment, and U+2028/U+2029 are escaped by ``ensure_ascii``.
    """
    text = json.dumps(_str(value), ensure_ascii=True)
    for ch in "<>&'`":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def js_template(value: Any) -> str:
    """``value`` for the inside of a JavaScript template literal that is then read as
    HTML (folium's ``Tooltip`` and ``Popup`` put their text in `` `...` ``).

    The text is HTML-escaped first (it is shown as HTML), then the characters that
    mean something in a template literal are escaped: backslash, backtick and ``$``
    (so ``${...}`` is never evaluated). ``</`` cannot appear any more (``<`` is an
    entity), so the literal cannot close its ``<script>`` element.
    """
    return js_template_html(html_text(value))


def js_template_html(markup: str) -> str:
    """Trusted HTML ``markup`` (built by us, its data parts already escaped with
    :func:`html_text`) made safe for the inside of a JavaScript template literal."""
    return (
        markup.replace("\\", "\\\\")
        .replace("`", "\\`")
        .replace("$", "\\$")
        .replace("</", "<\\/")
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(value: Any) -> str:
    """``value`` for a terminal line: control characters (ANSI escapes, carriage
    returns, bells) are written as ``\\xNN`` instead of acting on the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", _str(value).replace("\n", " "))
