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
"""

from __future__ import annotations

import logging
from datetime import datetime

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
    return moment


def wait_for_writers(now: datetime, *, timeout: float) -> list[int]:
    """Return once every write stamped in an epoch before `now`'s has committed or failed.

    Runs in a transaction of its own: the caller must hold none with pending writes. On
    PostgreSQL, each earlier epoch still registered in (the two before `now`'s always, any
    older one found in `pg_locks`) is closed in turn — waiting for its writers, but at most
    `timeout` seconds, after which the stragglers' sessions are ended. Returns the process
    ids ended that way (normally none). On SQLite, taking the write lock once is the wait.
    """
    current = load_calendar().epoch(now)
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
