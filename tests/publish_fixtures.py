"""Hand-made small publications whose content (and differences) are known by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from accessibility.outputs.dictionary import data_dictionary
from accessibility.outputs.publish.source import Publication


def small_publication(*, services=("s1", "s2"), times=(5.0, 12.0), scores=(6.0, 0.0),
                      scenario: str = "", extra: dict | None = None) -> Publication:
    """Two communes, two 1 km cells (made square in EPSG:3035, exported in 2154 as ``run``
    does), services at known places, the summaries; ``times`` are France Services times
    of the two communes, ``scores`` their priority scores."""
    communes = gpd.GeoDataFrame(
        {"commune_code": ["73001", "73002"], "commune_name": ["Aiton", "Bessans"],
         "population": [100, 200], "time_france_services_min": list(times),
         "priority_score": list(scores),
         "priority_tier": ["Priorité 1" if s >= 6 else "" for s in scores]},
        geometry=[box(950000, 6500000, 951000, 6501000),
                  box(951000, 6500000, 953000, 6501000)], crs=2154)
    cells = gpd.GeoDataFrame(
        {"cell_id": ["CRS3035RES1000mN2500000E4000000", "CRS3035RES1000mN2500000E4001000"],
         "pop_total": [60.0, 240.0], "commune_code": ["73001", "73002"],
         "time_france_services_min": [times[0], float("nan")]},
        geometry=[box(4000000, 2500000, 4001000, 2501000),
                  box(4001000, 2500000, 4002000, 2501000)], crs=3035).to_crs(2154)
    where = {"s1": (950500, 6500500), "s2": (952000, 6500500), "s3": (951500, 6500500)}
    services_gdf = gpd.GeoDataFrame(
        {"service_id": [f"france_services/test:{s}" for s in services],
         "category": ["france_services"] * len(services),
         "label": [f"France Services {s}" for s in services], "in_territory": True},
        geometry=[Point(*where[s]) for s in services], crs=2154)
    prio = communes[communes["priority_score"] > 0][
        ["commune_code", "commune_name", "priority_score", "priority_tier", "geometry"]]
    prio = prio.assign(rank=range(1, len(prio) + 1), reasons="France Services à plus de 30 min")
    tables = {
        "territory_summary": pd.DataFrame(
            {"indicator": ["time_france_services_min"], "label_fr": ["France Services"],
             "mean_min": [(100 * times[0] + 200 * times[1]) / 300]}),
        "indicators": pd.DataFrame(
            {"indicator": ["time_france_services_min"], "label_fr": ["France Services"],
             "threshold_min": [30.0]}),
        "sources": pd.DataFrame({"path": ["communes/x.geojson"], "vintage": ["2026"],
                                 "sha256": ["ab" * 32]}),
        **(extra or {}),
    }
    spatial = {"communes": communes, "cells": cells, "services": services_gdf,
               "priority": gpd.GeoDataFrame(prio, geometry="geometry", crs=2154)}
    dictionary = data_dictionary(
        {k: v.columns for k, v in {**spatial, **tables}.items()
         if k != "sources" and k not in (extra or {})},
        {"france_services": "France Services"})
    return Publication(territory="test", scenario=scenario, spatial=spatial, tables=tables,
                       dictionary=dictionary,
                       parameters={"territory": "test", "scenario": scenario},
                       run_at="2026-12-06T10:00:00Z", folder="hand-made")
