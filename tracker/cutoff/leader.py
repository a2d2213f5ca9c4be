"""One active scheduler among several hosts: a lease row in PostgreSQL (docs/cutoff.md,
"One active scheduler").

Every scheduler process campaigns for the row `scheduler_lease('scheduler')`: one upsert
takes it when it has expired (or renews it when this process holds it), with the expiry
set by the *database's* clock, so the hosts' clocks do not matter. The holder renews it
every third of `TRACKER_SCHEDULER_LEASE_SECONDS`; the others stand by and ask again every
`TRACKER_SCHEDULER_POLL_SECONDS`. A holder that dies stops renewing, and a standby takes
the row within lease + poll seconds.

The holder *acts* only while its own lease is valid by its own monotonic clock, counted
from the moment it sent the renewal (before the database stamped the expiry), less a
tenth: it stops acting before any standby can take over. A database blip shorter than the
lease changes nothing (no one can renew, no one can take over, and the holder's next
renewal succeeds); a longer one leaves the holder idle once its lease runs out, and
whichever scheduler reaches the database first afterwards holds it.

Correctness never rests on this: each cutoff day is processed exactly once whoever runs
it (`cutoff_runs`, tracker.fence). The lease only keeps the others from doing the same
work twice — and the reminders and digests, which are not exactly-once, from being sent
twice. On SQLite (one host) there is no election: every scheduler acts, as before.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import text

from tracker import clock
from tracker.extensions import db

log = logging.getLogger("tracker.scheduler")

LEASE = "scheduler"

_CLAIM = text("""
    INSERT INTO scheduler_lease (name, holder, acquired_at, renewed_at, expires_at)
    VALUES (:name, :holder, clock_timestamp(), clock_timestamp(),
            clock_timestamp() + make_interval(secs => :seconds))
    ON CONFLICT (name) DO UPDATE SET
      holder = excluded.holder,
      acquired_at = CASE WHEN scheduler_lease.holder = excluded.holder
                         THEN scheduler_lease.acquired_at ELSE excluded.acquired_at END,
      renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
    WHERE scheduler_lease.holder = excluded.holder
       OR scheduler_lease.expires_at < clock_timestamp()
    RETURNING holder
""")
_HOLDER = text("SELECT holder FROM scheduler_lease WHERE name = :name")
_RELEASE = text("UPDATE scheduler_lease SET expires_at = clock_timestamp() "
                "WHERE name = :name AND holder = :holder")


class Election:
    """This process's part in the election: `leading()` says whether it may act now."""

    def __init__(self, app, name: str):
        self.app = app
        self.name = name
        self.lease = app.config["TRACKER_SCHEDULER_LEASE_SECONDS"]
        self.poll = app.config["TRACKER_SCHEDULER_POLL_SECONDS"]
        with app.app_context():
            self.enabled = db.engine.dialect.name == "postgresql"
        self._until = 0.0  # time.monotonic() until which this process may act
        self._was_leading: bool | None = None

    def leading(self) -> bool:
        return not self.enabled or time.monotonic() < self._until

    def role(self) -> str:
        return "active" if self.leading() else "standby"

    def campaign(self) -> bool:
        """One attempt to take or renew the lease; returns whether this process leads."""
        if not self.enabled:
            return True
        sent = time.monotonic()
        try:
            with self.app.app_context(), db.engine.connect() as conn:
                # Never stuck longer than the lease on a database that does not answer
                # (LOCAL: the pooled connection keeps its own limits afterwards).
                conn.execute(text(f"SET LOCAL statement_timeout = "
                                  f"{int(self.lease * 1000 / 3)}"))
                won = conn.execute(_CLAIM, {"name": LEASE, "holder": self.name,
                                            "seconds": self.lease}).first() is not None
                holder = self.name if won else conn.execute(_HOLDER, {"name": LEASE}).scalar()
                conn.commit()
        except Exception as exc:  # the database is away: the lease runs on, or out
            log.warning("scheduler %s cannot reach the lease: %s", self.name,
                        f"{type(exc).__name__}: {exc}"[:300])
            self._note(self.leading(), None)
            return self.leading()
        self._until = sent + self.lease * 0.9 if won else 0.0
        self._note(won, holder)
        return won

    def _note(self, leading: bool, holder: str | None) -> None:
        if leading == self._was_leading:
            return
        self._was_leading = leading
        if leading:
            log.info("scheduler %s is the active scheduler", self.name)
        else:
            log.info("scheduler %s stands by (active: %s)", self.name, holder or "unknown")

    def run(self, stop: threading.Event, wake: int | None = None) -> None:
        """Campaign until `stop`: renew every third of the lease while leading, ask every
        poll interval while standing by; then give the lease up."""
        while not stop.is_set():
            leading = self.campaign()
            clock.pause(self.lease / 3 if leading else self.poll, wake=wake)
        self.resign()

    def resign(self) -> None:
        """A leader stopping on purpose lets a standby take over at its next poll."""
        if not self.enabled or not self.leading():
            return
        self._until = 0.0
        try:
            with self.app.app_context(), db.engine.begin() as conn:
                conn.execute(_RELEASE, {"name": LEASE, "holder": self.name})
        except Exception:  # it runs out by itself
            log.warning("scheduler %s could not give up its lease", self.name)
