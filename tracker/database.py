"""Engine set-up: SQLite made safe for a small multi-process deployment, PostgreSQL given
time limits (tracker.deadlines) so that a database that is down or frozen is noticed in
seconds, not waited for."""

from __future__ import annotations

import contextlib
import sqlite3

import psycopg
from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import ORMExecuteState, Session

from tracker import deadlines
from tracker.rules import vietnamese_sql
from tracker.rules.sql import SQLITE_LOCAL_DATE, sqlite_local_date

SYNCHRONOUS = ("FULL", "NORMAL")


def configure_engine_events(engine: Engine, config) -> None:
    if engine.dialect.name == "postgresql":
        deadlines.configure(engine, config)
        event.listen(engine, "rollback", commit_if_unwritten)
        return
    if engine.dialect.name != "sqlite":
        return
    synchronous = str(config.get("TRACKER_SQLITE_SYNCHRONOUS", "FULL")).upper()
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"TRACKER_SQLITE_SYNCHRONOUS must be one of {SYNCHRONOUS}")
    busy_ms = int(config.get("TRACKER_SQLITE_BUSY_TIMEOUT_MS", 10000))
    zone = config.get("TRACKER_TIMEZONE", "Asia/Ho_Chi_Minh")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, say when a transaction begins (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The rules' SQL twins need a timestamp's date in the zone (tracker.rules.sql).
        dbapi_connection.create_function(SQLITE_LOCAL_DATE, 2, sqlite_local_date,
                                         deterministic=True)
        # The zone the task counts' triggers judge in (tracker.tasks.counts).
        dbapi_connection.create_function("tracker_zone", 0, lambda: zone, deterministic=True)
        # Names sorted in Vietnamese order (tracker.rules.vietnamese_sql.by_name).
        vietnamese_sql.register_sqlite(dbapi_connection)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk before it is acknowledged, even through a power
            # loss (NORMAL, WAL's usual setting, may lose the last commits then). Its cost
            # is measured in docs/performance.md ("SQLite durability").
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # BEGIN IMMEDIATE takes the write lock up front: a transaction that reads and then
        # writes can then never fail half-way with "database is locked"; it waits its turn
        # (busy_timeout) instead, and commits all or nothing.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A transaction that wrote nothing is ended by COMMIT, not ROLLBACK. Both leave the database
# as it was, but psycopg forgets every statement it has prepared on the connection at a
# ROLLBACK (one may have undone the creation of a table they name) — so a connection whose
# transactions all ended that way, as every read request's did, never kept a prepared
# statement: each request's statements were parsed and planned anew, 40 % of the database's
# time for a commune's page of tasks (docs/performance.md, "Prepared statements kept").
# PostgreSQL says whether the transaction wrote: it has a transaction id only once it has
# written (a row, a row lock, a table); one round trip, in place of the DEALLOCATE ALL that
# psycopg sends after a ROLLBACK. Nothing the app does in a transaction outlives a COMMIT
# without a write (it sends no LISTEN or NOTIFY, holds no cursor WITH HOLD, and sets its
# settings outside transactions, tracker.deadlines).
_UNWRITTEN = "SELECT pg_current_xact_id_if_assigned() IS NULL"


def commit_if_unwritten(connection) -> None:
    """Before SQLAlchemy rolls back `connection`'s transaction on PostgreSQL: commit it
    instead if it wrote nothing (the rollback is then a no-op); otherwise, or if the
    question cannot be asked (the transaction failed, the connection is lost), leave the
    rollback to do its work."""
    if connection.invalidated or connection.closed:
        return
    driver = connection.connection.driver_connection
    if driver.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        return
    try:
        unwritten = deadlines.execute_raw(connection, _UNWRITTEN, None)
    except DBAPIError:
        return
    if unwritten and unwritten[0]:
        with contextlib.suppress(psycopg.Error):  # then the rollback ends it, or finds it lost
            driver.commit()


# Whether a session's transaction has written anything yet (`session.info["wrote"]`), so
# that slow work with nothing to write, such as hashing a password
# (tracker.auth.passwords.hash_unlocked), may end a read-only transaction first and not
# hold SQLite's write lock through it. Any statement that is not a SELECT counts as a
# write (raw SQL too: an advisory lock must not be let go early).


# The request remembers it too (`g.wrote`), for tracker.replica.


def _wrote(session) -> None:
    session.info["wrote"] = True
    if has_app_context():
        g.wrote = True


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    _wrote(session)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        _wrote(state.session)


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)


# Errors that say the database is unavailable for now, not that the request is wrong:
# SQLSTATE classes 08 (connection), 53 (out of resources: too many connections), 57
# (cancelled by a timeout, shut down, starting up), 58 (system I/O), and a lock not
# obtained in time, a serialization failure, a deadlock.
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")
_UNAVAILABLE_STATES = {"55P03", "40001", "40P01"}
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "disk i/o error",
                       "unable to open database file")


def nul_character(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL's driver refusing text with a NUL character — input
    that a service did not check (the services refuse it, naming the field; this is the
    backstop that makes it a 400 on every route, never a 500)."""
    return isinstance(exc, DBAPIError) and isinstance(exc.orig, psycopg.DataError) \
        and "NUL" in str(exc.orig)


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means "the database cannot serve this now, try again shortly" (503)
    rather than a fault in the app (500)."""
    if isinstance(exc, PoolTimeout | DisconnectionError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    original = exc.orig
    if isinstance(original, sqlite3.Error):
        return str(original).lower().startswith(_SQLITE_UNAVAILABLE)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None:  # the driver's own: no connection at all
        return isinstance(original, psycopg.OperationalError)
    return sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate in _UNAVAILABLE_STATES
