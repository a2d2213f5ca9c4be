"""The two databases a backup knows: a consistent snapshot of each, with the row counts,
the schema revision and the evidence files that snapshot holds; and a restore of it into
an empty database.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one
step, inside one read transaction — in WAL mode writers carry on meanwhile, and the copy
is the database as of one moment. (A plain copy of the file misses what is still in the
`-wal` file, or catches pages from different moments.)

PostgreSQL: a REPEATABLE READ transaction exports its snapshot; `pg_dump --snapshot`
dumps exactly that snapshot (custom format) while the same transaction counts the rows
and lists the evidence files. `pg_restore` loads it in one transaction into an empty
database: the rows by COPY, then the constraints and the append-only triggers
(tracker.audit.append_only), so the triggers come back and do not stand in the way.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

SQLITE_MEMBER = "database/tracker.sqlite3"
POSTGRESQL_MEMBER = "database/tracker.pgdump"
KINDS = ("sqlite", "postgresql")


class DatabaseError(Exception):
    """The database cannot be backed up or restored as asked; the message says why."""


@dataclass
class Snapshot:
    """A consistent copy of the database in a file, and what it holds."""

    kind: str
    member: str
    file: Path
    alembic_revision: str | None
    tables: dict[str, int]
    evidence: list[tuple[str, str | None]] = field(default_factory=list)  # (stored name, sha256)
    tool: str = ""


def kind_of(engine: Engine) -> str:
    if engine.dialect.name not in KINDS:
        raise DatabaseError(f"cannot back up or restore a {engine.dialect.name} database")
    return engine.dialect.name


def describe(connection: Connection) -> tuple[dict[str, int], str | None,
                                              list[tuple[str, str | None]]]:
    """Every table's row count, the alembic revision and the evidence files, as the
    connection's transaction sees them."""
    quote = connection.dialect.identifier_preparer.quote
    names = sorted(inspect(connection).get_table_names())
    tables = {name: connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()
              for name in names}
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    evidence = []
    if "evidence" in tables:
        evidence = [tuple(row) for row in connection.execute(text(
            "SELECT stored_name, sha256 FROM evidence WHERE stored_name IS NOT NULL "
            "ORDER BY id"))]
    return tables, revision, evidence


def snapshot(engine: Engine, workdir: Path, *, pg_bin: str | None = None) -> Snapshot:
    """A consistent copy of the database in `workdir`, described as of that moment."""
    if kind_of(engine) == "sqlite":
        return _sqlite_snapshot(engine, workdir)
    return _postgresql_snapshot(engine, workdir, pg_bin)


def is_empty(engine: Engine) -> bool:
    """No table, view or sequence outside the system's own: nothing a restore would meet."""
    if kind_of(engine) == "sqlite":
        path = _sqlite_path(engine)
        if not path.exists():
            return True
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("SELECT count(*) FROM sqlite_master "
                                "WHERE name NOT LIKE 'sqlite_%'").fetchone()[0] == 0
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'")).scalar_one() == 0


def restore(engine: Engine, dump: Path, *, pg_bin: str | None = None) -> str:
    """Load `dump` (a file made by `snapshot`) into the empty database; returns the tool."""
    engine.dispose()  # no pooled connection may outlive the database it was opened on
    if kind_of(engine) == "sqlite":
        return _sqlite_restore(engine, dump)
    return _postgresql_restore(engine, dump, pg_bin)


# --- SQLite ------------------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DatabaseError("only a SQLite database in a file can be backed up or restored")
    return Path(database).resolve()


def _sqlite_snapshot(engine: Engine, workdir: Path) -> Snapshot:
    source_path = _sqlite_path(engine)
    if not source_path.exists():
        raise DatabaseError(f"no database at {source_path}")
    copy = workdir / "tracker.sqlite3"
    with closing(sqlite3.connect(source_path, timeout=30)) as source, \
            closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # every page in one step: one read transaction, one moment
        target.execute("PRAGMA journal_mode = DELETE")  # the copy is one self-contained file
        check = target.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise DatabaseError(f"the copy of the database fails SQLite's check: {check}")
    tables, revision, evidence = _describe_file(copy)
    return Snapshot("sqlite", SQLITE_MEMBER, copy, revision, tables, evidence,
                    tool=f"sqlite3 {sqlite3.sqlite_version} online backup")


def _describe_file(path: Path):
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return describe(conn)
    finally:
        engine.dispose()


def _sqlite_restore(engine: Engine, dump: Path) -> str:
    target_path = _sqlite_path(engine)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(dump)) as source, \
                closing(sqlite3.connect(target_path)) as target:
            source.backup(target)
            check = target.execute("PRAGMA quick_check").fetchone()[0]
            target.execute("PRAGMA journal_mode = WAL")
        if check != "ok":
            raise DatabaseError(f"the restored database fails SQLite's check: {check}")
    except BaseException:
        for suffix in ("", "-wal", "-shm"):  # it was absent or empty: leave it so again
            Path(f"{target_path}{suffix}").unlink(missing_ok=True)
        raise
    return f"sqlite3 {sqlite3.sqlite_version} online backup"


# --- PostgreSQL --------------------------------------------------------------------------


def _libpq(engine: Engine) -> tuple[str, dict]:
    """A libpq connection URL without the password, and an environment carrying it (so
    it never shows in a process list)."""
    url = engine.url
    conninfo = url.set(drivername="postgresql", password=None) \
        .render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _major(version_text: str) -> int:
    match = re.search(r"\)\s+(\d+)", version_text) or re.search(r"(\d+)", version_text)
    return int(match.group(1)) if match else 0


def find_tool(name: str, server_major: int, configured: str | None = None) -> tuple[str, str]:
    """The path and version of `pg_dump`/`pg_restore` of the server's major version or
    newer: in `configured` (TRACKER_PG_BIN), else Debian's /usr/lib/postgresql/N/bin, else
    on the PATH."""
    candidates = [str(Path(configured) / name)] if configured else []
    candidates += [f"/usr/lib/postgresql/{server_major}/bin/{name}", shutil.which(name) or ""]
    seen = []
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        version = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
        seen.append(f"{candidate} ({version})")
        if _major(version) >= server_major:
            return candidate, version
    raise DatabaseError(
        f"no {name} for PostgreSQL {server_major} or newer"
        + (f" (found: {', '.join(seen)})" if seen else "")
        + f": install postgresql-client-{server_major}, or set TRACKER_PG_BIN to its folder")


def _server_major(conn: Connection) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _run(command: list[str], env: dict, what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DatabaseError(f"{what} failed (exit {done.returncode}): "
                            f"{done.stderr.strip()[-2000:]}")


def _postgresql_snapshot(engine: Engine, workdir: Path, pg_bin: str | None = None) -> Snapshot:
    dump = workdir / "tracker.pgdump"
    conninfo, env = _libpq(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        # The transaction stays open (idle) while pg_dump reads its snapshot: no timeout
        # set for the app's requests may end it.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        tool, version = find_tool("pg_dump", _server_major(conn), pg_bin)
        _run([tool, "--format=custom", "--no-password", f"--snapshot={snapshot_id}",
              f"--file={dump}", f"--dbname={conninfo}"], env, "pg_dump")
        tables, revision, evidence = describe(conn)
    return Snapshot("postgresql", POSTGRESQL_MEMBER, dump, revision, tables, evidence,
                    tool=version)


def _postgresql_restore(engine: Engine, dump: Path, pg_bin: str | None) -> str:
    conninfo, env = _libpq(engine)
    with engine.connect() as conn:
        major = _server_major(conn)
    engine.dispose()
    tool, version = find_tool("pg_restore", major, pg_bin)
    # One transaction: the database is restored whole, or left empty.
    _run([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          "--no-password", f"--dbname={conninfo}", str(dump)], env, "pg_restore")
    return version
