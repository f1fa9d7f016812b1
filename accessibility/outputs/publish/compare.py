"""Comparing two published runs: services opened or closed, times, priority communes.

Owns: :func:`compare_runs` (read both runs back from the database, compare in Python) and
:func:`store_comparison` (the ``comparisons`` table of the schema, one set of rows per
pair of runs, replaced when the same pair is compared again). The table has one row per
difference: ``kind`` is ``service_opened``, ``service_closed``, ``time_commune`` (a
commune's population-weighted mean time changed by more than :data:`TIME_TOLERANCE_MIN`),
``time_territory`` (the territory's mean) or ``priority`` (a commune's tier or score).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from accessibility.core.errors import OutputError

if TYPE_CHECKING:
    import psycopg

#: Changes of time smaller than this (minutes) are rounding, not differences.
TIME_TOLERANCE_MIN = 0.05
COLUMNS = ["run_a", "run_b", "kind", "key", "name", "indicator", "value_a", "value_b",
           "change"]


def _read(conn: psycopg.Connection, schema: str, table: str, rid: str) -> pd.DataFrame:
    from psycopg import sql

    cur = conn.execute(sql.SQL("SELECT * FROM {} WHERE run_id = %s ORDER BY fid").format(
        sql.Identifier(schema, table)), [rid])
    names = [d.name for d in cur.description or []]
    return pd.DataFrame(cur.fetchall(), columns=names).drop(columns=["geom"], errors="ignore")


def _check_runs(conn: psycopg.Connection, schema: str, runs: tuple[str, str]) -> None:
    from psycopg import sql

    if conn.execute("SELECT to_regclass(%s)", [f'"{schema}"."runs"']).fetchone()[0] is None:
        raise OutputError(f"publish --compare: schema {schema} has no published run")
    known = {r[0] for r in conn.execute(sql.SQL("SELECT run_id FROM {}").format(
        sql.Identifier(schema, "runs"))).fetchall()}
    for rid in runs:
        if rid not in known:
            shown = ", ".join(sorted(known)[:8]) or "none"
            raise OutputError(f"publish --compare: run {rid!r} is not in {schema}.runs "
                              f"(published runs: {shown})")


def _services(a: pd.DataFrame, b: pd.DataFrame) -> list[dict]:
    ia, ib = a.set_index("service_id"), b.set_index("service_id")
    rows = []
    for kind, ids, frame in (("service_opened", ib.index.difference(ia.index), ib),
                             ("service_closed", ia.index.difference(ib.index), ia)):
        for sid in sorted(ids):
            rows.append({"kind": kind, "key": sid, "name": frame.at[sid, "label"],
                         "indicator": frame.at[sid, "category"]})
    return rows


def _times(a: pd.DataFrame, b: pd.DataFrame, key: str, name: str, kind: str) -> list[dict]:
    ia, ib = a.set_index(key), b.set_index(key)
    common = ia.index.intersection(ib.index)
    cols = [c for c in ia.columns if c.startswith("time_") and c.endswith("_min")
            and c in ib.columns]
    rows = []
    for col in cols:
        va = pd.to_numeric(ia.loc[common, col], errors="coerce")
        vb = pd.to_numeric(ib.loc[common, col], errors="coerce")
        differs = ((va - vb).abs() > TIME_TOLERANCE_MIN) | (va.isna() != vb.isna())
        for k in common[differs.to_numpy()]:
            rows.append({"kind": kind, "key": k, "name": ia.at[k, name], "indicator": col,
                         "value_a": va[k], "value_b": vb[k], "change": vb[k] - va[k]})
    return rows


def _territory(a: pd.DataFrame, b: pd.DataFrame) -> list[dict]:
    if "mean_min" not in a.columns or "mean_min" not in b.columns:
        return []
    ia, ib = a.set_index("indicator"), b.set_index("indicator")
    rows = []
    for ind in ia.index.intersection(ib.index):
        va, vb = float(ia.at[ind, "mean_min"]), float(ib.at[ind, "mean_min"])
        if abs(vb - va) > TIME_TOLERANCE_MIN or np.isnan(va) != np.isnan(vb):
            rows.append({"kind": "time_territory", "key": "territoire", "name": "territoire",
                         "indicator": ind, "value_a": va, "value_b": vb, "change": vb - va})
    return rows


def _priority(a: pd.DataFrame, b: pd.DataFrame) -> list[dict]:
    cols = ["commune_code", "commune_name", "priority_score", "priority_tier"]
    ia = a.reindex(columns=cols).set_index("commune_code")
    ib = b.reindex(columns=cols).set_index("commune_code")
    rows = []
    for k in ia.index.union(ib.index):
        sa = ia.loc[k] if k in ia.index else None
        sb = ib.loc[k] if k in ib.index else None
        score_a = float(sa["priority_score"]) if sa is not None else 0.0
        score_b = float(sb["priority_score"]) if sb is not None else 0.0
        tier_a = (sa["priority_tier"] or "") if sa is not None else ""
        tier_b = (sb["priority_tier"] or "") if sb is not None else ""
        if score_a != score_b or tier_a != tier_b:
            name = (sb if sb is not None else sa)["commune_name"]
            rows.append({"kind": "priority", "key": k, "name": name,
                         "indicator": f"priority_tier: {tier_a or '-'} -> {tier_b or '-'}",
                         "value_a": score_a, "value_b": score_b, "change": score_b - score_a})
    return rows


def compare_runs(conn: psycopg.Connection, schema: str, run_a: str, run_b: str) -> pd.DataFrame:
    """The differences from ``run_a`` to ``run_b`` (columns :data:`COLUMNS`).

    Priority compares the ``priority`` tables (the communes meeting a criterion): a
    commune absent from a run's table has score 0 and no tier there.
    """
    _check_runs(conn, schema, (run_a, run_b))
    tab = {t: (_read(conn, schema, t, run_a), _read(conn, schema, t, run_b))
           for t in ("services", "communes", "territory_summary", "priority")}
    rows = (_services(*tab["services"])
            + _times(*tab["communes"], "commune_code", "commune_name", "time_commune")
            + _territory(*tab["territory_summary"]) + _priority(*tab["priority"]))
    out = pd.DataFrame(rows).reindex(columns=COLUMNS)
    out["run_a"], out["run_b"] = run_a, run_b
    for c in ("value_a", "value_b", "change"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def store_comparison(conn: psycopg.Connection, schema: str, table: pd.DataFrame,
                     run_a: str, run_b: str) -> int:
    """Write ``table`` into ``<schema>.comparisons`` (rows of the same pair replaced), in
    one transaction; returns the number of rows."""
    from psycopg import sql

    target = sql.Identifier(schema, "comparisons")
    with conn.transaction():
        registered = dict(conn.execute(sql.SQL("SELECT name, kind FROM {}").format(
            sql.Identifier(schema, "layers"))).fetchall())
        if "comparisons" not in registered:
            if conn.execute("SELECT to_regclass(%s)",
                            [f'"{schema}"."comparisons"']).fetchone()[0] is not None:
                raise OutputError(f"publish --compare: {schema}.comparisons exists and was "
                                  "not created by accessibility")
            conn.execute(sql.SQL(
                "CREATE TABLE {} (run_a text NOT NULL, run_b text NOT NULL, kind text NOT "
                "NULL, key text, name text, indicator text, value_a double precision, "
                "value_b double precision, change double precision, compared_at timestamp "
                "with time zone NOT NULL DEFAULT clock_timestamp())").format(target))
            conn.execute(sql.SQL("INSERT INTO {} (name, kind) VALUES ('comparisons', "
                                 "'register')").format(sql.Identifier(schema, "layers")))
            conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(
                "Comparaisons de deux publications (run_a -> run_b) : services ouverts ou "
                "fermés, temps, communes prioritaires")))
        conn.execute(sql.SQL("DELETE FROM {} WHERE run_a = %s AND run_b = %s").format(target),
                     [run_a, run_b])
        with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                target, sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS))) as copy:
            for row in table[COLUMNS].astype(object).itertuples(index=False):
                copy.write_row([None if isinstance(v, float) and np.isnan(v) else
                                (str(v) if isinstance(v, str) else v) for v in row])
    return len(table)
