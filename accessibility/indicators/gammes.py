"""INSEE gammes d'équipements: access to the proximité, intermédiaire, supérieure gammes.

What is implemented (see ``docs/indicators.md`` for the sources and the limits):

* **Pole of a gamme**: a commune that hosts at least half of the gamme's equipment types
  (INSEE's rule for the "pôles de services" of the 2012 bassins de vie: a commune or
  urban unit with at least 16 of the 31 equipment types of the gamme intermédiaire).
  Here it is applied commune by commune to each gamme, on the BPE 2013 counts.
* **Time to the gamme** (``gamme_<g>_pole_min``): car time from a place to the town hall of
  the nearest pole of the gamme (0 for a pole commune's own town hall, plus the place's
  own access leg). Equipment is located at the town hall, as INSEE's commune-level method
  does.
* **Mean time to the gamme's equipment** (``gamme_<g>_mean_min``): for each equipment type
  of the gamme, the time to the nearest commune that has it; averaged over the types
  (types absent from the whole study area are left out and reported).
* **Far from a gamme**: beyond INSEE's thresholds, 7 (proximité), 15 (intermédiaire) and
  30 minutes (supérieure).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from accessibility.core import columns as C
from accessibility.core.paths import Paths, default_paths
from accessibility.engine.snapping import DEFAULT_SNAP, SnapOptions
from accessibility.inputs.communes import current_code_map, load_town_halls
from accessibility.inputs.services import BPE_2013, GAMMES, _read_bpe2013_table, load_gammes
from accessibility.inputs.sources import fetch
from accessibility.network.graph import RoadNetwork

log = logging.getLogger(__name__)

#: INSEE's thresholds for "far from" each gamme, minutes.
GAMME_THRESHOLDS_MIN = {"proximite": 7.0, "intermediaire": 15.0, "superieure": 30.0}
GAMME_LABELS_FR = {
    "proximite": "gamme de proximité",
    "intermediaire": "gamme intermédiaire",
    "superieure": "gamme supérieure",
}


def bpe_counts(paths: Paths | None = None) -> pd.DataFrame:
    """BPE 2013 counts per current (COG 2026) commune, one column per equipment label.

    Counts of communes merged since 2013 are summed into their current commune.
    """
    paths = paths or default_paths()
    table = _read_bpe2013_table(fetch(BPE_2013, paths))
    code_map = current_code_map(paths)
    labels = [c for c in table.columns if c != "depcom"]
    numbers = table[labels].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    numbers[C.COMMUNE_CODE] = table["depcom"].map(code_map)
    return numbers.dropna(subset=[C.COMMUNE_CODE]).groupby(C.COMMUNE_CODE).sum()


@dataclass(frozen=True)
class GammeAccess:
    """Times to each gamme, for the origins given."""

    times: pd.DataFrame
    """One row per origin: ``gamme_<g>_pole_min`` and ``gamme_<g>_mean_min``."""
    poles: dict[str, list[str]]
    """Pole communes of each gamme within the study area."""
    missing_types: dict[str, list[str]]
    """Equipment types of each gamme found nowhere in the study area."""


def gamme_access(
    net: RoadNetwork,
    origins: gpd.GeoDataFrame,
    *,
    origin_id: str,
    area: gpd.GeoSeries,
    paths: Paths | None = None,
    snap: SnapOptions = DEFAULT_SNAP,
    access_points: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] | None = None,
) -> GammeAccess:
    """Time from ``origins`` to the poles and equipment of each INSEE gamme.

    Parameters
    ----------
    origins
        Points (cells' demand points, or town halls) with a unique ``origin_id``.
    area
        The territory and its buffer (one or more polygons, any CRS): the communes whose
        town hall lies inside are the candidate poles and equipment places.
    snap, access_points
        The study's snapping options and the function giving a point layer what its
        access model reads (:meth:`accessibility.engine.study.Study.access_points`).
    """
    from accessibility.indicators.nearest import Reach

    paths = paths or default_paths()
    counts = bpe_counts(paths)
    halls = load_town_halls(paths).to_crs(net.crs)
    zone = area.to_crs(net.crs).union_all()
    halls = halls[halls.within(zone) & halls[C.COMMUNE_CODE].isin(counts.index)]
    halls = halls.reset_index(drop=True)
    counts = counts.loc[halls[C.COMMUNE_CODE]]
    if access_points is not None:
        halls = access_points(halls)
    reach = Reach(
        net, origins, halls, origin_id=origin_id, destination_id=C.COMMUNE_CODE, snap=snap
    )
    gammes = load_gammes(paths.data / "services" / "categories.toml")
    out = pd.DataFrame({origin_id: origins[origin_id].to_numpy()})
    poles: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    for g in GAMMES:
        labels = [e.label for e in gammes.get(g, ()) if e.label in counts.columns]
        if not labels:
            continue
        present = counts[labels].to_numpy() > 0
        need = math.ceil(len(labels) / 2)
        is_pole = present.sum(axis=1) >= need
        poles[g] = halls.loc[is_pole, C.COMMUNE_CODE].tolist()
        out[f"gamme_{g}_pole_min"] = reach.nearest_min(is_pole)
        per_type = [
            reach.nearest_min(present[:, j]) for j in range(len(labels)) if present[:, j].any()
        ]
        missing[g] = [lab for j, lab in enumerate(labels) if not present[:, j].any()]
        out[f"gamme_{g}_mean_min"] = np.mean(per_type, axis=0) if per_type else np.nan
        log.info(
            "gamme %s: %d types, %d poles in the study area", g, len(labels), int(is_pole.sum())
        )
    return GammeAccess(times=out, poles=poles, missing_types=missing)
