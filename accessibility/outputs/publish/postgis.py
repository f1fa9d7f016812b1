"""Writing a publication into PostGIS: one schema per territory, dated versions by run.

Owns: :func:`connect` (a DSN, or libpq's ``PG*`` environment variables and service file
when it is empty), :func:`schema_name` and :func:`publish`. In the schema
(``acc_<territory>``):

* ``runs``: one row per publication (run id, publication and run dates, territory,
  scenario, code version, source vintages and sha256 from the catalogue, parameters);
* one table per layer or table of the run (``communes``, ``cells``, ``services``,
  ``priority``, the summaries, the data dictionary, and validation / scenario tables
  when the run folder holds them), every row keyed by ``run_id`` and ``fid`` (its row
  number in the export); typed geometry ``geom`` with its SRID (2154, the grid 3035)
  and a GiST index;
* ``<name>_latest``: a view of the newest base run (no scenario) of each;
* ``layers``: the project's register of the tables it created, so that it never alters
  nor drops anything else (nothing is ever dropped);
* ``COMMENT ON`` every table, view and column, from the data dictionary.

One transaction per publication (``COPY`` for the rows, geometries as EWKB): it commits
completely or leaves the database as it was. A run already published (same run id, see
:func:`accessibility.outputs.publish.source.run_id`) is not written again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from accessibility.core.errors import OutputError
from accessibility.outputs.publish.source import (
    Publication,
    check_publication,
    code_version,
    run_id,
)
from accessibility.outputs.publish.texts import (
    Index,
    column_comment,
    dictionary_index,
    table_title,
)

if TYPE_CHECKING:
    import psycopg

GEOM = "geom"
#: PostgreSQL type of each pandas dtype family (anything else is text).
PG_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double precision",
            "M": "timestamp with time zone"}
RUNS_DDL = """CREATE TABLE {runs} (
    run_id text PRIMARY KEY,
    published_at timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
    run_at timestamp with time zone,
    territory text NOT NULL,
    scenario text NOT NULL DEFAULT '',
    code_version text NOT NULL,
    source_vintages jsonb NOT NULL,
    parameters jsonb NOT NULL,
    source_folder text NOT NULL DEFAULT '')"""
#: Comments of the project's own tables (French — English).
REGISTER_COMMENTS = {
    "runs": ("Publications : une ligne par version publiée — one row per published run", {
        "run_id": "Identifiant : 16 premiers chiffres hexadécimaux du sha256 des sorties et "
                  "des paramètres — sha256 of the outputs and parameters (16 hex digits)",
        "published_at": "Date de publication dans la base — when it was published",
        "run_at": "Date du calcul (accessibility run) — when the run was computed",
        "territory": "Territoire — territory slug",
        "scenario": "Scénario (vide : situation de base) — scenario, empty for the base run",
        "code_version": "Version du code (paquet + commit git) — code version",
        "source_vintages": "Sources : chemin, millésime, sha256 (catalogue data/sources.toml)"
                           " — source files, vintages and sha256",
        "parameters": "Paramètres : territoire, scénario, sha256 de chaque fichier de "
                      "paramètres — parameters and the sha256 of each parameter file",
        "source_folder": "Dossier des sorties publiées — folder the run was read from"}),
    "layers": ("Registre des tables créées par accessibility (jamais d'autres) — the tables "
               "the project created", {
        "name": "Nom de la table — table name",
        "kind": "layer (géométrie), table, register — kind",
        "geometry_type": "Type de géométrie — geometry type",
        "srid": "Système de coordonnées (EPSG) — SRID",
        "created_at": "Date de création — creation time"}),
}
LAYERS_DDL = """CREATE TABLE {layers} (
    name text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('layer', 'table', 'register')),
    geometry_type text,
    srid integer,
    created_at timestamp with time zone NOT NULL DEFAULT clock_timestamp())"""


@dataclass(frozen=True)
class Published:
    """What :func:`publish` did: the run id, whether it was new, rows per table."""

    run_id: str
    schema: str
    new: bool
    rows: dict[str, int] = field(default_factory=dict)


def schema_name(territory: str) -> str:
    """The schema of a territory: ``acc_`` and its slug, hyphens as underscores."""
    from accessibility.core.outputs import check_name

    return "acc_" + check_name(territory, what="territory slug").replace("-", "_")


def connect(database: str | None = None) -> psycopg.Connection:
    """A connection to ``database`` (a ``postgresql://`` URI or libpq conninfo); empty or
    None: libpq's environment (``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``,
    ``PGSERVICE`` and ``pg_service.conf``, ``~/.pgpass``).

    Raises :class:`~accessibility.core.errors.OutputError` in one line when it fails.
    """
    import psycopg

    try:
        # autocommit: each publication is its own explicit transaction (never a savepoint
        # inside an implicit one)
        return psycopg.connect(database or "", connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        where = "the database given by --database" if database else (
            "the database of the PG* environment variables / service file")
        raise OutputError(f"publish: cannot connect to {where}: "
                          f"{' '.join(str(exc).split())}") from None


def _ident(*parts: str) -> Any:
    from psycopg import sql

    return sql.Identifier(*parts)


def _check_postgis(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if row is None:
        db = conn.info.dbname
        raise OutputError(f"publish: PostGIS is not installed in database {db!r}; its owner "
                          "must run CREATE EXTENSION postgis once (see docs/observatory.md)")


def _exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", [f'"{schema}"."{name}"']).fetchone()
    return row is not None and row[0] is not None


def _registered(conn: psycopg.Connection, schema: str) -> dict[str, str]:
    from psycopg import sql

    rows = conn.execute(sql.SQL("SELECT name, kind FROM {}").format(_ident(schema, "layers")))
    return dict(rows.fetchall())


def _ensure_registry(conn: psycopg.Connection, schema: str) -> dict[str, str]:
    """Create the schema, ``layers`` and ``runs`` when absent; refuse a schema whose
    ``runs``/``layers`` the project did not create."""
    from psycopg import sql

    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(schema)))
    has_layers, has_runs = _exists(conn, schema, "layers"), _exists(conn, schema, "runs")
    if not has_layers:
        if has_runs:
            raise OutputError(f"publish: {schema}.runs exists but was not created by "
                              "accessibility (no register table 'layers'); refusing to use it")
        conn.execute(sql.SQL(LAYERS_DDL).format(layers=_ident(schema, "layers")))
        conn.execute(sql.SQL("INSERT INTO {} (name, kind) VALUES ('layers', 'register')")
                     .format(_ident(schema, "layers")))
    registered = _registered(conn, schema)
    if "layers" not in registered:
        raise OutputError(f"publish: {schema}.layers was not created by accessibility; "
                          "refusing to use the schema")
    if "runs" not in registered:
        if has_runs:
            raise OutputError(f"publish: {schema}.runs exists but was not created by "
                              "accessibility; refusing to use it")
        conn.execute(sql.SQL(RUNS_DDL).format(runs=_ident(schema, "runs")))
        for name, (title, cols) in REGISTER_COMMENTS.items():
            _comment(conn, "TABLE", _ident(schema, name), title)
            for col, text in cols.items():
                _comment(conn, "COLUMN", _ident(schema, name, col), text)
        conn.execute(sql.SQL("INSERT INTO {} (name, kind) VALUES ('runs', 'register')")
                     .format(_ident(schema, "layers")))
        registered["runs"] = "register"
    return registered


def pg_type(series: pd.Series) -> str:
    """The PostgreSQL type of a column (booleans, integers, floats, times; else text)."""
    kind = series.dtype.kind if not isinstance(series.dtype, pd.StringDtype) else "O"
    if kind == "O" and len(series.dropna()) and all(
            isinstance(v, bool) for v in series.dropna()):
        return "boolean"
    return PG_TYPES.get(kind, "text")


def _values(series: pd.Series, pgtype: str) -> list[Any]:
    """Python values for COPY: None for missing, native types."""
    missing = series.isna().to_numpy()
    if pgtype == "text":
        vals = [str(v) for v in series.to_numpy(dtype=object)]
    elif pgtype == "double precision":
        vals = series.astype(float).tolist()
    elif pgtype == "boolean":
        vals = [bool(v) if not m else None for v, m in zip(series, missing, strict=True)]
    else:
        vals = series.tolist()
    return [None if m else v for v, m in zip(vals, missing, strict=True)]


def geometry_type(geoms: Iterable[str]) -> str:
    """The PostGIS type of a layer's geometries: polygons and lines as their Multi type
    (a layer may mix both), points as Point."""
    kinds = {g.removeprefix("Multi") for g in geoms}
    if kinds == {"Point"}:
        return "Point" if "MultiPoint" not in set(geoms) else "MultiPoint"
    if len(kinds) == 1 and kinds <= {"Polygon", "LineString"}:
        return "Multi" + kinds.pop()
    raise OutputError(f"publish: a layer mixes geometry types {sorted(kinds)}")


def _ewkb(gdf: Any, gtype: str, srid: int) -> list[str]:
    """The layer's geometries as hex EWKB in ``srid``, promoted to Multi when needed."""
    import shapely

    geoms = gdf.to_crs(srid).geometry.to_numpy()
    if gtype.startswith("Multi"):
        single = shapely.get_type_id(geoms) == {"MultiPolygon": 3, "MultiLineString": 1}.get(
            gtype, -1)
        multi = {"MultiPolygon": shapely.multipolygons, "MultiLineString":
                 shapely.multilinestrings}[gtype]
        geoms = [multi([g]) if s else g for g, s in zip(geoms, single, strict=True)]
    out = shapely.set_srid(shapely.force_2d(list(geoms)), srid)
    return list(shapely.to_wkb(out, hex=True, include_srid=True))


def _columns(frame: pd.DataFrame) -> list[tuple[str, str]]:
    cols = [(str(c), pg_type(frame[c])) for c in frame.columns if c != "geometry"]
    for name, _ in cols:
        if len(name.encode("utf-8")) > 63 or name in ("run_id", "fid", GEOM):
            raise OutputError(f"publish: column name {name!r} is reserved or longer than "
                              "PostgreSQL's 63 bytes")
    return cols


def _existing_columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, CASE WHEN data_type = 'USER-DEFINED' THEN udt_name "
        "ELSE data_type END FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s", [schema, table]).fetchall()
    return dict(rows)


def _ensure_table(conn: psycopg.Connection, schema: str, name: str,
                  cols: Sequence[tuple[str, str]], geom: tuple[str, int] | None,
                  registered: dict[str, str]) -> None:
    """Create the table of a layer (or add the columns a newer run brings)."""
    from psycopg import sql

    table = _ident(schema, name)
    if name not in registered:
        for taken in (name, f"{name}_latest"):
            if _exists(conn, schema, taken):
                raise OutputError(f"publish: {schema}.{taken} exists and was not created by "
                                  "accessibility; rename it or publish to another schema")
        parts = [sql.SQL("run_id text NOT NULL REFERENCES {} (run_id) ON DELETE CASCADE")
                 .format(_ident(schema, "runs")), sql.SQL("fid bigint NOT NULL")]
        parts += [sql.SQL("{} {}").format(_ident(c), sql.SQL(t)) for c, t in cols]
        if geom is not None:
            parts.append(sql.SQL("{} geometry({}, {}) NOT NULL").format(
                _ident(GEOM), sql.SQL(geom[0]), sql.Literal(geom[1])))
        parts.append(sql.SQL("PRIMARY KEY (run_id, fid)"))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(parts)))
        if geom is not None:
            conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
                _ident(f"{name}_geom_gist"), table, _ident(GEOM)))
        conn.execute(
            sql.SQL("INSERT INTO {} (name, kind, geometry_type, srid) VALUES (%s, %s, %s, %s)")
            .format(_ident(schema, "layers")),
            [name, "layer" if geom else "table", geom[0] if geom else None,
             geom[1] if geom else None])
        registered[name] = "layer" if geom else "table"
        return
    have = _existing_columns(conn, schema, name)
    for col, typ in cols:
        if col not in have:
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                table, _ident(col), sql.SQL(typ)))
        elif have[col] != typ and have[col] != "geometry":
            raise OutputError(f"publish: column {schema}.{name}.{col} is {have[col]} in the "
                              f"database but {typ} in this run")


def _copy(conn: psycopg.Connection, schema: str, name: str, rid: str, frame: pd.DataFrame,
          cols: Sequence[tuple[str, str]], geoms: list[str] | None) -> int:
    from psycopg import sql

    names = ["run_id", "fid", *(c for c, _ in cols)] + ([GEOM] if geoms is not None else [])
    columns = [[rid] * len(frame), list(range(1, len(frame) + 1))]
    columns += [_values(frame[c], t) for c, t in cols]
    if geoms is not None:
        columns.append(geoms)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        _ident(schema, name), sql.SQL(", ").join(_ident(n) for n in names))
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
    return len(frame)


def _write(conn: psycopg.Connection, schema: str, name: str, rid: str, frame: pd.DataFrame,
           srid: int | None, registered: dict[str, str]) -> int:
    cols = _columns(frame)
    geom = geoms = None
    if srid is not None:
        gtype = geometry_type(frame.geometry.geom_type.dropna().unique())
        geom, geoms = (gtype, srid), _ewkb(frame, gtype, srid)
    _ensure_table(conn, schema, name, cols, geom, registered)
    return _copy(conn, schema, name, rid, frame, cols, geoms)


def _latest_view(conn: psycopg.Connection, schema: str, name: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL(
        "CREATE OR REPLACE VIEW {view} AS SELECT t.* FROM {table} t WHERE t.run_id = "
        "(SELECT r.run_id FROM {runs} r WHERE r.scenario = '' "
        "ORDER BY r.published_at DESC, r.run_id DESC LIMIT 1)").format(
        view=_ident(schema, f"{name}_latest"), table=_ident(schema, name),
        runs=_ident(schema, "runs")))


def _comment_sql(what: str, target: Any, text: str) -> Any:
    from psycopg import sql

    return sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(what), target, sql.Literal(text))


def _comment(conn: psycopg.Connection, what: str, target: Any, text: str) -> None:
    conn.execute(_comment_sql(what, target, text))


def _comments(conn: psycopg.Connection, schema: str, name: str, index: Index,
              columns: Sequence[str], srid: int | None) -> None:
    """Table, view and column comments from the data dictionary (French, then English),
    sent as one batch of statements (one round trip per table, not per column).

    Only the columns of this run are (re)commented: a column an older run brought keeps
    the comment its own dictionary gave it."""
    from psycopg import sql

    title = table_title(name)
    batch = [
        _comment_sql("TABLE", _ident(schema, name), f"{title} — une ligne par ligne de "
                     "l'export et par publication (run_id, table runs)"),
        _comment_sql("VIEW", _ident(schema, f"{name}_latest"),
                     f"{title} — dernière publication (hors scénarios)"),
    ]
    keys = ["run_id", "fid"] + ([GEOM] if srid is not None else [])
    for col in [*keys, *columns]:
        text = column_comment(name, col, index, srid)
        batch += [_comment_sql("COLUMN", _ident(schema, rel, col), text)
                  for rel in (name, f"{name}_latest")]
    conn.execute(sql.SQL("; ").join(batch))


def _insert_run(conn: psycopg.Connection, schema: str, rid: str, pub: Publication) -> None:
    from psycopg import sql

    conn.execute(
        sql.SQL("INSERT INTO {} (run_id, run_at, territory, scenario, code_version, "
                "source_vintages, parameters, source_folder) VALUES "
                "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)").format(_ident(schema, "runs")),
        [rid, pub.run_at or None, pub.territory, pub.scenario, code_version(),
         json.dumps(pub.source_vintages, ensure_ascii=False),
         json.dumps(pub.parameters, ensure_ascii=False), pub.folder])


def publish(conn: psycopg.Connection, pub: Publication, *, schema: str | None = None,
            layers: dict[str, int] | None = None) -> Published:
    """Write ``pub`` into ``schema`` (default :func:`schema_name`) in one transaction.

    ``conn`` should be in autocommit mode (as :func:`connect` makes it): in a transaction
    already open, psycopg would make this one a savepoint of it.

    ``layers`` maps each spatial layer to its SRID in the database (default
    :data:`~accessibility.outputs.publish.source.SPATIAL_LAYERS`). Returns what was done;
    a run already in ``runs`` is left as it is (``new=False``).
    """
    import psycopg
    from psycopg import sql

    from accessibility.outputs.publish.source import SPATIAL_LAYERS

    srids = layers or SPATIAL_LAYERS
    check_publication(pub)
    schema = schema or schema_name(pub.territory)
    rid = run_id(pub)
    frames: dict[str, tuple[pd.DataFrame, int | None]] = {
        **{n: (g, srids.get(n, 2154)) for n, g in pub.spatial.items()},
        **{n: (t, None) for n, t in pub.tables.items()},
        "data_dictionary": (pub.dictionary, None),
    }
    rows: dict[str, int] = {}
    index = dictionary_index(pub.dictionary)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [schema])
            _check_postgis(conn)
            registered = _ensure_registry(conn, schema)
            if conn.execute(sql.SQL("SELECT 1 FROM {} WHERE run_id = %s").format(
                    _ident(schema, "runs")), [rid]).fetchone():
                return Published(rid, schema, False)
            _insert_run(conn, schema, rid, pub)
            for name, (frame, srid) in frames.items():
                rows[name] = _write(conn, schema, name, rid, frame, srid, registered)
                _latest_view(conn, schema, name)
                _comments(conn, schema, name, index,
                          [str(c) for c in frame.columns if c != "geometry"], srid)
    except psycopg.Error as exc:
        raise OutputError(f"publish: the database refused the publication ({type(exc).__name__}"
                          f": {' '.join(str(exc).split())[:300]}); nothing was published"
                          ) from exc
    return Published(rid, schema, True, rows)


def dsn_parts(conn: psycopg.Connection, database: str | None = None) -> dict[str, str]:
    """What a client needs to reach the same database, never the password: the service
    name when one was used, else host, port, database and user."""
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(database or "")
    service = given.get("service") or (os.environ.get("PGSERVICE") if not database else None)
    if service:
        return {"service": str(service)}
    info = conn.info
    return {"host": info.host, "port": str(info.port), "dbname": info.dbname,
            "user": info.user}
