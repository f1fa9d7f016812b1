"""Planning: what-if questions on top of the diagnostic.

Owns: facility-location models (:mod:`.siting`), road and service scenarios and the
seasons (:mod:`.scenarios`), site scenarios and the project sheet (:mod:`.sites`),
itinerant tours (:mod:`.tours`), and the plain result types the outputs render
(:mod:`.results`). Computes; never renders (no HTML, maps or report here).

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs`,
:mod:`accessibility.network`, :mod:`accessibility.engine`,
:mod:`accessibility.indicators`.
"""
