"""Validation: how far the model's travel times are from better references.

Owns the calibration of the coarse (Travel Mapping) model against full road networks
(:mod:`~accessibility.validation.truth`: the truth regions;
:mod:`~accessibility.validation.calibrate`: routing both networks, the fit, the
leave-one-region-out errors; :mod:`~accessibility.engine.access_model`: the fitted
parameters of ``data/network/access.toml``), the INSEE gammes' sensitivity to their
composition and to the road network (:mod:`~accessibility.validation.gammes_check`) and
the checks of the validation report (``accessibility validate``): coarse against full
network on a territory (:mod:`~accessibility.validation.compare`), published lengths of
well-known routes (:mod:`~accessibility.validation.routes`), the national France Services
figures (:mod:`~accessibility.validation.national`) and the population far from the
network (:mod:`~accessibility.validation.coverage`).

May import: core, inputs, network, engine, indicators (this layer sits after
indicators and before planning).
"""
