"""National runs: every département of metropolitan France and Corsica, on Dask.

Owns the national inputs read once and shared by every partition
(:mod:`~accessibility.national.inputs`: the communes, 1 km cells and services of France,
one road network per island), the partitioning by département with each partition's
buffer of services and roads (:mod:`~accessibility.national.partition`), the Dask client
(:mod:`~accessibility.national.cluster`), the partitioned run with retries and progress
(:mod:`~accessibility.national.run`), the national exports
(:mod:`~accessibility.national.exports`) and the whole job
(:mod:`~accessibility.national.job`, ``accessibility run --territory france``).

May import: core, inputs, network, engine, indicators, validation, planning, outputs,
pipeline (this layer sits after ``pipeline`` and before the command line). Each
partition is an ordinary territory diagnostic
(:func:`~accessibility.indicators.diagnostic.run_diagnostic`): no second engine.
"""
