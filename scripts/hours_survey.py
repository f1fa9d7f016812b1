"""Survey the opening hours of the sources: how many of each pattern occur.

Counts, over the whole national files, what :func:`accessibility.inputs.hours.parse_hours`
makes of each service's hours (parsed, empty, unparsed; repairs; flags from the notes;
Saturday, lunch-break and evening opening). The figures are in docs/indicators.md.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python scripts/hours_survey.py
"""

from __future__ import annotations

import pandas as pd

from accessibility.core.paths import default_paths
from accessibility.inputs.categories import FS_2024, TOWN_HALLS, load_categories
from accessibility.inputs.hours import survey
from accessibility.inputs.service_readers import read_france_services_2024
from accessibility.inputs.sources import fetch


def main() -> None:
    paths = default_paths()
    cats = load_categories()
    fs = read_france_services_2024(fetch(FS_2024, paths), cats["france_services"])
    from accessibility.inputs.communes import _load_town_halls_cached

    halls = _load_town_halls_cached(fetch(TOWN_HALLS, paths))
    table = pd.concat(
        {
            f"France Services ({len(fs)})": survey(fs["hours"], fs["hours_note"],
                                                    fs["service_format"]),
            f"town halls ({len(halls)})": survey(halls["town_hall_hours"]),
        },
        axis=1,
    ).fillna(0).astype(int).sort_index()
    print(table.to_string())


if __name__ == "__main__":
    main()
