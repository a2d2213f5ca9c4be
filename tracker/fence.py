"""The stamp of a write, and the fence the cutoff waits behind ("fair at the second",
SPEC §5). docs/cutoff.md tells the whole story; in short:

**The stamp.** Every write the cutoff judges or that stores a colour — a progress update, a
task's creation, edit or change of status, a change of the calendar or the policy — is
stamped by `stamp()`: the clock of the process that serves it (`tracker.clock`, UTC), read
*after* its transaction has registered with the fence of the stamp's epoch
(`WorkCalendar.epoch`) and before it locks any task. An update counts for reporting day D
exactly when its stamp is at or before D's cutoff moment.

**The fence.** On PostgreSQL, registering is a shared, transaction-level advisory lock keyed
by the epoch, held until the writer commits or rolls back. Before judging a day (and before
refreshing stored colours after a midnight), `wait_for_writers` takes the keys of the
epochs before the current one exclusively: that is granted only once every transaction
registered in them has ended, and it is released at once. A writer that registers after
that reads its clock after the cutoff moment, so its stamp is later and its update counts
for the next day. Writers of the new epoch take another key: they never wait for the
cutoff. A straggler that holds its registration longer than `TRACKER_CUTOFF_WAIT_SECONDS`
is ended (its write fails, it was never acknowledged), so the wait is bounded.

On SQLite every transaction begins with BEGIN IMMEDIATE (`tracker.database`): writers are
serialised by the database's one write lock, the stamp is read once that lock is held, and
so every write stamped before the cutoff has committed before the cutoff's own transaction
can begin.

**Received before, reached after.** A request waits before its worker reaches `stamp()`: in
the proxy's and the server's queues and in the worker's first steps, a second or more in a
rush. One received before a boundary (a cutoff, a midnight) and reached after it keeps the
moment it was received (`received_at`: the web host's nginx says when it had the request
whole, `X-Request-Start`, believed behind `TRACKER_TRUSTED_PROXIES`; else the moment the
app began on it) — if its worker reaches the stamp within `TRACKER_CUTOFF_GRACE_SECONDS`
of the boundary. It registers with the closing epoch *before* it reads the clock for that
test, and `wait_for_writers` closes no epoch until that grace has passed, so the cutoff
waits for every writer the grace admits, and a writer reaching the stamp after it is
stamped when it got there (its update counts for the next day).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tracker import clock
from tracker.deadlines import execute_raw
from tracker.extensions import db
from tracker.rules.store import load_calendar

log = logging.getLogger("tracker.cutoff")

# The fence's advisory locks are (NAMESPACE, epoch), apart from any other use of them.
NAMESPACE = 0x54524B  # "TRK"
_HELD = "tracker_fence"  # session.info: ((transaction, savepoint), the epochs registered)
RECEIVED = "tracker.received"  # a request's environ: when the server had it (aware UTC)
REQUEST_START = "HTTP_X_REQUEST_START"  # nginx's "t=<seconds since the epoch>"
_BELIEVED_AGE = timedelta(minutes=5)  # a proxy's receipt older than this is not believed

_REGISTER_RAW = "SELECT pg_advisory_xact_lock_shared(%s, %s)"
_CLOSE = text("SELECT pg_advisory_xact_lock(:ns, :epoch)")
_HOLDERS = text("""
    SELECT l.pid, l.objid::bigint AS epoch, now() - a.xact_start AS open_for
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.classid::bigint = :ns AND l.objsubid = 2
      AND l.granted AND l.pid <> pg_backend_pid() AND l.objid::bigint < :before
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
""")  # advisory locks are per database: another deployment's writers on the server are not ours


def _register(epoch: int) -> None:
    connection = db.session.connection()  # begins the transaction (SQLite: the write lock)
    if connection.dialect.name != "postgresql":
        return
    # Registered once per transaction — and per savepoint, as rolling one back releases
    # the locks taken since.
    session = db.session()
    transaction = (session.get_transaction(), session.get_nested_transaction())
    held = db.session.info.get(_HELD)
    if held is None or held[0] != transaction:
        held = db.session.info[_HELD] = (transaction, set())
    if epoch not in held[1]:
        # Straight through the driver (under the client's deadline): this runs before
        # every write of the 16:00 rush.
        execute_raw(connection, _REGISTER_RAW, (NAMESPACE, epoch))
        held[1].add(epoch)


def stamp(at: datetime | None = None) -> datetime:
    """The server stamp of a write in the current transaction, read from the app's clock
    once the transaction is inside the fence of the stamp's epoch (see the module
    docstring). Call it before locking any task.

    `at` gives the stamp instead of the clock (the demo's history, tests that place a
    write at a chosen moment); the write is still registered in that moment's epoch."""
    calendar = load_calendar()
    if at is not None:
        _register(calendar.epoch(at))
        return at
    guess = calendar.epoch(clock.now())
    _register(guess)
    moment = clock.now()
    if calendar.epoch(moment) != guess:  # the clock crossed a boundary meanwhile
        _register(calendar.epoch(moment))
    received = received_at()
    if received is None or received >= moment:
        return moment
    first = calendar.epoch(received)
    if first == calendar.epoch(moment):
        return moment  # no boundary between: the stamp is when the write was reached
    # Received before a boundary, reached after it: registered with the closing epoch
    # first, then the clock read again — within the grace, the cutoff has not closed that
    # epoch yet (`wait_for_writers`) and will wait for this write.
    _register(first)
    grace = timedelta(seconds=current_app.config["TRACKER_CUTOFF_GRACE_SECONDS"])
    if clock.now() <= calendar.epoch_end(first) + grace:
        return received
    return moment


def received_at() -> datetime | None:
    """When the server had the current request (`RECEIVED`, set as it came in:
    `mark_received`); None outside a request."""
    return request.environ.get(RECEIVED) if has_request_context() else None


def mark_received(app) -> None:
    """Note in each request's environ when the server had it: the web host's nginx's
    `X-Request-Start` (the moment it had the request whole) when the app trusts its proxies
    (`TRACKER_TRUSTED_PROXIES`) and the time is plausible (not ahead of this host's clock,
    not older than `_BELIEVED_AGE`); else the moment the app began on it."""
    inner, config = app.wsgi_app, app.config

    def wsgi_app(environ, start_response):
        now = config.get("CLOCK", clock.system_now)()
        received = now
        header = environ.get(REQUEST_START, "") if config.get("TRACKER_TRUSTED_PROXIES") \
            else ""
        if header.startswith("t="):
            try:
                told = datetime.fromtimestamp(float(header[2:]), UTC)
            except (ValueError, OverflowError, OSError):
                told = None
            if told is not None and now - _BELIEVED_AGE <= told <= now:
                received = told
        environ[RECEIVED] = received
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app


def wait_for_writers(now: datetime, *, timeout: float) -> list[int]:
    """Return once every write stamped in an epoch before `now`'s has committed or failed.

    Runs in a transaction of its own: the caller must hold none with pending writes. On
    PostgreSQL, each earlier epoch still registered in (the two before `now`'s always, any
    older one found in `pg_locks`) is closed in turn — waiting for its writers, but at most
    `timeout` seconds, after which the stragglers' sessions are ended. Returns the process
    ids ended that way (normally none). On SQLite, taking the write lock once is the wait.
    """
    calendar = load_calendar()
    current = calendar.epoch(now)
    # A write received before the boundary just passed may still reach its stamp within
    # the grace (`stamp`): no epoch is closed before the grace is over.
    grace = timedelta(seconds=current_app.config["TRACKER_CUTOFF_GRACE_SECONDS"])
    left = (calendar.epoch_end(current - 1) + grace - clock.now()).total_seconds()
    if left > 0:
        db.session.commit()  # no transaction held open through the wait
        clock.pause(min(left, grace.total_seconds()))
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.commit()
        return []
    epochs = {current - 1, current - 2} | {
        row.epoch for row in db.session.execute(_HOLDERS, {"ns": NAMESPACE,
                                                             "before": current})}
    ended: list[int] = []
    for epoch in sorted(epochs):
        ended += _close(epoch, timeout)
    db.session.commit()
    return ended


def _close(epoch: int, timeout: float) -> list[int]:
    """Take `epoch`'s key exclusively within the caller's transaction (released with it)."""
    ended: list[int] = []
    for _attempt in range(3):
        try:
            with db.session.begin_nested():
                db.session.execute(text(f"SET LOCAL lock_timeout = {int(timeout * 1000)}"))
                db.session.execute(_CLOSE, {"ns": NAMESPACE, "epoch": epoch})
            return ended
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
        holders = db.session.execute(_HOLDERS, {"ns": NAMESPACE, "before": epoch + 1}).all()
        for holder in holders:
            if holder.epoch != epoch:
                continue
            log.warning("a write registered before the cutoff has been open for %s; "
                        "ending its session (pid %s) so that the day can be judged",
                        holder.open_for, holder.pid)
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.pid})
            ended.append(holder.pid)
        clock.pause(0.05)
    raise RuntimeError(f"could not close epoch {epoch}: its writers did not end")
