"""Inputs: from published files to checked, in-memory layers of a territory.

Owns: the source catalogue and fetch layer (:mod:`.sources`), territories
(:mod:`.territory`), communes and town halls (:mod:`.communes`), population grids
(:mod:`.population`), services (:mod:`.services`), seasonal population
(:mod:`.seasonal`), place lookup (:mod:`.places`) and the prepared layers
(:mod:`.layers`). Only this layer (and :mod:`accessibility.network`'s readers) reads
source files.

May import: :mod:`accessibility.core`.
"""
