"""Column names shared across the pipeline, in one place.

Each layer's column contract is documented in ``docs/data-contracts.md``.
"""

from __future__ import annotations

# --- communes -------------------------------------------------------------------------
COMMUNE_CODE = "commune_code"  # INSEE code, COG 2026 (str, 5 characters)
COMMUNE_NAME = "commune_name"
EPCI_CODE = "epci_code"  # SIREN of the EPCI (str, 9 digits)
EPCI_NAME = "epci_name"
POPULATION = "population"  # population municipale (see meta for the year)
TOWN_HALL_LON = "town_hall_lon"
TOWN_HALL_LAT = "town_hall_lat"
TOWN_HALL_HOURS = "town_hall_hours"
IN_TERRITORY = "in_territory"

# --- population cells -----------------------------------------------------------------
CELL_ID = "cell_id"  # e.g. "CRS3035RES1000mN2543000E4017000" (Eurostat grid id)
POP_TOTAL = "pop_total"
POP_UNDER15 = "pop_under15"
POP_15_64 = "pop_15_64"
POP_65PLUS = "pop_65plus"

# --- services -------------------------------------------------------------------------
SERVICE_ID = "service_id"
CATEGORY = "category"
LABEL = "label"
OPERATOR = "operator"  # who runs it, or the source when unknown
SOURCE = "source"
VINTAGE = "vintage"
COUNT = "count"
ADDRESS = "address"
HOURS = "hours"

# --- road network (edges) -------------------------------------------------------------
U = "u"
V = "v"
LENGTH_M = "length_m"
SPEED_KPH = "speed_kph"
TRAVEL_TIME_S = "travel_time_s"
ROAD_CLASS = "road_class"

# --- travel-time tables ---------------------------------------------------------------
ORIGIN_ID = "origin_id"
DESTINATION_ID = "destination_id"
TRAVEL_TIME_MIN = "travel_time_min"
SNAP_DISTANCE_M = "snap_distance_m"
NODE_ID = "node_id"

# --- snapping (accessibility.snapping) ------------------------------------------------
POINT_ID = "point_id"
OFFROAD_TIME_S = "offroad_time_s"
ALONG_EDGE_M = "along_edge_m"

# --- isochrones (accessibility.isochrones) --------------------------------------------
SITE_ID = "site_id"
MINUTES = "minutes"
