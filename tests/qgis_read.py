"""Open a QGIS project with QGIS's own reader and print what it loaded, as JSON.

Run by the tests with the system Python that carries QGIS (``/usr/bin/python3``, Debian's
``python3-qgis``), never imported by the project's venv: ``QT_QPA_PLATFORM=offscreen
/usr/bin/python3 tests/qgis_read.py project.qgs``.
"""

import json
import sys

from qgis.core import QgsApplication, QgsProject

app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
ok = project.read(sys.argv[1])
layers = []
for layer in project.mapLayers().values():
    renderer = layer.renderer() if hasattr(layer, "renderer") else None
    classes = []
    if renderer is not None and hasattr(renderer, "ranges"):
        classes = [[r.lowerValue(), r.upperValue(), r.symbol().color().name(), r.label()]
                   for r in renderer.ranges()]
    elif renderer is not None and hasattr(renderer, "categories"):
        classes = [[c.value(), c.symbol().color().name(), c.label()]
                   for c in renderer.categories()]
    fields = layer.fields()
    layers.append({
        "name": layer.name(),
        "valid": layer.isValid(),
        "provider": layer.providerType(),
        "features": layer.featureCount() if layer.isValid() else -1,
        "crs": layer.crs().authid(),
        "renderer": renderer.type() if renderer is not None else None,
        "classes": classes,
        "aliases": {fields.at(i).name(): layer.attributeAlias(i) for i in range(fields.count())},
        "abstract": layer.metadata().abstract(),
    })
print(json.dumps({"read": ok, "layers": layers}, ensure_ascii=False))
app.exitQgis()
