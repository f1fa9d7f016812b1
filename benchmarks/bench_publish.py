"""Publishing a run into PostGIS, against what an analyst would otherwise do: ogr2ogr.

The same run folder (``output/<territory>/``, written by ``accessibility run``) goes
into the same database twice per round, into fresh schemas:

* ``publish``: :func:`accessibility.outputs.publish.postgis.publish` (COPY, typed
  geometry, GiST indexes, comments, latest views, runs table; one transaction);
* ``ogr2ogr``: GDAL's ``ogr2ogr -f PostgreSQL`` of the GeoPackage (every layer and table,
  GiST index and PostgreSQL COPY by default, no versions, comments nor views), the usual
  way to load a GeoPackage into PostGIS.

Both are timed in this process around the work itself (reading the GeoPackage included;
Python's imports excluded for publish, GDAL's process start included for ogr2ogr)::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_publish.py --database "host=... dbname=..."
        [--folder output/maurienne] [--repeat 5]

The database needs PostGIS; the schemas ``bench_publish_*`` and ``bench_ogr_*`` are
created and dropped by this script (only those). Prints a Markdown table with the median
of ``--repeat`` rounds and the ratio. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path


def _ogr(gpkg: Path, conninfo: str, schema: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(["ogr2ogr", "-f", "PostgreSQL", f"PG:{conninfo}", str(gpkg),
                    "-lco", f"SCHEMA={schema}", "-lco", "GEOMETRY_NAME=geom",
                    "-nlt", "PROMOTE_TO_MULTI", "-overwrite"],
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    import psycopg
    from psycopg import sql

    from accessibility.outputs.publish.postgis import publish
    from accessibility.outputs.publish.source import read_run_folder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", required=True, help="libpq conninfo of a PostGIS database")
    ap.add_argument("--folder", type=Path, default=Path("output/maurienne"))
    ap.add_argument("--territory", default="maurienne")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    gpkg = next(args.folder.glob("accessibilite_*.gpkg"))
    times: dict[str, list[float]] = {"publish": [], "ogr2ogr": []}
    with psycopg.connect(args.database, autocommit=True) as conn:
        for i in range(args.repeat):
            for schema in (f"bench_publish_{i}", f"bench_ogr_{i}"):
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(f"bench_ogr_{i}")))
            t0 = time.perf_counter()
            pub = read_run_folder(args.folder, territory=args.territory)
            done = publish(conn, pub, schema=f"bench_publish_{i}")
            times["publish"].append(time.perf_counter() - t0)
            times["ogr2ogr"].append(_ogr(gpkg, args.database, f"bench_ogr_{i}"))
        rows = sum(done.rows.values())
        for i in range(args.repeat):
            for schema in (f"bench_publish_{i}", f"bench_ogr_{i}"):
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.folder} ({rows:,} rows, {len(done.rows)} tables), median of {args.repeat}:\n")
    print("| method | median (s) | all runs (s) |")
    print("|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {med[k]:.2f} | {', '.join(f'{x:.2f}' for x in v)} |")
    print(f"\npublish / ogr2ogr: {med['publish'] / med['ogr2ogr']:.2f}")


if __name__ == "__main__":
    main()
