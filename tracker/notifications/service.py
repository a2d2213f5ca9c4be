"""Creating notifications (reminders, nudges, red tasks, the daily report) and sending the
e-mail copies. Notifications are written in the job's transaction; e-mail goes out
afterwards from that outbox, so a slow or broken mail server never blocks a cutoff."""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from tracker.audit.service import record
from tracker.auth.models import Role, User
from tracker.auth.service import EMAIL_RE
from tracker.errors import Forbidden
from tracker.extensions import db
from tracker.inputs import one_text
from tracker.notifications.models import Notification
from tracker.rules import sql as rules_sql
from tracker.rules.store import load_calendar
from tracker.scope import can_supervise
from tracker.tasks.models import Task

log = logging.getLogger("tracker.notifications")


def _members_of(unit_ids) -> dict[int, list[int]]:
    rows = db.session.execute(
        select(User.unit_id, User.id).where(User.unit_id.in_(list(unit_ids)),
                                            User.role == Role.MEMBER, User.active)
    )
    members: dict[int, list[int]] = defaultdict(list)
    for unit_id, user_id in rows:
        members[unit_id].append(user_id)
    return members


def add_notifications(rows: list[dict]) -> int:
    if rows:
        db.session.execute(insert(Notification), rows)
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
    for unit_id, user_ids in _members_of(owing).items():
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
    user_ids = _members_of([task.lead_unit_id]).get(task.lead_unit_id, [])
    return add_notifications([{"user_id": u, "kind": "nudge", "task_id": task.id, "created_at": now,
                  "message": f"{task.code}: {message}"} for u in user_ids])


def deliver_emails(now: datetime) -> int:
    """Send the e-mail copy of every notification not yet sent, when SMTP is set up.

    Each sent message is marked and committed at once, so a failure part-way sends
    nothing twice; the rest waits for the next call. A copy that can never go — an address
    that is not one (a line break in it would forge headers), or one the mail server
    refuses — is marked with the reason and skipped, so it never holds up the others.
    """
    config = current_app.config
    if not config.get("TRACKER_SMTP_HOST"):
        return 0
    pending = db.session.execute(
        select(Notification, User.email).join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), Notification.email_error.is_(None),
               User.email.is_not(None))
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
            try:
                if not EMAIL_RE.fullmatch(email):
                    raise ValueError("not an e-mail address")
                message = EmailMessage()
                message["From"] = config["TRACKER_SMTP_FROM"]
                message["To"] = email
                message["Subject"] = _("[Tracker] %(kind)s", kind=_kind_label(notification.kind))
                message.set_content(notification.message)
                smtp.send_message(message)
            except (ValueError, smtplib.SMTPRecipientsRefused) as exc:
                reason = "address refused by the mail server" if isinstance(
                    exc, smtplib.SMTPRecipientsRefused) else "not an e-mail address"
                log.warning("notification %s not e-mailed to user %s: %s", notification.id,
                            notification.user_id, reason)
                notification.email_error = reason
                db.session.commit()
                continue
            notification.emailed_at = now
            db.session.commit()
            sent += 1
    return sent


def _kind_label(kind: str) -> str:
    return {"reminder": _("Reminder"), "nudge": _("Nudge"), "red": _("Red task"),
            "report": _("Daily supervision report")}.get(kind, kind)

