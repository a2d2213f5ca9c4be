"""After a cutoff: members hear of their tasks that turned red, supervisors get the day's
report in their scope — written with the day's record, in its transaction."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import String, and_, insert, literal, or_, select

from tracker.auth.models import Role, User
from tracker.cutoff.models import RedTaskDay, TaskColourChange, UnitDayStat
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.notifications.preferences import mail_sql
from tracker.notifications.service import add_notifications
from tracker.rules.store import load_calendar
from tracker.scope import unit_members
from tracker.tasks.models import Task
from tracker.types import UTCDateTime


def _red_message(day):
    """The translated "Task … turned red at the cutoff of <day>: …" as one SQL expression
    over the task's columns, so that the database writes a national day's notifications
    without a round trip each. It names its day: read days later, it still says when."""
    marker = "\x00"
    cutoff = load_calendar().cutoff_time.strftime("%H:%M")
    text = _("Task %(code)s turned red at the %(time)s cutoff of %(day)s: %(title)s",
             code=f"{marker}code{marker}", title=f"{marker}title{marker}", time=cutoff,
             day=day.strftime("%d/%m/%Y"))
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
        select(User.id, literal("red", String), Task.id, _red_message(day),
               literal(now, UTCDateTime()), mail_sql(User.id, User.email, "red"))
        .select_from(RedTaskDay)
        .join(TaskColourChange, and_(TaskColourChange.task_id == RedTaskDay.task_id,
                                     TaskColourChange.day == RedTaskDay.day))
        .join(Task, Task.id == RedTaskDay.task_id)
        .join(User, unit_members(Task.lead_unit_id))
        .where(RedTaskDay.day == day,
               or_(TaskColourChange.previous_colour.is_(None),
                   TaskColourChange.previous_colour != "red"))
    )
    count = db.session.execute(insert(Notification).from_select(
        ["user_id", "kind", "task_id", "message", "created_at", "mail"], turned_red)).rowcount
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
    return count + add_notifications(rows)
