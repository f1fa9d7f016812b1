"""Class speeds of the speed table against the legal limits tagged in OpenStreetMap.

Owns the check of ``data/network/speeds.toml`` on the OSM extracts of the mirror
(Andorra, Liechtenstein): per OSM ``highway`` class, the length-weighted median of the
``maxspeed`` tags, that limit times the table's maxspeed factor (OSRM car's
``speed_reduction``), and the table's class speed used where no tag exists. Travel
Mapping does not cover these countries (its archive here is France only), so they check
speeds only, not the coarse model.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.paths import Paths, default_paths
from accessibility.inputs.sources import fetch
from accessibility.network.osm import read_osm
from accessibility.network.speeds import load_speed_table
from accessibility.validation.calibrate import weighted_median

EXTRACTS = {
    "Andorra": "roads/osm/andorra.osm.pbf",
    "Liechtenstein": "roads/osm/liechtenstein-latest.osm.pbf",
}
CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
           "residential")  # fmt: skip


def class_speeds_vs_maxspeed(paths: Paths | None = None) -> pd.DataFrame:
    """One row per extract and OSM class: tagged share, median limit, table speed."""
    paths = paths or default_paths()
    table = load_speed_table()
    rows = []
    for country, source in EXTRACTS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = read_osm(fetch(source, paths)).edges
        for cls in CLASSES:
            m = (e[C.ROAD_CLASS] == cls).to_numpy()
            if not m.any():
                continue
            length = e.loc[m, C.LENGTH_M].to_numpy(float)
            limit = e.loc[m, "maxspeed_kph"].to_numpy(float)
            tagged = np.isfinite(limit)
            rows.append({
                "extract": country,
                "osm_class": cls,
                "directed_km": length.sum() / 1000,
                "tagged_pct": 100 * length[tagged].sum() / length.sum(),
                "median_maxspeed_kph": weighted_median(limit[tagged], length[tagged]),
                "median_x_factor_kph": table.maxspeed_factor
                * weighted_median(limit[tagged], length[tagged]),
                "table_kph": table.speed_for(cls),
            })  # fmt: skip
    return pd.DataFrame(rows)
