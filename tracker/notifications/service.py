"""Creating notifications: reminders, nudges, and (tracker.notifications.events) the
decisions and requests on a task. Notifications are written in the caller's transaction,
each with its outbox state (`Notification.mail`, from the user's choice); the e-mail copies
go out after the commit (tracker.notifications.mail), so a slow or broken mail server
never blocks a request or a cutoff."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from tracker.audit.service import record
from tracker.auth.models import User
from tracker.errors import Forbidden
from tracker.extensions import db
from tracker.inputs import one_text
from tracker.notifications import mail, push
from tracker.notifications.models import Delivery, Notification
from tracker.notifications.preferences import mail_for
from tracker.rules import sql as rules_sql
from tracker.rules.store import load_calendar
from tracker.scope import can_supervise, unit_members
from tracker.tasks.models import Task


def members_of(unit_ids) -> dict[int, list[int]]:
    """Each unit's members who are told of its tasks (`scope.is_unit_member`), by unit."""
    rows = db.session.execute(select(User.unit_id, User.id).where(unit_members(unit_ids)))
    members: dict[int, list[int]] = defaultdict(list)
    for unit_id, user_id in rows:
        members[unit_id].append(user_id)
    return members


def add_notifications(rows: list[dict]) -> int:
    """Write `rows` (user_id, kind, message, created_at, task_id, recommendation_id), each
    with its outbox state; those to be e-mailed at once, and those to be pushed to a phone,
    go out right after the commit."""
    if not rows:
        return 0
    states = mail_for({r["user_id"] for r in rows}, {r["kind"] for r in rows})
    rows = [{"task_id": None, "recommendation_id": None, **r,
             "mail": states[r["user_id"], r["kind"]]} for r in rows]
    ids = db.session.scalars(insert(Notification).returning(
        Notification.id, sort_by_parameter_order=True), rows).all()
    mail.after_commit_send([i for i, r in zip(ids, rows, strict=True)
                            if r["mail"] == Delivery.NOW])
    pushed = push.push_for({r["user_id"] for r in rows}, {r["kind"] for r in rows})
    push.after_commit_push([i for i, r in zip(ids, rows, strict=True)
                            if (r["user_id"], r["kind"]) in pushed])
    return len(rows)


def send_reminders(now: datetime) -> int:
    """Remind every unit that still owes today's update on some task (e.g. 14:00, 15:30)."""
    calendar = load_calendar()
    day = calendar.reporting_day(now)
    end = calendar.window(day)[1]
    if calendar.local_date(now) != day:
        return 0  # not a working day: nothing is owed before a cutoff today
    owing = dict(db.session.execute(
        select(Task.lead_unit_id, func.count())
        .where(rules_sql.still_owes(Task, calendar, day)).group_by(Task.lead_unit_id)).all())
    deadline = end.astimezone(ZoneInfo(calendar.zone)).strftime("%H:%M")
    rows = []
    for unit_id, user_ids in members_of(owing).items():
        message = _("%(n)s task(s) still need today's progress update before %(time)s.",
                    n=owing[unit_id], time=deadline)
        rows += [{"user_id": u, "kind": "reminder", "message": message, "created_at": now}
                 for u in user_ids]
    return add_notifications(rows)


NUDGE_MAX = 2000


def nudge(actor: User, task: Task, message: str, *, now: datetime) -> int:
    """A supervisor urges the lead unit on a task (đôn đốc)."""
    if not can_supervise(actor, task):
        raise Forbidden(_("Only a supervisor of this unit can nudge it."))
    message = one_text(message, "message", max_len=NUDGE_MAX, required=True,
                       message=_("Write a message for the unit."))
    record(task, actor, "nudge", at=now, note=message)
    user_ids = members_of([task.lead_unit_id]).get(task.lead_unit_id, [])
    return add_notifications([{"user_id": u, "kind": "nudge", "task_id": task.id, "created_at": now,
                  "message": f"{task.code}: {message}"} for u in user_ids])
