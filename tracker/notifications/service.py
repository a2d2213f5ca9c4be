"""Creating notifications (reminders, nudges, red tasks, the daily report) and sending the
e-mail copies. Notifications are written in the job's transaction; e-mail goes out
afterwards from that outbox, so a slow or broken mail server never blocks a cutoff."""

from __future__ import annotations

import smtplib
from collections import defaultdict
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, and_, insert, literal, or_, select

from tracker.audit.service import record
from tracker.auth.models import Role, User
from tracker.cutoff.models import RedTaskDay, TaskColourChange, UnitDayStat
from tracker.cutoff.recolour import facts_of
from tracker.errors import Forbidden, InvalidInput
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.rules.colours import is_required
from tracker.rules.store import load_calendar
from tracker.tasks.models import OPEN_STATUSES, Task
from tracker.types import UTCDateTime


def _members_of(unit_ids) -> dict[int, list[int]]:
    rows = db.session.execute(
        select(User.unit_id, User.id).where(User.unit_id.in_(list(unit_ids)),
                                            User.role == Role.MEMBER, User.active)
    )
    members: dict[int, list[int]] = defaultdict(list)
    for unit_id, user_id in rows:
        members[unit_id].append(user_id)
    return members


def _add(rows: list[dict]) -> int:
    if rows:
        db.session.execute(insert(Notification), rows)
    return len(rows)


def send_reminders(now: datetime) -> int:
    """Remind every unit that still owes today's update on some task (e.g. 14:00, 15:30)."""
    calendar = load_calendar()
    day = calendar.reporting_day(now)
    start, end = calendar.window(day)
    if calendar.local_date(now) != day:
        return 0  # not a working day: nothing is owed before a cutoff today
    owing: dict[int, int] = defaultdict(int)
    tasks = db.session.scalars(select(Task).where(Task.status.in_(OPEN_STATUSES)))
    for task in tasks:
        last = task.last_update_at
        if is_required(facts_of(task), calendar, day) and (last is None or last <= start):
            owing[task.lead_unit_id] += 1
    deadline = end.astimezone(ZoneInfo(calendar.zone)).strftime("%H:%M")
    rows = []
    for unit_id, user_ids in _members_of(owing).items():
        message = _("%(n)s task(s) still need today's progress update before %(time)s.",
                    n=owing[unit_id], time=deadline)
        rows += [{"user_id": u, "kind": "reminder", "message": message, "created_at": now}
                 for u in user_ids]
    return _add(rows)


def nudge(actor: User, task: Task, message: str, *, now: datetime) -> int:
    """A supervisor urges the lead unit on a task (đôn đốc)."""
    if not (actor.active and actor.role in (Role.SUPERVISOR, Role.ADMIN)
            and task.lead_unit.is_within(actor.unit)):
        raise Forbidden(_("Only a supervisor of this unit can nudge it."))
    message = (message or "").strip()
    if not message:
        raise InvalidInput(_("Write a message for the unit."), {"message": [_("Required.")]})
    record(task, actor, "nudge", at=now, note=message)
    user_ids = _members_of([task.lead_unit_id]).get(task.lead_unit_id, [])
    return _add([{"user_id": u, "kind": "nudge", "task_id": task.id, "created_at": now,
                  "message": f"{task.code}: {message}"} for u in user_ids])


def _red_message():
    """The translated "Task … turned red: …" as one SQL expression over the task's columns,
    so that the database writes a national day's notifications without a round trip each."""
    marker = "\x00"
    text = _("Task %(code)s turned red: %(title)s", code=f"{marker}code{marker}",
             title=f"{marker}title{marker}")
    columns = {"code": Task.code, "title": Task.title}
    parts = text.split(marker)  # text, name, text, name, text
    message = literal(parts[0], String)
    for index, part in enumerate(parts[1:], start=1):
        message = message + (columns[part] if index % 2 else literal(part, String))
    return message


def notify_cutoff(day, summary, *, now: datetime) -> int:
    """After a cutoff: members hear of their tasks that turned red, supervisors get the
    day's report in their scope."""
    # Turned red: red at this cutoff (the day's red list) with a history row that day
    # saying it was not red before. One INSERT … SELECT, however many tasks.
    turned_red = (
        select(User.id, literal("red", String), Task.id, _red_message(),
               literal(now, UTCDateTime()))
        .select_from(RedTaskDay)
        .join(TaskColourChange, and_(TaskColourChange.task_id == RedTaskDay.task_id,
                                     TaskColourChange.day == RedTaskDay.day))
        .join(Task, Task.id == RedTaskDay.task_id)
        .join(User, and_(User.unit_id == Task.lead_unit_id, User.role == Role.MEMBER,
                         User.active))
        .where(RedTaskDay.day == day,
               or_(TaskColourChange.previous_colour.is_(None),
                   TaskColourChange.previous_colour != "red"))
    )
    count = db.session.execute(insert(Notification).from_select(
        ["user_id", "kind", "task_id", "message", "created_at"], turned_red)).rowcount
    rows = []
    supervisors = db.session.execute(
        select(User.id, User.unit_id).where(User.role == Role.SUPERVISOR, User.active)
    ).all()
    stats = {s.unit_id: s for s in db.session.scalars(
        select(UnitDayStat).where(UnitDayStat.day == day,
                                  UnitDayStat.unit_id.in_({s.unit_id for s in supervisors})))}
    for user_id, unit_id in supervisors:
        stat = stats.get(unit_id)
        if stat is None:
            continue
        message = _("Supervision report for %(day)s: %(red)s red, %(yellow)s yellow, "
                    "%(green)s green; %(missed)s missed update(s).",
                    day=day.strftime("%d/%m/%Y"), red=stat.red, yellow=stat.yellow,
                    green=stat.green, missed=stat.missed)
        rows.append({"user_id": user_id, "kind": "report", "message": message,
                     "created_at": now})
    return count + _add(rows)


def unread(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id,
                                   Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def deliver_emails(now: datetime) -> int:
    """Send the e-mail copy of every notification not yet sent, when SMTP is set up.

    Each sent message is marked and committed at once, so a failure part-way sends
    nothing twice; the rest waits for the next call.
    """
    config = current_app.config
    if not config.get("TRACKER_SMTP_HOST"):
        return 0
    pending = db.session.execute(
        select(Notification, User.email).join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), User.email.is_not(None))
        .order_by(Notification.id)
    ).all()
    if not pending:
        return 0
    sent = 0
    with smtplib.SMTP(config["TRACKER_SMTP_HOST"], int(config["TRACKER_SMTP_PORT"]),
                      timeout=30) as smtp:
        if config.get("TRACKER_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("TRACKER_SMTP_USER"):
            smtp.login(config["TRACKER_SMTP_USER"], config["TRACKER_SMTP_PASSWORD"])
        for notification, email in pending:
            message = EmailMessage()
            message["From"] = config["TRACKER_SMTP_FROM"]
            message["To"] = email
            message["Subject"] = _("[Tracker] %(kind)s", kind=_kind_label(notification.kind))
            message.set_content(notification.message)
            smtp.send_message(message)
            notification.emailed_at = now
            db.session.commit()
            sent += 1
    return sent


def _kind_label(kind: str) -> str:
    return {"reminder": _("Reminder"), "nudge": _("Nudge"), "red": _("Red task"),
            "report": _("Daily supervision report")}.get(kind, kind)

