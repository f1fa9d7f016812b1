"""Outputs: what people read and reuse.

Owns: the data exports and their dictionary (:mod:`.exports`, :mod:`.dictionary`), the
offline atlas (:mod:`.maps`) and the printable report (:mod:`.report`). Renders what
the computation layers produced; computes no indicator of its own.

May import: every layer below it (core, inputs, network, engine, indicators,
planning).
"""
