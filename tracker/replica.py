"""Reads that may lag, on a replica (`DATABASE_READ_URL`): the dashboards, the reports, the
exports and the search may read a PostgreSQL streaming replica, so that a leader's big
reads do not take the primary's cores at 15:55. Everything else — every write, and what a
user must see right after writing — reads the primary.

- **Which reads**: the views marked `@may_lag`. In such a request the session sends its
  plain SELECTs to the replica until it writes (tracker.extensions.Session); a SELECT …
  FOR UPDATE, raw SQL and everything after a write go to the primary.
- **How late at most**: before a marked request uses the replica, one round trip asks it
  how far its data reaches (`data_as_of`: the commit time of the last transaction it
  replayed, or now if it has replayed all it received). Older than TRACKER_READ_MAX_LAG
  seconds (default 30): the primary serves the request. The page then says "Số liệu lúc …"
  and the API answers with a `Data-As-Of` header.
- **Your own writes**: a request of the web that wrote records the primary's WAL position in
  the user's session; the replica serves that user only once it has replayed that far.
- **A replica down** (no answer within the connect limit, or an error that says it is
  unavailable): the primary serves, and the replica is not tried again for
  TRACKER_READ_RETRY_AFTER seconds (default 10), on this process.

Without `DATABASE_READ_URL` (and on SQLite) nothing changes: every read is the primary's.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from functools import wraps

from flask import current_app, g, has_request_context, session
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from tracker.extensions import READS, db

BIND = "replica"  # the key of the replica's engine in SQLALCHEMY_BINDS
WROTE_LSN = "wrote_lsn"  # the user's session: the primary's WAL position after a write

_AS_OF = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL "
    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN now() "
    "ELSE pg_last_xact_replay_timestamp() END, now(), "
    "COALESCE(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true)")
_CURRENT_LSN = text("SELECT CAST(pg_current_wal_insert_lsn() AS text)")


class _Health:
    """Whether this process should try the replica now (after a failure, not for a while)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._down_until = 0.0

    def usable(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._down_until

    def failed(self, retry_after: float) -> None:
        with self._lock:
            self._down_until = time.monotonic() + retry_after


health = _Health()


def replica_engine() -> Engine | None:
    return db.engines.get(BIND) if BIND in current_app.config.get("SQLALCHEMY_BINDS", {}) \
        else None


def configure(app, configure_engine_events) -> None:
    """The replica's engine gets the primary's time limits, and any error on it that says
    it is unavailable sets it aside for a while."""
    from tracker.database import unavailable

    if BIND not in app.config.get("SQLALCHEMY_BINDS", {}):
        return
    with app.app_context():
        engine = db.engines[BIND]
    configure_engine_events(engine, app.config)

    @event.listens_for(engine, "handle_error")
    def _set_aside(context) -> None:
        if unavailable(context.sqlalchemy_exception or context.original_exception) \
                or context.is_disconnect:
            health.failed(app.config["TRACKER_READ_RETRY_AFTER"])

    app.after_request(_remember_write)


def may_lag(view):
    """Mark a view whose reads may come from the replica (see the module's docstring)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        _choose()
        return view(*args, **kwargs)

    return wrapped


def data_as_of() -> datetime | None:
    """When the data this request reads from the replica stood (None: the primary's)."""
    return g.get("data_as_of") if has_request_context() else None


def _choose() -> None:
    engine = replica_engine()
    if engine is None or not health.usable():
        return
    config = current_app.config
    try:
        with engine.connect() as connection:
            as_of, now, has_mine = connection.execute(
                _AS_OF, {"lsn": session.get(WROTE_LSN) or "0/0"}).one()
    except Exception:
        health.failed(config["TRACKER_READ_RETRY_AFTER"])
        return
    if not has_mine or (now - as_of).total_seconds() > config["TRACKER_READ_MAX_LAG"]:
        return
    db.session.info[READS] = engine
    g.data_as_of = as_of


def _remember_write(response):
    """After a web request that wrote, the primary's WAL position goes into the user's
    session: that user reads the replica again only once it has replayed so far."""
    if g.get("wrote") and not _token_request():
        try:
            with db.engine.connect() as connection:
                session[WROTE_LSN] = connection.scalar(_CURRENT_LSN)
        except Exception:
            pass
    as_of = data_as_of()
    if as_of is not None:
        response.headers["Data-As-Of"] = as_of.isoformat(timespec="seconds")
    return response


def _token_request() -> bool:
    from flask import request

    return request.headers.get("Authorization", "").startswith("Bearer ")
