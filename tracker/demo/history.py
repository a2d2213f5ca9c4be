"""The demo's past judged as it happened: each past working day's cutoff run at its own
moment, so that the trends have a figure from the first day, and each notification is
dated by the day it tells of; then what a newcomer's users would already have read is
marked read, so that no stale alarm greets them (issue 13); and each judged day's early
warning is stored, as the scheduler stores it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, not_, or_, select, update

from tracker.cutoff.job import due_days, run_cutoff
from tracker.cutoff.models import CutoffRun
from tracker.extensions import db
from tracker.forecast.store import run_forecast
from tracker.notifications.models import Notification
from tracker.rules.store import load_calendar
from tracker.tasks.colour import mark_colours, recolour_all
from tracker.tasks.models import ExtensionRequest, ExtensionStatus, Status, Task

# Each past cutoff runs this long after its moment, as the scheduler would.
RUN_AFTER = timedelta(minutes=1)


def judge_past_days(now: datetime) -> int:
    """Run the cutoff of every past working day still due, each at its own moment, then
    bring the stored colours to `now` and settle the notifications. Each day commits on
    its own (as the scheduler's would); returns the number of days judged."""
    calendar = load_calendar()
    days = due_days(now)
    db.session.rollback()
    for day in days:
        run_cutoff(day, now=calendar.cutoff_moment(day) + RUN_AFTER, wait_seconds=5)
    recolour_all(now)
    db.session.commit()
    mark_colours(calendar.epoch(now))
    settle_notifications(now)
    db.session.commit()
    # Each judged day's early warning, as the scheduler stores it after each cutoff, so
    # that the dashboard, the list and the past reports show theirs (docs/forecast.md).
    for day in db.session.scalars(select(CutoffRun.day).order_by(CutoffRun.day)).all():
        run_forecast(day)
    return len(days)


def settle_notifications(now: datetime) -> None:
    """What came before the last cutoff has been read — its users saw it on its day —
    but for what still waits: a completion or an extension request not yet decided, a
    return not yet answered. A "turned red" notice of a task that is no longer red has
    been read too. What stays unread agrees with today's colours and requests."""
    last = db.session.scalar(select(CutoffRun.day).order_by(CutoffRun.day.desc()).limit(1))
    waiting = or_(
        and_(Notification.kind == "submitted", Notification.task_id.in_(
            select(Task.id).where(Task.status == Status.SUBMITTED))),
        and_(Notification.kind == "returned", Notification.task_id.in_(
            select(Task.id).where(Task.status == Status.RETURNED))),
        and_(Notification.kind == "extension_requested", Notification.task_id.in_(
            select(ExtensionRequest.task_id)
            .where(ExtensionRequest.status == ExtensionStatus.PENDING))),
    )
    unread = Notification.read_at.is_(None)
    if last is not None:
        since = load_calendar().cutoff_moment(last)
        db.session.execute(update(Notification)
                           .where(unread, Notification.created_at < since, not_(waiting))
                           .values(read_at=now)
                           .execution_options(synchronize_session=False))
    db.session.execute(update(Notification)
                       .where(unread, Notification.kind == "red", Notification.task_id.in_(
                           select(Task.id).where(Task.colour.is_distinct_from("red"))))
                       .values(read_at=now)
                       .execution_options(synchronize_session=False))
