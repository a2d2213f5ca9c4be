"""Engine set-up: SQLite made safe for a small multi-process deployment."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session

from tracker.rules.sql import SQLITE_LOCAL_DATE, sqlite_local_date


def configure_engine_events(engine: Engine, config) -> None:
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(config.get("TRACKER_SQLITE_BUSY_TIMEOUT_MS", 10000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, say when a transaction begins (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The rules' SQL twins need a timestamp's date in the zone (tracker.rules.sql).
        dbapi_connection.create_function(SQLITE_LOCAL_DATE, 2, sqlite_local_date,
                                         deterministic=True)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # BEGIN IMMEDIATE takes the write lock up front: a transaction that reads and then
        # writes can then never fail half-way with "database is locked"; it waits its turn
        # (busy_timeout) instead, and commits all or nothing.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# Whether a session's transaction has written anything yet (`session.info["wrote"]`), so
# that slow work with nothing to write, such as hashing a password
# (tracker.auth.passwords.hash_unlocked), may end a read-only transaction first and not
# hold SQLite's write lock through it. Any statement that is not a SELECT counts as a
# write (raw SQL too: an advisory lock must not be let go early).


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info["wrote"] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)
