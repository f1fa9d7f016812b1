"""Publishing a diagnostic for an observatory: PostGIS with dated versions, QGIS projects.

Owns: reading what ``run`` wrote into one publication (:mod:`.source`: layers, tables,
data dictionary, run id, parameters and source vintages), writing it into a PostGIS
schema per territory in one transaction (:mod:`.postgis`), comparing two published runs
(:mod:`.compare`) and the QGIS project files, next to the GeoPackage or on the PostGIS
layers (:mod:`.qgis`, plain XML: QGIS is not needed to write them). The database is an
output: nothing is computed there that Python already computed.

May import: every layer below it (core, inputs, network, engine, indicators,
planning) and the other output modules (the dictionary, the atlas's classes).
"""
