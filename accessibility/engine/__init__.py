"""Engine: travel times on a road network.

Owns: joining points to the network (:mod:`.snapping`), shortest-path times, OD
matrices and routes (:mod:`.travel_times`), many-to-many searches in bounded blocks
(:mod:`.blocks`, the engine's memory model), isochrones (:mod:`.isochrones`), the
long-table/matrix converter (:mod:`.matrix`) and the :class:`~.study.Study` container. Takes
and returns in-memory objects (GeoDataFrames, a :class:`~accessibility.network.RoadNetwork`,
long travel-time tables); never reads source files.

May import: :mod:`accessibility.core`, :mod:`accessibility.inputs` (layer types),
:mod:`accessibility.network`.
"""
