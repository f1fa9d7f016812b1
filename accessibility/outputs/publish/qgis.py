"""QGIS project files (.qgs) for a run: on the GeoPackage, or on the PostGIS layers.

Owns: :func:`project_layers` (the layers of the project: French names, the atlas's
classes and colours as QGIS renderers, the dictionary as field aliases and abstracts),
:func:`write_project` (the XML) and the two sources :func:`gpkg_source` and
:func:`postgis_source`.

Written as plain XML (ElementTree) so that the tool needs no QGIS to write them; the
tests open them with QGIS's own reader. Styles follow the atlas
(:mod:`accessibility.outputs.maps.kinds`): access times in :data:`TIME_BINS_MIN` classes
and colours (unreachable in grey), priority scores in the classes of
:func:`priority_classes`, services by category in :func:`service_styles` colours. QGIS's
graduated ranges are ``lower < v <= upper`` while the atlas's classes are
``lower <= v < upper``: each upper limit is written as the float just below the break,
so a value exactly on a break falls in the same class as on the atlas.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from accessibility.outputs.maps.kinds import (
    NO_ACCESS_COLOR,
    NO_ACCESS_LABEL,
    TIME_BINS_MIN,
    priority_classes,
    service_styles,
    time_classes,
)
from accessibility.outputs.publish.texts import Index, describe, dictionary_index, table_title

#: Categories with a layer of their own (the atlas's first access layers).
TIME_LAYERS = ("france_services", "emergency", "general_practitioner", "post_office",
               "childcare")
#: matplotlib marker codes of the atlas -> QGIS simple marker (shape, rotation).
MARKERS = {"o": ("circle", 0), "P": ("cross_fill", 0), "s": ("square", 0),
           "D": ("diamond", 0), "^": ("triangle", 0), "v": ("triangle", 180),
           "X": ("cross_fill", 45), "h": ("hexagon", 0)}
#: Upper limit of the last (open) class.
OPEN_TOP = 1e9
#: Source of a layer: (provider, datasource) for a published name.
Source = Callable[[str, "str | None", "int | None"], tuple[str, str]]


@dataclass(frozen=True)
class Style:
    """A renderer: ``graduated`` (ranges of ``attr``) or ``categorized`` (values of
    ``attr``) or ``single``; ``classes`` are (lower, upper, colour, label) or
    (value, colour, label, marker)."""

    kind: str
    attr: str = ""
    classes: tuple = ()


@dataclass(frozen=True)
class Layer:
    """One layer of a project."""

    table: str
    name: str
    geometry: str | None  # "Polygon", "Point" or None (a table)
    srid: int | None
    style: Style
    aliases: Mapping[str, str] = field(default_factory=dict)
    abstract: str = ""
    visible: bool = True


def _rgba(color: str) -> str:
    c = color.lstrip("#")
    return ",".join(str(int(c[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"


def time_style(column: str) -> Style:
    """The atlas's access-time classes on ``column`` (unreachable: NULL, in grey)."""
    classes_ = time_classes([])
    uppers = [math.nextafter(b, -math.inf) for b in TIME_BINS_MIN[1:]] + [OPEN_TOP]
    lowers = [-1.0, *uppers[:-1]]
    classes = [(-1.0, -1.0, NO_ACCESS_COLOR, NO_ACCESS_LABEL)]
    classes += list(zip(lowers, uppers, classes_.colors, classes_.labels, strict=True))
    return Style("graduated", f'coalesce("{column}", -1)', tuple(classes))


def priority_style(scores: Sequence[float]) -> Style:
    """The atlas's priority classes (whole points, white for 0) for these scores: each
    class's upper limit is the highest whole score (or the top score) that
    :func:`priority_classes` puts in it, so the two never disagree."""
    vals = [float(s) for s in scores if s == s]
    top = max([*vals, 1.0])
    probes = [*range(1, math.floor(top) + 1), top]
    cls = priority_classes([*vals, *probes])
    index = cls.index[len(vals):]
    classes = [(0.0, 0.0, cls.colors[0], cls.labels[0])]
    lower = 0.0
    for i in range(1, len(cls.colors)):
        upper = max(p for p, k in zip(probes, index, strict=True) if k == i)
        classes.append((lower, float(upper), cls.colors[i], cls.labels[i]))
        lower = float(upper)
    return Style("graduated", "priority_score", tuple(classes))


def services_style(categories: Sequence[str], labels: Mapping[str, str]) -> Style:
    styles = service_styles(categories)
    return Style("categorized", "category", tuple(
        (k, styles[k][0], labels.get(k, k), styles[k][1]) for k in categories))


def _aliases(table: str, columns: Sequence[str], index: Index) -> dict[str, str]:
    out = {}
    for col in columns:
        found = describe(table, col, index)
        if found is not None:
            out[col] = found[0]
    return out


def project_layers(frames: Mapping[str, pd.DataFrame], dictionary: pd.DataFrame,
                   labels: Mapping[str, str], *, note: str = "",
                   srids: Mapping[str, int] | None = None) -> list[Layer]:
    """The layers of a run's project (top of the legend first): services, priority,
    one access-time layer of cells per main category (France Services shown), communes,
    and the summary tables. ``srids``: the CRS of each spatial table in the source
    (default EPSG:2154 for all, as in the GeoPackage)."""
    srids = srids or {}
    index = dictionary_index(dictionary)

    def mk(table: str, name: str, style: Style, geometry: str | None,
           visible: bool = True) -> Layer:
        cols = [c for c in frames[table].columns if c != "geometry"]
        srid = srids.get(table, 2154) if geometry is not None else None
        abstract = f"{table_title(table)}. {note}".strip()
        return Layer(table, name, geometry, srid, style, _aliases(table, cols, index),
                     abstract, visible)

    out = []
    svc = frames["services"]
    present = [k for k in labels if k in set(svc["category"])]
    present += sorted(set(svc["category"]) - set(present))
    out.append(mk("services", "Services et équipements", services_style(present, labels),
                  "Point", visible=False))
    out.append(mk("communes", "Communes prioritaires (score de priorité)",
                  priority_style(frames["communes"].get("priority_score",
                                                        pd.Series([0.0])).tolist()),
                  "Polygon", visible=False))
    first = True
    for key in TIME_LAYERS:
        col = f"time_{key}_min"
        if col not in frames["cells"].columns:
            continue
        label = labels.get(key, key)
        out.append(mk("cells", f"Temps d'accès : {label} (carreaux)", time_style(col),
                      "Polygon", visible=first))
        first = False
    if "time_france_services_min" in frames["communes"].columns:
        out.append(mk("communes", "Temps d'accès moyen : France Services (communes)",
                      time_style("time_france_services_min"), "Polygon", visible=False))
    for table, name in (("territory_summary", "Synthèse du territoire"),
                        ("epci_summary", "Synthèse par EPCI"),
                        ("data_dictionary", "Dictionnaire des données")):
        if table in frames:
            out.append(mk(table, name, Style("single"), None))
    return out


def _symbol(parent: ET.Element, name: str, geometry: str, color: str,
            marker: str = "o") -> None:
    kind = "marker" if geometry == "Point" else "fill"
    sym = ET.SubElement(parent, "symbol", name=name, type=kind, alpha="1",
                        clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(sym, "layer", {"class": "SimpleMarker" if kind == "marker"
                                         else "SimpleFill", "enabled": "1", "locked": "0",
                                         "pass": "0"})
    opts = ET.SubElement(layer, "Option", type="Map")
    props = {"color": _rgba(color)}
    if kind == "marker":
        shape, angle = MARKERS.get(marker, ("circle", 0))
        props.update(name=shape, angle=str(angle), size="2.4", outline_color="35,35,35,255",
                     outline_width="0.2")
    else:
        props.update(style="solid", outline_color="255,255,255,255", outline_width="0.1",
                     outline_style="solid")
    for k, v in props.items():
        ET.SubElement(opts, "Option", name=k, value=v, type="QString")


def _renderer(ml: ET.Element, layer: Layer) -> None:
    st = layer.style
    geometry = layer.geometry or "Polygon"
    if st.kind == "graduated":
        r = ET.SubElement(ml, "renderer-v2", type="graduatedSymbol", attr=st.attr,
                          graduatedMethod="GraduatedColor", symbollevels="0",
                          forceraster="0", enableorderby="0")
        ranges, symbols = ET.SubElement(r, "ranges"), ET.SubElement(r, "symbols")
        for i, (lo, hi, color, label) in enumerate(st.classes):
            ET.SubElement(ranges, "range", lower=repr(float(lo)), upper=repr(float(hi)),
                          symbol=str(i), label=label, render="true")
            _symbol(symbols, str(i), geometry, color)
    elif st.kind == "categorized":
        r = ET.SubElement(ml, "renderer-v2", type="categorizedSymbol", attr=st.attr,
                          symbollevels="0", forceraster="0", enableorderby="0")
        cats, symbols = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
        for i, (value, color, label, marker) in enumerate(st.classes):
            ET.SubElement(cats, "category", value=value, symbol=str(i), label=label,
                          render="true")
            _symbol(symbols, str(i), geometry, color, marker)
    elif layer.geometry is not None:
        r = ET.SubElement(ml, "renderer-v2", type="singleSymbol", symbollevels="0",
                          forceraster="0", enableorderby="0")
        _symbol(ET.SubElement(r, "symbols"), "0", geometry, "#bdbdbd")


def _srs(parent: ET.Element, srid: int) -> None:
    ref = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(ref, "authid").text = f"EPSG:{srid}"


def _maplayer(root: ET.Element, layer: Layer, lid: str, provider: str, source: str) -> None:
    geometry = layer.geometry or "No geometry"
    ml = ET.SubElement(root, "maplayer", type="vector", geometry=geometry,
                       wkbType=layer.geometry or "NoGeometry", styleCategories="AllStyleCategories")
    ET.SubElement(ml, "id").text = lid
    ET.SubElement(ml, "datasource").text = source
    ET.SubElement(ml, "layername").text = layer.name
    if layer.srid is not None:
        _srs(ET.SubElement(ml, "srs"), layer.srid)
    meta = ET.SubElement(ml, "resourceMetadata")
    ET.SubElement(meta, "type").text = "dataset"
    ET.SubElement(meta, "language").text = "fra"
    ET.SubElement(meta, "title").text = layer.name
    ET.SubElement(meta, "abstract").text = layer.abstract
    ET.SubElement(ml, "provider", encoding="UTF-8").text = provider
    _renderer(ml, layer)
    aliases = ET.SubElement(ml, "aliases")
    for i, (fld, alias) in enumerate(layer.aliases.items()):
        ET.SubElement(aliases, "alias", field=fld, index=str(i), name=alias)


def write_project(path: Path, layers: Sequence[Layer], source: Source, *, title: str) -> Path:
    """Write the project ``path`` (atomically); ``source(table, geometry, srid)`` gives
    each layer's (provider, datasource)."""
    from accessibility.core.files import atomic_write

    root = ET.Element("qgis", projectname=title, version="3.22.16-Białowieża")
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), 2154)
    tree = ET.SubElement(root, "layer-tree-group")
    projectlayers = ET.SubElement(root, "projectlayers")
    for layer in layers:
        lid = f"{layer.table}_{uuid.uuid5(uuid.NAMESPACE_URL, layer.name).hex[:12]}"
        provider, datasource = source(layer.table, layer.geometry, layer.srid)
        ET.SubElement(tree, "layer-tree-layer", id=lid, name=layer.name, source=datasource,
                      providerKey=provider, expanded="0",
                      checked="Qt::Checked" if layer.visible else "Qt::Unchecked")
        _maplayer(projectlayers, layer, lid, provider, datasource)
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    text = ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            + ET.tostring(root, encoding="unicode") + "\n")
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
    return Path(path)


def gpkg_source(gpkg: Path) -> Source:
    """Layers read from the GeoPackage beside the project (a relative path)."""
    def source(table: str, geometry: str | None, srid: int | None) -> tuple[str, str]:
        return "ogr", f"./{Path(gpkg).name}|layername={table}"
    return source


def postgis_source(conn: Mapping[str, str], schema: str) -> Source:
    """Layers read from the ``<table>_latest`` views of ``schema`` (key ``fid``);
    ``conn`` is :func:`~accessibility.outputs.publish.postgis.dsn_parts` (no password)."""
    def q(v: str) -> str:
        return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"

    base = " ".join(f"{k}={q(v)}" for k, v in conn.items() if v)

    def source(table: str, geometry: str | None, srid: int | None) -> tuple[str, str]:
        view = f'table="{schema}"."{table}_latest"'
        if geometry is None:
            return "postgres", f"{base} key='fid' checkPrimaryKeyUnicity='0' {view}"
        gtype = "Point" if geometry == "Point" else "MultiPolygon"
        return "postgres", (f"{base} key='fid' checkPrimaryKeyUnicity='0' srid={srid} "
                            f"type={gtype} {view} (geom)")
    return source


def write_run_projects(gpkg: Path, frames: Mapping[str, pd.DataFrame],
                       dictionary: pd.DataFrame, labels: Mapping[str, str], *,
                       title: str) -> Path:
    """The project beside a run's GeoPackage: ``<gpkg stem>.qgs`` in the same folder."""
    layers = project_layers(frames, dictionary, labels,
                            note="Données de la GeoPackage voisine (accessibility run).")
    return write_project(Path(gpkg).with_suffix(".qgs"), layers, gpkg_source(gpkg),
                         title=title)
