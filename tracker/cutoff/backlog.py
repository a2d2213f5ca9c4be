"""The days due for a cutoff: processing them in date order, and telling how late they are.

`process_due` is what the scheduler runs every second and what `tracker cutoff catch-up`
and `tracker cutoff run` run by hand; `cutoff_status` is what `tracker cutoff status`, the
health endpoint and the admin pages show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.cutoff.job import CutoffRefused, CutoffSummary, due_days, run_cutoff
from tracker.cutoff.leader import LEASE
from tracker.cutoff.models import CutoffRun, SchedulerHeartbeat, SchedulerLease
from tracker.extensions import db
from tracker.rules.store import load_calendar
from tracker.tasks.colour import colours_epoch, refresh_if_stale

log = logging.getLogger("tracker.scheduler")

# A scheduler that has not written its heartbeat for this long is taken for gone.
SCHEDULER_SILENT_AFTER = timedelta(seconds=90)
# Heartbeats of schedulers silent for this long are forgotten.
FORGET_AFTER = timedelta(days=7)


def process_due(*, through: date | None = None, wait_seconds: float = 30.0,
                on_day: Callable[[CutoffSummary], None] | None = None,
                now: Callable[[], datetime] = clock.now) -> list[CutoffSummary]:
    """Process every due day in date order (those up to `through`, if given), each in its
    own transactions (what the caller had pending is committed first); then, if an epoch
    boundary (a midnight) passed since the stored colours were last refreshed, refresh
    them. The days are looked up again after each pass, since time moves on while a
    backlog is processed: a scheduler that starts at 15:59:57 with days to catch up also
    processes the day whose cutoff falls meanwhile. `now` is the clock read at each step
    (the app's)."""
    db.session.commit()  # what the caller had pending; each day then has its own
    summaries: list[CutoffSummary] = []
    tried: set[date] = set()
    while True:
        checked = now()
        days = [d for d in due_days(checked, through=through) if d not in tried]
        db.session.rollback()
        if not days:
            break
        for day in days:
            tried.add(day)
            try:
                summary = run_cutoff(day, now=now(), wait_seconds=wait_seconds)
            except CutoffRefused as exc:  # made a day off meanwhile: no longer due
                log.warning("cutoff %s not processed: %s", day, exc)
                continue
            summaries.append(summary)
            if on_day is not None:
                on_day(summary)
    # A refresh that the next cutoff's moment overtakes — the first after `checked`, when
    # none was due — gives way: the next call processes that day, whose own pass
    # refreshes every colour.
    refresh_if_stale(now(), wait_seconds=wait_seconds, read_clock=now, none_due_at=checked)
    return summaries


@dataclass
class CutoffStatus:
    """Where the cutoff stands at `now`."""

    now: datetime
    last_day: date | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    due: list[tuple[date, datetime]] = field(default_factory=list)  # (day, its cutoff)
    schedulers: list[SchedulerHeartbeat] = field(default_factory=list)
    colours_fresh: bool = True
    # PostgreSQL's election (tracker.cutoff.leader): who holds the lease, since when,
    # until when, and whether it is still valid by the database's clock. None: no
    # election (SQLite), every scheduler acts.
    lease: tuple[str, datetime, datetime, bool] | None = None

    @property
    def late_by(self) -> timedelta:
        """How long the oldest due day has waited since its cutoff (0 if none is due)."""
        return max((self.now - moment for _day, moment in self.due), default=timedelta(0))

    def alive(self) -> list[SchedulerHeartbeat]:
        return [s for s in self.schedulers if self.now - s.seen_at <= SCHEDULER_SILENT_AFTER]

    @property
    def active(self) -> str | None:
        """The name (host:pid) of the scheduler that acts, if the election has one."""
        return self.lease[0] if self.lease is not None and self.lease[3] else None

    def role(self, scheduler: SchedulerHeartbeat) -> str:
        """"active" or "standby": with no election (SQLite), every scheduler acts."""
        if self.lease is None or scheduler.name == self.active:
            return "active"
        return "standby"

    def problems(self, grace: timedelta) -> list[str]:
        """What an operator must act on; empty when all is well. A day is late once it has
        waited longer than `grace` (a national cutoff takes about a minute)."""
        found = []
        if self.due and self.late_by > grace:
            found.append("late")
        alive = self.alive()
        if not alive:
            found.append("no_scheduler")
        else:  # the one that acts (all of them, with no election) fails
            acting = [s for s in alive if self.role(s) == "active"]
            if acting and all(s.state == "failing" for s in acting):
                found.append("scheduler_failing")
        return found

    def public(self, grace: timedelta) -> dict:
        def iso(value):
            return value.isoformat() if value is not None else None

        return {
            "now": iso(self.now),
            "status": "ok" if not self.problems(grace) else "error",
            "problems": self.problems(grace),
            "last_processed_day": iso(self.last_day),
            "last_started_at": iso(self.last_started_at),
            "last_finished_at": iso(self.last_finished_at),
            "due": [{"day": iso(day), "cutoff": iso(moment),
                     "late_seconds": round((self.now - moment).total_seconds(), 1)}
                    for day, moment in self.due],
            "late_seconds": round(self.late_by.total_seconds(), 1),
            "colours_fresh": self.colours_fresh,
            "election": self.lease is not None,
            "active_scheduler": None if self.active is None else {
                "name": self.active, "since": iso(self.lease[1]),
                "lease_until": iso(self.lease[2])},
            # A scheduler silent too long is "silent", whatever it last said of itself.
            "schedulers": [{"name": s.name, "role": self.role(s),
                            "state": s.state if s in self.alive() else "silent",
                            "seen_at": iso(s.seen_at),
                            "alive": s in self.alive(), "failures": s.failures,
                            "last_error": s.last_error, "last_error_at": iso(s.last_error_at)}
                           for s in self.schedulers],
        }


def cutoff_status(now: datetime) -> CutoffStatus:
    calendar = load_calendar()
    status = CutoffStatus(now=now)
    last = db.session.scalars(select(CutoffRun).order_by(CutoffRun.day.desc()).limit(1)).first()
    if last is not None:
        status.last_day = last.day
        status.last_started_at, status.last_finished_at = last.started_at, last.finished_at
    status.due = [(day, calendar.cutoff_moment(day)) for day in due_days(now)]
    status.schedulers = list(db.session.scalars(
        select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.seen_at.desc())))
    lease = db.session.execute(select(
        SchedulerLease.holder, SchedulerLease.acquired_at, SchedulerLease.expires_at,
        SchedulerLease.expires_at > func.now()).where(SchedulerLease.name == LEASE)).first()
    status.lease = tuple(lease) if lease is not None else None
    fresh = colours_epoch()
    status.colours_fresh = fresh == calendar.epoch(now)
    return status


def record_heartbeat(name: str, *, started_at: datetime, failures: int,
                     last_error: str | None, last_error_at: datetime | None) -> None:
    """A scheduler says it is alive (and how it fares), in a transaction of its own."""
    now = clock.now()
    for attempt in range(2):
        row = db.session.get(SchedulerHeartbeat, name) or SchedulerHeartbeat(
            name=name, started_at=started_at)
        row.seen_at = now
        row.state = "failing" if failures else "running"
        row.failures = failures
        row.last_error, row.last_error_at = last_error, last_error_at
        db.session.add(row)
        db.session.execute(delete(SchedulerHeartbeat).where(
            SchedulerHeartbeat.seen_at < now - FORGET_AFTER, SchedulerHeartbeat.name != name))
        try:
            db.session.commit()
            return
        except IntegrityError:  # its other thread wrote the first beat at the same time
            db.session.rollback()
            if attempt:
                raise


def forget_heartbeat(name: str) -> None:
    """A scheduler stopping on purpose leaves no ghost behind."""
    db.session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.name == name))
    db.session.commit()
