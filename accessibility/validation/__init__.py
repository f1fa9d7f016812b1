"""Validation: how far the travel-time model can be trusted.

Owns the checks of the model against independent references: coarse against full road
networks (:mod:`.compare`), published lengths of well-known routes (:mod:`.routes`), the
national France Services figures (:mod:`.national`) and the population far from the
network (:mod:`.coverage`). May import core, inputs, network, engine and indicators.
"""
