"""The scheduler process: it only decides *when*; the jobs are plain functions.

- Every second, `KeepUp.tick`: process every due cutoff day, in date order, as soon as it
  is due (`tracker.cutoff.backlog.process_due`), and refresh the stored colours once after
  each midnight (a refresh that a cutoff's moment overtakes stops there: the cutoff's own
  pass refreshes them). Nothing waits for a fixed time of day, so no start, crash,
  restart or outage can push a day to tomorrow: a day is due from its cutoff moment until
  it is processed. When a tick cannot make progress (the database is down, a run fails),
  it logs an error every time, records it for `tracker cutoff status` and the health
  endpoint, and tries again after 1, 2, 4 … seconds, at most `MAX_BACKOFF` — so a due day
  is processed within half a minute of the database coming back.
- Beside it, in a thread of its own so that none of it can hold a cutoff up (a slow mail
  server, a forecast batch on a loaded database), `KeepUp.after_tick` every second: the
  e-mails owed at once, then the work that follows a cutoff (`after_cutoff`: the day's
  stored forecast, tracker.forecast.store.forecast_due — given by the command, as the
  cutoff's package does not import the forecast's), in batches that stop as soon as a
  cutoff falls due or the lease is lost.
- At the reminder times (14:00 and 15:30 by default), APScheduler reminds the units that
  still owe updates; at the digest time (17:00 by default) of each working day it sends
  each user who chose it the day's digest e-mail.
- Every hour, the idempotency keys older than a day are deleted
  (`tracker.idempotency.service.purge_expired`).

Every job runs in its own app context and transactions, and sends e-mail only after its
commits. Running two schedulers is safe: each cutoff day is processed exactly once. On
PostgreSQL only one of them acts, the holder of the lease (tracker.cutoff.leader); the
others stand by, writing their heartbeats, and one takes over when the leader is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker import clock
from tracker.cutoff.backlog import forget_heartbeat, process_due, record_heartbeat
from tracker.cutoff.job import due_days
from tracker.cutoff.leader import Election
from tracker.extensions import db
from tracker.idempotency.service import purge_expired
from tracker.notifications.mail import deliver_digests, deliver_emails
from tracker.notifications.service import send_reminders

log = logging.getLogger("tracker.scheduler")

TICK = 1.0  # seconds between two looks at the backlog
MAX_BACKOFF = 30.0  # seconds at most between two attempts while failing
HEARTBEAT = timedelta(seconds=15)
AFTER_CUTOFF_RETRY = 60.0  # seconds before a failed forecast is tried again


class KeepUp:
    """Keeps the cutoff up to date: one `tick` a second, with backoff while failing."""

    def __init__(self, app, name: str | None = None, election: Election | None = None,
                 after_cutoff: Callable[[Callable[[], bool]], object] | None = None):
        self.app = app
        self.after_cutoff = after_cutoff
        self.after_retry_at = 0.0  # time.monotonic() before which it is not tried again
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.election = election
        self.wait_seconds = app.config["TRACKER_CUTOFF_WAIT_SECONDS"]
        with app.app_context():
            self.started_at = clock.now()
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at = None
        self.retry_at = 0.0  # time.monotonic() before which no attempt is made
        self.next_heartbeat = None
        self.stopping: threading.Event | None = None  # set by `after_until`'s caller

    def tick(self) -> bool:
        """One look at the backlog; returns whether it succeeded (or had nothing to try).
        It does nothing else, so that nothing else can make a due day wait."""
        if time.monotonic() < self.retry_at:
            return True
        if self.election is not None and not self.election.leading():
            return True  # standing by: the active scheduler does it
        try:
            with self.app.app_context():
                process_due(wait_seconds=self.wait_seconds, on_day=self._processed)
                if self.failures:
                    log.info("cutoff processing recovered after %s failed attempt(s)",
                             self.failures)
                    self.failures = 0
                    self.next_heartbeat = None
                self._heartbeat()
            return True
        except Exception as exc:  # the database is down, a run failed: try again soon
            self._failed(exc)
            return False

    def after_tick(self) -> None:
        """The work beside the cutoff, run by `after_until` in a thread of its own: the
        e-mails owed at once, then the work after the cutoff — by the active scheduler
        only. Each part logs its own failure; none is the cutoff's."""
        if self.election is not None and not self.election.leading():
            return
        with self.app.app_context():
            _deliver()
            self._after_cutoff()

    def after_until(self, stop: threading.Event, wake: int | None = None) -> None:
        """`after_tick` every TICK until `stop` (which also pauses the work in hand)."""
        self.stopping = stop
        while not stop.is_set():
            try:
                self.after_tick()
            except Exception:  # (an app context that cannot even start) try again
                log.exception("the work beside the cutoff failed; trying again")
            if stop.is_set():  # (`wake` may be closed by now)
                return
            clock.pause(TICK, wake=wake)

    def _keep_going(self) -> bool:
        """Whether the work after the cutoff may go on: still leading, no cutoff due, not
        stopping."""
        if self.stopping is not None and self.stopping.is_set():
            return False
        if self.election is not None and not self.election.leading():
            return False
        due = due_days(clock.now())
        db.session.rollback()
        return not due

    def _after_cutoff(self) -> None:
        """The work after the cutoff; its failure is logged and retried a minute later,
        never counted as the cutoff's (which must go on)."""
        if self.after_cutoff is None or time.monotonic() < self.after_retry_at:
            return
        try:
            if not self._keep_going():  # a cutoff is due (or this one stands by): later
                return
            self.after_cutoff(self._keep_going)
        except Exception:
            db.session.rollback()
            self.after_retry_at = time.monotonic() + AFTER_CUTOFF_RETRY
            log.exception("the work after the cutoff failed; trying again in %.0f s",
                          AFTER_CUTOFF_RETRY)

    def _processed(self, summary) -> None:
        if summary.already_processed:
            return
        log.info("cutoff %s processed: %s", summary.date, summary.public())

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        delay = min(2.0 ** (self.failures - 1), MAX_BACKOFF)
        self.retry_at = time.monotonic() + delay
        self.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        with self.app.app_context():
            self.last_error_at = clock.now()
        log.error("cannot process the cutoff (attempt %s failed; next in %.0f s): %s",
                  self.failures, delay, self.last_error,
                  exc_info=self.failures == 1)
        try:
            with self.app.app_context():
                self.next_heartbeat = None
                self._heartbeat()
        except Exception:  # the database is still away; the log says it all
            pass

    def _heartbeat(self) -> None:
        now = clock.now()
        if self.next_heartbeat is not None and now < self.next_heartbeat:
            return
        record_heartbeat(self.name, started_at=self.started_at, failures=self.failures,
                         last_error=self.last_error, last_error_at=self.last_error_at)
        self.next_heartbeat = now + HEARTBEAT

    def beat_until(self, stop: threading.Event, wake: int | None = None) -> None:
        """Write the heartbeat every HEARTBEAT, in an app context of its own, until `stop`."""
        while not stop.is_set():
            try:
                with self.app.app_context():
                    record_heartbeat(self.name, started_at=self.started_at,
                                     failures=self.failures, last_error=self.last_error,
                                     last_error_at=self.last_error_at)
            except Exception:  # the database is away: the tick logs it
                pass
            clock.pause(HEARTBEAT.total_seconds(), wake=wake)

    def stop(self) -> None:
        try:
            with self.app.app_context():
                forget_heartbeat(self.name)
        except Exception:
            log.warning("could not remove the heartbeat of %s", self.name)


def _standing_by(leading, job: str) -> bool:
    if leading is None or leading():
        return False
    log.info("%s: left to the active scheduler", job)
    return True


def remind(app, leading=None) -> int:
    """Send the reminders now (`leading`: the scheduler's election; a standby sends none)."""
    if _standing_by(leading, "reminders"):
        return 0
    with app.app_context():
        count = send_reminders(clock.now())
        db.session.commit()
        _deliver()
        log.info("reminders: %s", count)
        return count


def digest(app, leading=None) -> int:
    if _standing_by(leading, "daily digests"):
        return 0
    with app.app_context():
        try:
            count = deliver_digests(clock.now())
        except Exception:  # the outbox keeps them: the next run sends them
            db.session.rollback()
            log.exception("the daily digest failed; the next one sends what is owed")
            return 0
        log.info("daily digests: %s", count)
        return count


def purge_keys(app, leading=None) -> int:
    """Delete the expired idempotency keys (a retry after a day is a new request)."""
    if _standing_by(leading, "the purge of idempotency keys"):
        return 0
    with app.app_context():
        count = purge_expired(clock.now())
        db.session.commit()
        return count


def every(app, leading, work: Callable[[], object], what: str) -> None:
    """An interval job of the scheduler (`build_scheduler`'s `intervals`): `work()` in an app
    context and committed, only while `leading()` (when given); a failure rolled back and
    logged, never raised, so that the next run tries again."""
    if _standing_by(leading, what):
        return
    with app.app_context():
        try:
            work()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("%s failed; the next run tries again", what)
        finally:
            db.session.remove()


def _deliver() -> None:
    try:
        deliver_emails(clock.now())
    except Exception:  # mail trouble must not stop the schedule; the outbox keeps it
        db.session.rollback()
        log.exception("e-mail delivery failed; will retry")


def build_scheduler(app, leading=None, intervals=()) -> BackgroundScheduler:
    """The jobs at fixed times: the reminders, the daily digest, the hourly purge of
    expired idempotency keys (each run only while `leading()`, when given); and the work
    of `intervals`, (work(), seconds, id, what) each, every `seconds` as `every` runs it — given
    by the command (the webhooks' delivery, the counts' folding: packages this one does not
    import)."""
    zone = app.config["TRACKER_TIMEZONE"]
    scheduler = BackgroundScheduler(timezone=zone, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 600})
    for n, at in enumerate(t for t in app.config["TRACKER_REMINDER_TIMES"].split(",") if t):
        h, m = at.strip().split(":")
        scheduler.add_job(remind, CronTrigger(hour=int(h), minute=int(m), timezone=zone),
                          args=[app, leading], id=f"reminder-{n}")
    h, m = app.config["TRACKER_DIGEST_TIME"].strip().split(":")
    scheduler.add_job(digest, CronTrigger(hour=int(h), minute=int(m), timezone=zone),
                      args=[app, leading], id="digest")
    scheduler.add_job(purge_keys, CronTrigger(minute=17, timezone=zone), args=[app, leading],
                      id="idempotency-keys")
    for work, seconds, job_id, what in intervals:
        scheduler.add_job(every, IntervalTrigger(seconds=seconds, timezone=zone),
                          args=[app, leading, work, what], id=job_id)
    return scheduler


def run_scheduler(app, stop: threading.Event | None = None,
                  after_cutoff: Callable[[Callable[[], bool]], object] | None = None,
                  intervals=()) -> None:
    """Run until `stop` is set, or SIGTERM/SIGINT arrives (`after_cutoff`: KeepUp's;
    `intervals`: `build_scheduler`'s)."""
    stop = stop or threading.Event()
    wake_read, wake_write = os.pipe()

    def stop_now(*_args) -> None:
        stop.set()
        os.write(wake_write, b"x")

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop_now)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    name = f"{socket.gethostname()}:{os.getpid()}"
    election = Election(app, name)
    reminders = build_scheduler(app, election.leading, intervals)
    reminders.start()
    keep_up = KeepUp(app, name, election, after_cutoff)
    log.info("scheduler %s started", keep_up.name)
    election.campaign()  # before the first tick, so that a lone scheduler acts at once
    campaigning = threading.Thread(target=election.run, args=(stop, wake_read),
                                   name="scheduler-election", daemon=True)
    campaigning.start()
    # The heartbeat goes on while a tick works (a national cutoff takes a minute or more).
    beating = threading.Thread(target=keep_up.beat_until, args=(stop, wake_read),
                               name="scheduler-heartbeat", daemon=True)
    beating.start()
    # The mail and the forecast beside the cutoff, never in its way.
    beside = threading.Thread(target=keep_up.after_until, args=(stop, wake_read),
                              name="scheduler-after-cutoff", daemon=True)
    beside.start()
    try:
        while not stop.is_set():
            keep_up.tick()
            clock.pause(TICK, wake=wake_read)
    finally:
        reminders.shutdown(wait=False)
        campaigning.join(timeout=5)
        # The batch in hand ends (a few seconds nationally) before the lease is given up;
        # a longer one (e-mails to a slow server) is left to the process's end.
        beside.join(timeout=20)
        election.resign()
        keep_up.stop()
        os.close(wake_read)
        os.close(wake_write)
        log.info("scheduler %s stopped", keep_up.name)
