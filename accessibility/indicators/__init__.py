"""Indicators: what the travel times mean for people.

Owns: time to the nearest service and population summaries (:mod:`.nearest`), INSEE
gammes (:mod:`.gammes`), catchment indicators 2SFCA / E2SFCA / APL
(:mod:`.catchment`) and their distance decays (:mod:`.decay`), priority criteria and
scores (:mod:`.priority`), and the whole diagnostic of a territory (:mod:`.diagnostic`).

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs`,
:mod:`accessibility.network`, :mod:`accessibility.engine`.
"""
