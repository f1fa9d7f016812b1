"""Size of each page of a territory's atlas, for before/after comparisons.

Builds the atlas (no report) into a temporary folder and prints each page's size in
kB and the total. Runs on the current code::

    PYTHONPATH=. .venv/bin/python scripts/atlas_size.py --territory maurienne

and, unchanged, on an earlier checkout (``PYTHONPATH=/path/to/old``, with
``ACCESSIBILITY_CACHE_DIR`` pointing at this checkout's ``.cache`` and
``ACCESSIBILITY_DATA_MIRROR`` at the mirror), which is how the roads layer's cost in
docs/status.md was measured.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territory", default="maurienne")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from accessibility.indicators.diagnostic import run_diagnostic
    from accessibility.outputs.maps import build_atlas
    from accessibility.pipeline import open_study

    study = open_study(args.territory)
    diag = run_diagnostic(study)
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_atlas(study, diag, Path(tmp))
        total = 0
        for name, path in sorted(paths.items()):
            size = Path(path).stat().st_size
            total += size
            print(f"{name:<24}{size / 1000:>10,.0f} kB")
        print(f"{'total':<24}{total / 1000:>10,.0f} kB")


if __name__ == "__main__":
    main()
