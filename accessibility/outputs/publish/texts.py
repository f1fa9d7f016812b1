"""The French titles and column descriptions of the published tables and QGIS layers.

Owns: :data:`TITLES_FR` (one title per published table), :func:`table_title` and
:func:`column_comment` (a column's description from the run's data dictionary, as a
database comment or a QGIS alias). The descriptions themselves come from
:mod:`accessibility.outputs.dictionary`; nothing here is written anew.
"""

from __future__ import annotations

import pandas as pd

TITLES_FR = {
    "communes": "Communes : population et temps d'accès moyens aux services",
    "cells": "Carreaux de population (grille Eurostat de 1 km) et temps d'accès",
    "services": "Services et équipements localisés",
    "priority": "Communes prioritaires : score, classe et raisons",
    "epci_summary": "Synthèse par EPCI",
    "territory_summary": "Synthèse du territoire",
    "indicators": "Indicateurs publiés",
    "sources": "Sources des données : catalogue, millésimes, sha256",
    "data_dictionary": "Dictionnaire des données",
    "seasonal_population": "Population en pointe saisonnière par commune",
    "scenario_comparison": "Comparaison de deux scénarios par commune et par EPCI",
    "comparisons": "Comparaisons de deux publications",
}
#: Columns every published table has, described here rather than in the dictionary.
KEY_COLUMNS = {
    "run_id": "Identifiant de la publication (table runs) — publication (run) id",
    "fid": "Numéro de ligne dans l'export de la publication — row number in the export",
}


def table_title(name: str) -> str:
    """The French title of a published table (validation tables by their name)."""
    if name in TITLES_FR:
        return TITLES_FR[name]
    if name.startswith("validation_"):
        return "Validation : " + name.removeprefix("validation_").replace("_", " ")
    return name.replace("_", " ")


#: Columns of the tables the data dictionary does not describe (itself, the sources).
OWN_COLUMNS = {
    "data_dictionary": {
        "table": "Table décrite — table described",
        "column": "Colonne décrite — column described",
        "description_fr": "Description en français — French description",
        "description_en": "Description en anglais — English description",
        "unit": "Unité — unit",
    },
    "sources": {
        "path": "Fichier du catalogue data/sources.toml — catalogued file",
        "url": "Adresse de téléchargement — download address",
        "sha256": "Empreinte sha256 du fichier — the file's sha256",
        "licence": "Licence — licence",
        "description": "Description — description",
    },
}
#: A data dictionary indexed for look-ups: column -> table -> its row.
Index = dict[str, dict[str, dict]]


def dictionary_index(dictionary: pd.DataFrame) -> Index:
    """The dictionary as ``{column: {table: row}}`` (built once, looked up per column)."""
    out: Index = {}
    for r in dictionary.to_dict("records"):
        out.setdefault(str(r["column"]), {}).setdefault(str(r["table"]), r)
    return out


def describe(table: str, column: str, index: Index) -> tuple[str, str] | None:
    """(French description, full comment) of ``table.column`` from the dictionary; the
    column's description in another table when this one has no entry; None if none."""
    rows = index.get(column)
    if not rows:
        return None
    r = rows.get(table) or next(iter(rows.values()))
    unit = f" [{r['unit']}]" if isinstance(r["unit"], str) and r["unit"] else ""
    source = r["source"] if isinstance(r["source"], str) else ""
    vintage = f" ({r['vintage']})" if isinstance(r["vintage"], str) and r["vintage"] else ""
    text = f"{r['description_fr']}{unit} — {r['description_en']}"
    if source:
        text += f". Source : {source}{vintage}"
    return str(r["description_fr"]), text


def column_comment(table: str, column: str, index: Index, srid: int | None = None) -> str:
    """The database comment of ``table.column`` (``index``: :func:`dictionary_index`)."""
    if column in KEY_COLUMNS:
        return KEY_COLUMNS[column]
    if column in OWN_COLUMNS.get(table, {}):
        return OWN_COLUMNS[table][column]
    if column == "geom":
        return f"Géométrie (EPSG:{srid}) — geometry"
    found = describe(table, column, index)
    if found is None:
        from accessibility.core.errors import DataError
        from accessibility.inputs.services import load_categories
        from accessibility.outputs.dictionary import describe_column

        labels = {k: c.label for k, c in load_categories().items()}
        try:
            fr, en, unit, (source, _) = describe_column(column, labels)
        except DataError:
            return (f"Colonne {column} de {table_title(table)} (voir le fichier CSV de la "
                    "publication et docs/) — see the run's CSV file and the docs")
        return f"{fr}{f' [{unit}]' if unit else ''} — {en}. Source : {source}"
    return found[1]
