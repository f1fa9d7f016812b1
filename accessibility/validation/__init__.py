"""Validation: the model's results held against variants and independent references.

Owns: the INSEE gammes' sensitivity to their composition and to the road network
(:mod:`.gammes_check`).

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs`,
:mod:`accessibility.network`, :mod:`accessibility.engine`,
:mod:`accessibility.indicators`.
"""
