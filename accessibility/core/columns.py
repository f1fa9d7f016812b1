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
HOURS = "hours"  # opening hours as the source gives them (accessibility.inputs.hours)
HOURS_NOTE = "hours_note"  # the source's free comment on its hours (appointments, weeks)

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

# --- snapping (accessibility.engine.snapping) ------------------------------------------------
POINT_ID = "point_id"
OFFROAD_TIME_S = "offroad_time_s"
ALONG_EDGE_M = "along_edge_m"

# --- isochrones (accessibility.engine.isochrones) --------------------------------------------
SITE_ID = "site_id"
MINUTES = "minutes"

# --- siting results -------------------------------------------------------------------
DEMAND_ID = "demand_id"
# SITE_ID ("site_id", defined above with the isochrones) names the chosen site
SHARE = "share"  # fraction of a demand point's weight assigned to the site (capacities)
COVERED = "covered"  # True when the travel time is within the coverage threshold

# --- itinerant tours (accessibility.planning.tours) ----------------------------------------
STOP_ID = "stop_id"  # a candidate stop of an itinerant service (an id of the time matrix)
PRIORITY = "priority"  # weight multiplying a stop's population in the tour's prize
MANDATORY = "mandatory"  # True when the stop must be visited
STOP_MINUTES = "stop_minutes"  # time spent at a stop, set-up included (minutes)

# --- supply against demand (accessibility.indicators.catchment) ----------------------------------
SUPPLY = "supply"  # capacity of a site (practitioners, FTE, consultations a year, ...)
WEIGHTED_DEMAND = "weighted_demand"  # decay-weighted population within a site's reach
SUPPLY_RATIO = "supply_ratio"  # R_j = supply / weighted demand (NaN: no demand in reach)
ACCESSIBILITY = "accessibility"  # A_i = sum of decayed R_j: supply per inhabitant
STANDARDISED_POPULATION = "standardised_population"  # age-weighted demand (APL)
APL = "apl"  # accessibilité potentielle localisée (supply units per inhabitant)

# --- services: source-specific details (empty where the source has none) --------------
LOCATION = "location"  # "source" (the source's coordinates) or "town_hall"
COMMUNE_SOURCE = "commune_source"  # "source", "polygon" or "nearest_town_hall"
SITE_TYPE = "site_type"  # La Poste site type, GISCO facility type, France Services type
SERVICE_FORMAT = "service_format"  # France Services format (Fixe, Itinérante, Bus...)
