"""Outputs: what people read and reuse.

Owns: the data exports and their dictionary (:mod:`.exports`, :mod:`.dictionary`), the
offline atlas (:mod:`.maps`: ``kinds`` says what each map kind shows, for the atlas and
the report alike) and the printable report (:mod:`.report`). Renders what the
computation layers produced; computes no indicator of its own. Every name reaching a
page is escaped for its context (:mod:`accessibility.core.escape`); folders are
replaced only through :mod:`accessibility.core.outputs`.

May import: every layer below it (core, inputs, network, engine, indicators,
planning).
"""
