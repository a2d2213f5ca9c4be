"""Keep each task's stored colour equal to the colour rules' verdict.

Every writer of a task stores the colour at its own stamp. Time alone changes colours only
at the epoch boundaries (a cutoff, a midnight: `WorkCalendar.epoch`), so after each one
every task's colour is refreshed once — by the cutoff's own pass, or by
`refresh_if_stale` — and the `colours_epoch` setting records the epoch they are fresh for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import clock, signals
from tracker.bulk import BulkUpdate
from tracker.extensions import db
from tracker.fence import wait_for_writers
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import ColourResult, Policy, TaskFacts, task_colour
from tracker.rules.models import Setting
from tracker.rules.store import (
    ensure_rules_row,
    hold_rules,
    load_calendar,
    load_policy,
)
from tracker.tasks.facts import facts_now
from tracker.tasks.models import Task

log = logging.getLogger("tracker.scheduler")

BATCH = 5000
_COLUMNS = (Task.id, Task.version, Task.status, Task.start_date, Task.deadline,
            Task.duty_since, Task.submitted_at, Task.last_update_at, Task.colour,
            Task.colour_reason, Task.colour_days)
STORED = ("colour", "colour_reason", "colour_days")


def facts_of(task) -> TaskFacts:
    """The facts the rules need, from a Task or a row with the same attributes."""
    values = facts_now(task)
    return TaskFacts(**{**values, "status": str(values["status"])})


def colour_of(task, moment: datetime, calendar: WorkCalendar, policy: Policy) -> ColourResult:
    """The colour to store for `task` (a Task or a row with its attributes): the rules'
    verdict at `moment`, or at its last update if that is later. Only the latest update
    matters to the rules. A writer (or a refresh) may read a task that another writer,
    stamped a little later, has just updated: the colour stored is then never one that
    ignores an update it can see."""
    last = task.last_update_at
    if last is not None and last > moment:
        moment = last
    return task_colour(facts_of(task), [last] if last else [], calendar, policy, moment)


def stored_values(result: ColourResult) -> tuple[str | None, str | None, int]:
    reason = result.reasons[0] if result.reasons else None
    return (result.colour.value if result.colour else None,
            str(reason.code) if reason else None,
            reason.days if reason else 0)


def refresh_colour(task, moment: datetime, calendar: WorkCalendar | None = None,
                   policy: Policy | None = None) -> ColourResult:
    """Store the task's colour at `moment`; a change of colour of a task already
    coloured is announced (`signals.colour_changed`)."""
    result = colour_of(task, moment, calendar or load_calendar(), policy or load_policy())
    old = task.colour
    task.colour, task.colour_reason, task.colour_days = stored_values(result)
    if old is not None and task.colour != old:
        signals.colour_changed.send(task, old=old, new=task.colour, now=moment)
    return result


class RefreshOvertaken(Exception):
    """A refresh of every colour stopped between two batches: its `keep_going` said no (a
    cutoff's moment came, whose own pass refreshes them)."""


def _rows(keep_going: Callable[[], bool] | None = None):
    last_id = 0
    while True:
        if keep_going is not None and not keep_going():
            raise RefreshOvertaken(f"stopped after task id {last_id}")
        query = select(*_COLUMNS).where(Task.id > last_id)
        rows = db.session.execute(query.order_by(Task.id).limit(BATCH)).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def mismatches(moment: datetime, calendar: WorkCalendar | None = None,
               policy: Policy | None = None, keep_going: Callable[[], bool] | None = None):
    """(task id, version, stored, computed) for every task whose stored colour is not the
    rules' verdict at `moment`; `keep_going`, asked before each batch of rows read, stops
    it (`RefreshOvertaken`)."""
    calendar, policy = calendar or load_calendar(), policy or load_policy()
    for rows in _rows(keep_going):
        for row in rows:
            computed = stored_values(colour_of(row, moment, calendar, policy))
            stored = (row.colour, row.colour_reason, row.colour_days)
            if stored != computed:
                yield row.id, row.version, stored, computed


def colour_writer(*, separately: bool) -> BulkUpdate:
    """Stores (task id, version, colour, reason, days) rows computed from tasks read
    earlier, leaving alone every task changed since (its writer stored the colour of its
    own, later stamp). `separately`: in short transactions of its own on PostgreSQL, so
    that no writer waits for the caller's transaction."""
    return BulkUpdate(Task.__table__, "id", STORED, guard="version", separately=separately)


def recolour_all(moment: datetime, calendar: WorkCalendar | None = None,
                 policy: Policy | None = None, *, separately: bool = False,
                 keep_going: Callable[[], bool] | None = None) -> int:
    """Bring every stored colour up to date at `moment`; returns how many were set. The
    changes stream to the database a batch at a time (see `colour_writer`). `keep_going`
    (asked between batches) may stop it half-way: `RefreshOvertaken` (the batches
    already written in transactions of their own, on PostgreSQL, are kept: each is right
    at `moment`)."""
    writer = colour_writer(separately=separately)
    batch: list[tuple] = []
    try:
        for task_id, version, _stored, computed in mismatches(moment, calendar, policy,
                                                              keep_going):
            batch.append((task_id, version, *computed))
            if len(batch) >= BATCH:
                writer.add(batch)
                batch = []
        writer.add(batch)
        return writer.apply()
    finally:
        writer.close()


COLOURS_EPOCH = "colours_epoch"


def colours_epoch() -> int | None:
    """The epoch for which every stored colour was last refreshed (None: never)."""
    row = db.session.get(Setting, COLOURS_EPOCH)
    return int(row.value) if row is not None else None


def mark_colours(epoch: int) -> None:
    """Record, in a transaction of its own, that stored colours are fresh for `epoch`."""
    for _attempt in range(2):
        row = db.session.get(Setting, COLOURS_EPOCH)
        if row is not None and int(row.value) == epoch:
            db.session.rollback()
            return
        if row is None:
            db.session.add(Setting(key=COLOURS_EPOCH, value=str(epoch)))
        else:
            row.value = str(epoch)
        try:
            db.session.commit()
            return
        except IntegrityError:  # another scheduler recorded it first
            db.session.rollback()


def refresh_if_stale(now: datetime, *, wait_seconds: float = 30.0,
                     read_clock: Callable[[], datetime] = clock.now,
                     none_due_at: datetime | None = None) -> int | None:
    """After an epoch boundary (a midnight; a cutoff whose own pass did not refresh them),
    wait for the writers of the epochs before, then refresh every stored colour in short
    transactions of their own. Returns how many were set, or None if they were fresh — or
    if the next cutoff's moment (the first after `none_due_at`, a moment at which the
    caller found no day due; else after `now`) has passed, by `read_clock`, before it
    began or between two batches: it stops there, so that the cutoff, whose own pass
    refreshes every colour, is not held up by it (a national refresh takes minutes).
    Nothing is marked then; the next call starts again if still needed."""
    calendar = load_calendar()
    epoch = calendar.epoch(now)
    fresh = colours_epoch()
    db.session.rollback()
    if fresh == epoch:  # (a clock set back is no reason to trust a later epoch)
        return None
    next_cutoff = calendar.cutoff_moment(calendar.reporting_day(none_due_at or now))

    def keep_going() -> bool:
        return read_clock() <= next_cutoff

    if not keep_going():
        log.info("the refresh of every colour waits for the cutoff of %s",
                 calendar.local_date(next_cutoff))
        return None
    ensure_rules_row()
    wait_for_writers(now, timeout=wait_seconds)
    hold_rules()  # no change to the calendar or the policy until this pass commits
    try:
        changed = recolour_all(now, load_calendar(), load_policy(), separately=True,
                               keep_going=keep_going)
    except RefreshOvertaken as stopped:
        db.session.rollback()
        log.info("the refresh of every colour gave way to the cutoff of %s (%s)",
                 calendar.local_date(next_cutoff), stopped)
        return None
    db.session.commit()
    mark_colours(epoch)
    return changed
