"""A throw-away PostgreSQL + PostGIS cluster for the publishing tests, and QGIS's Python.

The cluster is Debian's PostgreSQL 15 (``make test`` installs ``postgresql-15`` and
``postgresql-15-postgis-3`` when missing): ``initdb`` in a temporary folder, a server
listening only on a Unix socket in that folder (no TCP port, so parallel test workers and
other people's servers never collide), ``CREATE EXTENSION postgis`` in a fresh database,
and ``pg_ctl stop`` at the end of the session.

PostgreSQL refuses to run as root, and CI runs as root: the server commands then run as
the ``postgres`` system user that Debian's package creates (``runuser -u postgres``,
util-linux, always present on Debian), in a folder handed over to that user. Under any
other user they run as that user. The tests connect as the cluster's superuser
``accessibility`` with trust authentication on the socket (the folder is private).

Missing packages are a failure, never a skip: the README's ``make test`` installs them.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
QGIS_PYTHON = Path("/usr/bin/python3")
QGIS_MODULE = Path("/usr/lib/python3/dist-packages/qgis/__init__.py")
SUPERUSER = "accessibility"


def _missing(what: str) -> None:
    pytest.fail(f"{what} is missing: `make test` installs it (apt-get); these tests never skip")


def _as_server_user(cmd: list[str]) -> list[str]:
    """``cmd`` run as the ``postgres`` system user when we are root, else as ourselves."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _run(cmd: list[str], folder: Path) -> None:
    done = subprocess.run(_as_server_user(cmd), cwd=folder, capture_output=True, text=True,
                          check=False)
    if done.returncode:
        log = folder / "server.log"
        extra = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        pytest.fail(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()}\n{extra}")


@pytest.fixture(scope="session")
def postgis() -> Iterator[str]:
    """The conninfo of a fresh database with PostGIS, in a cluster private to this session."""
    import psycopg

    if not (PG_BIN / "initdb").exists():
        _missing(f"PostgreSQL 15 ({PG_BIN / 'initdb'})")
    if not POSTGIS_CONTROL.exists():
        _missing(f"PostGIS for PostgreSQL 15 ({POSTGIS_CONTROL})")
    # a short path: the socket's full name must fit in 107 bytes
    folder = Path(tempfile.mkdtemp(prefix="acc-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    data = folder / "data"
    try:
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
              "-E", "UTF8", "--locale=C.UTF-8"], folder)
        opts = f"-k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
              str(folder / "server.log"), "-w", "start"], folder)
        try:
            admin = f"host={folder} dbname=postgres user={SUPERUSER}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CREATE DATABASE observatoire")
            conninfo = f"host={folder} dbname=observatoire user={SUPERUSER}"
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION postgis")
            yield conninfo
        finally:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                 folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh_postgis(postgis: str, request: pytest.FixtureRequest) -> str:
    """The conninfo of a new, empty PostGIS database in the session's cluster, for a test
    that must not see what other tests published (the same run has the same id)."""
    import secrets

    import psycopg
    from psycopg import sql

    name = f"t_{request.node.name.lower()[:40]}_{secrets.token_hex(3)}"
    name = "".join(ch if ch.isalnum() else "_" for ch in name)
    with psycopg.connect(postgis, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conninfo = postgis.replace("dbname=observatoire", f"dbname={name}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    return conninfo


@pytest.fixture(scope="session")
def qgis_python() -> Path:
    """The system Python that carries QGIS's bindings (Debian's ``python3-qgis``)."""
    if not QGIS_PYTHON.exists() or not QGIS_MODULE.exists():
        _missing(f"QGIS's Python bindings ({QGIS_MODULE}, Debian packages qgis python3-qgis)")
    return QGIS_PYTHON


@pytest.fixture(scope="session")
def read_qgis(qgis_python):
    """``read_qgis(project)``: what QGIS's own reader loads from a project file (layers,
    validity, renderer classes, aliases, abstracts; see tests/qgis_read.py), run in
    QGIS's Python, headless."""
    reader = Path(__file__).parent / "qgis_read.py"

    def read(project: Path) -> dict:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        env.pop("PYTHONPATH", None)
        done = subprocess.run([str(qgis_python), str(reader), str(project)],
                              capture_output=True, text=True, env=env, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout[done.stdout.index('{"read"'):])

    return read
