"""Time limits on PostgreSQL, so that a database that is down, frozen or stuck on a lock
costs a request seconds and an answer (503, tracker.web.errors), never a hung worker.

- **The server's limits**, set on each connection as it is handed out:
  `statement_timeout`, `lock_timeout` and `idle_in_transaction_session_timeout` (and the
  app's zone, `tracker.zone`, for the task counts' triggers: tracker.tasks.counts). A web
  request gets the web's (TRACKER_DB_STATEMENT_TIMEOUT, _LOCK_TIMEOUT, _IDLE_TIMEOUT);
  anything else — the commands, the scheduler's cutoff, migrations — the jobs' longer
  statement limit (TRACKER_DB_JOB_STATEMENT_TIMEOUT) and no lock or idle limit.
- **A check before use**: the same round trip that sets the limits proves the connection
  alive (SQLAlchemy's pre-ping, done here instead). A connection the server dropped is
  replaced at once; one that does not answer within TRACKER_DB_CONNECT_TIMEOUT is given up.
  Once per request per connection: a connection this request has already checked and
  given back (the rate count's, taken again by the request's session) is handed out
  without another round trip; a fault after the check is the statements' watchdog's.
- **The client's own deadline**: a frozen server (or a network that swallows packets)
  enforces no timeout of its own, and the driver would wait for ever. A watchdog thread
  shuts the socket of a statement still waiting a little after its statement limit (or of a
  check after the connect limit); the driver then fails, SQLAlchemy drops that connection,
  and the next request connects afresh — which is how the app recovers by itself.
  The few statements the 16:00 rush sends straight through the driver (the fence's
  registration; as `RushStatement`s, the rate count, the API token's lookup, the settings'
  read) go through `execute_raw`, under the same deadline.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

import psycopg
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError

GRACE = 2.0  # the server cancels a statement itself at its limit; the watchdog only after
_PROFILE = "tracker_profile"  # connection record info: the limits set on that connection
_LIMIT = "tracker_statement_limit"
_FROZEN = "tracker.database_frozen"  # in a request's environ: its first check went unanswered
_REQUEST = "tracker.database_request"  # in a request's environ: a token of that request
_CHECKED = "tracker_checked_in"  # connection record info: the request that last gave it back


class _Watchdog:
    """Deadlines of the statements waiting on the database, by driver connection."""

    def __init__(self):
        self._lock = threading.Lock()
        self._due: dict[int, tuple[float, object]] = {}
        self._fired: set[int] = set()
        self._thread: threading.Thread | None = None

    def watch(self, connection, seconds: float) -> None:
        with self._lock:
            self._fired.discard(id(connection))
            self._due[id(connection)] = (time.monotonic() + seconds, connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tracker-db-deadlines",
                                                daemon=True)
                self._thread.start()

    def release(self, connection) -> bool:
        """Stop watching `connection`; whether its deadline had passed (its socket shut)."""
        with self._lock:
            self._due.pop(id(connection), None)
            if id(connection) in self._fired:
                self._fired.discard(id(connection))
                return True
            return False

    def _run(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                late = [(key, conn) for key, (due, conn) in self._due.items() if due <= now]
                for key, _conn in late:
                    del self._due[key]
                    self._fired.add(key)
            for _key, conn in late:
                _shut(conn)


def _shut(connection) -> None:
    """Shut the connection's socket: the driver's wait ends with an error at once."""
    with contextlib.suppress(Exception):
        duplicate = socket.socket(fileno=os.dup(connection.fileno()))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()


watchdog = _Watchdog()


def _profile(config) -> tuple[tuple[str, ...], float, float]:
    """(the settings to send, the statement limit, the connect limit) for this caller."""
    def ms(name: str) -> str:
        return str(int(float(config.get(name, 0)) * 1000))

    if has_request_context():
        limits = (ms("TRACKER_DB_STATEMENT_TIMEOUT"), ms("TRACKER_DB_LOCK_TIMEOUT"),
                  ms("TRACKER_DB_IDLE_TIMEOUT"))
    else:
        limits = (ms("TRACKER_DB_JOB_STATEMENT_TIMEOUT"), "0", "0")
    # The zone the task counts' triggers judge a done task's "in time" in (tracker.tasks.counts).
    limits += (config.get("TRACKER_TIMEZONE", "Asia/Ho_Chi_Minh"),)
    # A reading request's statements planned for their parameters every time (below); a
    # writing request's (a few lookups by key, run thousands of times in the rush) and the
    # jobs' (the cutoff's) as PostgreSQL chooses: a generic plan once it looks no dearer.
    reading = has_request_context() and request.method in ("GET", "HEAD")
    limits += ("force_custom_plan" if reading else "auto",)
    return limits, int(limits[0]) / 1000, float(config.get("TRACKER_DB_CONNECT_TIMEOUT", 5))


# Timestamps come back in UTC, whatever the server's default zone: the app stores and
# compares UTC only, and the driver reads a session named "UTC" with the plain UTC tzinfo,
# at half the cost per value of a zone it must look up (a cutoff reads millions).
# A reading request's statement that the driver has prepared (its sixth run on a
# connection) is still planned for its own parameters on every run, as an unprepared one
# is: PostgreSQL would otherwise try one generic plan for all parameters, and keep it when
# it looks no dearer — which took the comparison of two days from 0.6 s to 15 s at 3.3 M
# tasks (docs/performance.md, "Prepared statements kept"). What preparing saves a read is
# the parsing. A write's statements keep their generic plans: planned each time as well,
# the bench's single updates fell from 319 to 246 a second and its batches from 11,454 to
# 8,653 items a second at 3.3 M tasks (its floor from 1,052 to 981).
_SET = ("SELECT set_config('statement_timeout', %s, false),"
        " set_config('lock_timeout', %s, false),"
        " set_config('idle_in_transaction_session_timeout', %s, false),"
        " set_config('tracker.zone', %s, false),"
        " set_config('TimeZone', 'UTC', false),"
        " set_config('plan_cache_mode', %s, false)")


def configure(engine: Engine, config) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):
        # libpq counts whole seconds, at least 2.
        limit = float(config.get("TRACKER_DB_CONNECT_TIMEOUT", 5))
        cparams.setdefault("connect_timeout", max(2, round(limit)))
        if not has_request_context():
            return None  # SQLAlchemy connects
        if request.environ.get(_FROZEN):
            raise psycopg.OperationalError(request.environ[_FROZEN])
        try:
            return dialect.connect(*cargs, **cparams)
        except psycopg.OperationalError as exc:
            request.environ[_FROZEN] = f"the database could not be reached: {exc}"
            raise

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy):
        limits, statement_limit, connect_limit = _profile(config)
        if has_request_context() and request.environ.get(_FROZEN):
            # This request already waited out the connect limit once: it is answered 503
            # now, not after another wait for each further connection it asks for.
            raise psycopg.OperationalError(request.environ[_FROZEN])
        watchdog.release(dbapi_connection)
        checked = request.environ.get(_REQUEST) if has_request_context() else None
        if checked is not None and record.info.get(_CHECKED) is checked \
                and record.info.get(_PROFILE) == limits:
            # Checked by this request already (and given back since): no second round trip.
            record.info[_LIMIT] = statement_limit
            return
        was_autocommit = dbapi_connection.autocommit
        watchdog.watch(dbapi_connection, connect_limit)
        try:
            dbapi_connection.autocommit = True  # the settings outlive this round trip
            with dbapi_connection.cursor() as cursor:
                if record.info.get(_PROFILE) == limits:
                    cursor.execute("SELECT 1")
                else:
                    cursor.execute(_SET, limits)
                    record.info[_PROFILE] = limits
            dbapi_connection.autocommit = was_autocommit
        except psycopg.Error as exc:
            if watchdog.release(dbapi_connection):
                # Frozen: no answer in time. Another connection would wait as long.
                message = f"the database did not answer within {connect_limit:g} s"
                if has_request_context():
                    request.environ[_FROZEN] = message
                raise psycopg.OperationalError(message) from exc
            raise DisconnectionError(str(exc)) from exc  # dropped: the pool reconnects
        watchdog.release(dbapi_connection)
        record.info[_LIMIT] = statement_limit

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        record.info.pop(_CHECKED, None)
        if dbapi_connection is not None:
            watchdog.release(dbapi_connection)
            if has_request_context():
                # A token of this request (kept alive by the record: never another's id).
                record.info[_CHECKED] = request.environ.setdefault(_REQUEST, object())

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, _cursor, _statement, _parameters, _context, _executemany):
        limit = conn.info.get(_LIMIT)
        if limit:
            watchdog.watch(conn.connection.dbapi_connection, limit + GRACE)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, _cursor, _statement, _parameters, _context, _executemany):
        if conn.info.get(_LIMIT):
            watchdog.release(conn.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _error(context):
        with contextlib.suppress(Exception):
            watchdog.release(context.connection.connection.dbapi_connection)


def execute_raw(connection, statement: str, parameters, *, every_row: bool = False):
    """Run `statement` (in the driver's own style: `%s` or `%(name)s`) straight through the
    driver of SQLAlchemy `connection`, and return its first row (None if none), or with
    `every_row` the list of its rows. For the few statements sent before every write or API
    request of the 16:00 rush, where SQLAlchemy's own execution costs more than the round
    trip.

    Under the rules SQLAlchemy's execution would give it: the watchdog's deadline (the
    statement limit of the connection's profile, and the grace), and a driver error raised
    as SQLAlchemy's `DBAPIError` — so that a database that is away, frozen or refusing a
    lock is answered 503 (tracker.database.unavailable), never a 500 — with a connection
    that is lost invalidated, so that the pool replaces it."""
    fairy = connection.connection
    dbapi, driver = fairy.dbapi_connection, fairy.driver_connection
    limit = connection.info.get(_LIMIT)
    if limit:
        watchdog.watch(dbapi, limit + GRACE)
    try:
        with driver.cursor() as cursor:
            cursor.execute(statement, parameters)
            return cursor.fetchall() if every_row else cursor.fetchone()
    except psycopg.Error as exc:
        fired = watchdog.release(dbapi)
        lost = fired or driver.closed
        if fired and has_request_context():
            # No answer, not even the server's own timeout: this request asks for no
            # further connection (as after a check that went unanswered).
            request.environ[_FROZEN] = f"the database did not answer within {limit + GRACE:g} s"
        if lost:
            with contextlib.suppress(Exception):
                connection.invalidate(exc)
        raise DBAPIError.instance(statement, parameters, exc, psycopg.Error,
                                  hide_parameters=True, connection_invalidated=lost) from exc
    finally:
        watchdog.release(dbapi)


class RushStatement:
    """A statement sent before every write or API request of the 16:00 rush: on PostgreSQL
    straight through the driver (`execute_raw`), as compiled once for it; elsewhere through
    SQLAlchemy. `run` gives its first row (None if none), or with `every_row` its rows."""

    def __init__(self, statement):
        self.statement = statement
        self.raw = str(statement.compile(dialect=postgresql_psycopg.dialect()))

    def run(self, connection, parameters=None, *, every_row: bool = False):
        if connection.dialect.name == "postgresql":
            return execute_raw(connection, self.raw, parameters, every_row=every_row)
        result = connection.execute(self.statement, parameters or {})
        return result.all() if every_row else result.first()
