"""The e-mail copies of notifications: at once, right after the commit that wrote them
(a background thread, so a request never waits for the mail server), and the daily
digest. What cannot be sent stays in the outbox (`Notification.mail` set, `emailed_at`
empty) for the scheduler, which retries every second (tracker.cutoff.scheduler).

Each message is sent under its row's lock and marked in the same transaction, so two
senders (the thread and the scheduler, several hosts) never send it twice; a crash
between sending and the commit may send it again, never lose it.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import event, select

from tracker import clock
from tracker.auth.models import User
from tracker.auth.service import EMAIL_RE
from tracker.extensions import db
from tracker.labels import ict
from tracker.notifications.kinds import kind_label
from tracker.notifications.models import Delivery, Notification
from tracker.rules.store import load_calendar
from tracker.tasks.models import Task

log = logging.getLogger("tracker.mail")

_PENDING = "tracker_mail_now"  # session.info: ids written in this transaction, to send
_senders: set[threading.Thread] = set()  # running, for `wait` (tests, a clean stop)


# --- right after the commit ---------------------------------------------------------------


def after_commit_send(ids: Iterable[int]) -> None:
    """Have the notifications `ids` (just written) e-mailed right after the commit."""
    db.session.info.setdefault(_PENDING, []).extend(ids)


def _committed(session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids or not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("TRACKER_SMTP_HOST") or not app.config.get("TRACKER_MAIL_AT_ONCE"):
        return  # the scheduler's outbox run sends them
    sender = threading.Thread(target=_send_in_background, args=(app, list(ids)),
                              name="mail-after-commit", daemon=True)
    _senders.add(sender)
    sender.start()


def _rolled_back(session) -> None:
    session.info.pop(_PENDING, None)


def _send_in_background(app, ids: list[int]) -> None:
    try:
        with app.app_context():
            try:
                deliver_emails(clock.now(), ids=ids)
            except Exception:  # the outbox keeps them for the scheduler's retry
                db.session.rollback()
                log.exception("e-mail right after the commit failed; the scheduler retries")
            finally:
                db.session.remove()
    finally:
        _senders.discard(threading.current_thread())


def wait(timeout: float = 10.0) -> None:
    """Wait for the senders started so far (tests; a process about to stop)."""
    for sender in list(_senders):
        sender.join(timeout)


def install() -> None:
    """Listen to the commits of the app's database session (once per process)."""
    if not event.contains(db.session, "after_commit", _committed):
        event.listen(db.session, "after_commit", _committed)
        event.listen(db.session, "after_rollback", _rolled_back)


# --- sending ------------------------------------------------------------------------------


def page_link(endpoint: str, **values) -> str | None:
    """The absolute address of a page, from TRACKER_BASE_URL (none without it)."""
    base = current_app.config.get("TRACKER_BASE_URL")
    if not base:
        return None
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def task_link(task_id: int | None) -> str | None:
    """The absolute address of the task page (none without TRACKER_BASE_URL)."""
    return page_link("tasks.task_detail", task_id=task_id) if task_id is not None else None


def _body(notification: Notification, code: str | None) -> str:
    lines = [ict(notification.created_at), notification.message, ""]
    if notification.recommendation_id is not None:  # a kiến nghị's: its page
        link = page_link("kiennghi.detail", rec_id=notification.recommendation_id)
        if link:
            lines.append(_("Open the recommendation: %(link)s", link=link))
        return "\n".join(lines)
    link = task_link(notification.task_id)
    if link:
        lines.append(_("Open the task: %(link)s", link=link))
    elif code:
        lines.append(_("Open task %(code)s in Tracker.", code=code))
    return "\n".join(lines)


def _smtp():
    config = current_app.config
    smtp = smtplib.SMTP(config["TRACKER_SMTP_HOST"], int(config["TRACKER_SMTP_PORT"]),
                        timeout=30)
    try:
        if config.get("TRACKER_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("TRACKER_SMTP_USER"):
            smtp.login(config["TRACKER_SMTP_USER"], config["TRACKER_SMTP_PASSWORD"])
    except Exception:
        smtp.close()
        raise
    return smtp


def _message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["TRACKER_SMTP_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def _locked(*where):
    """The owed notifications matching `where`, with their user's address and task code,
    locked (skipping rows another sender holds)."""
    return db.session.execute(
        select(Notification, User.email, Task.code)
        .join(User, User.id == Notification.user_id)
        .outerjoin(Task, Task.id == Notification.task_id)
        .where(Notification.emailed_at.is_(None), Notification.email_error.is_(None),
               User.email.is_not(None), *where)
        .order_by(Notification.id)
        .with_for_update(of=Notification, skip_locked=True)).all()


def _send_or_mark(smtp, notification: Notification, email: str, content) -> bool:
    """Send one copy; one that can never go — an address that is not one (a line break in
    it would forge headers) or that the mail server refuses — is marked with the reason
    (`email_error`) and skipped for good, so it never holds up the others."""
    try:
        if not EMAIL_RE.fullmatch(email):
            raise ValueError("not an e-mail address")
        subject, body = content()
        smtp.send_message(_message(email, subject, body))
    except (ValueError, smtplib.SMTPRecipientsRefused) as exc:
        reason = "address refused by the mail server" if isinstance(
            exc, smtplib.SMTPRecipientsRefused) else "not an e-mail address"
        log.warning("notification %s not e-mailed to user %s: %s", notification.id,
                    notification.user_id, reason)
        notification.email_error = reason
        return False
    return True


def deliver_emails(now: datetime, ids: list[int] | None = None) -> int:
    """Send the e-mail copy of every notification owed at once (or of those of `ids`),
    when SMTP is set up; returns how many were sent."""
    if not current_app.config.get("TRACKER_SMTP_HOST"):
        return 0
    owed = select(Notification.id).where(Notification.mail == Delivery.NOW,
                                         Notification.emailed_at.is_(None),
                                         Notification.email_error.is_(None))
    if ids is not None:
        owed = owed.where(Notification.id.in_(ids))
    pending = list(db.session.scalars(owed.order_by(Notification.id)))
    db.session.commit()  # hold no lock while talking to the mail server
    if not pending:
        return 0
    sent = 0
    with _smtp() as smtp:
        for notification_id in pending:
            for notification, email, code in _locked(Notification.id == notification_id):
                subject = _("[Tracker] %(kind)s", kind=kind_label(notification.kind))
                if _send_or_mark(smtp, notification, email,
                                 lambda n=notification, c=code, s=subject: (s, _body(n, c))):
                    notification.emailed_at = now
                    sent += 1
            db.session.commit()
    return sent


def deliver_digests(now: datetime) -> int:
    """On a working day, one e-mail to each user with what they chose to read in the daily
    digest and have not had yet; returns how many e-mails were sent."""
    if not current_app.config.get("TRACKER_SMTP_HOST"):
        return 0
    calendar = load_calendar()
    if not calendar.is_working_day(calendar.local_date(now)):
        return 0  # kept for the next working day's digest
    owed = (select(Notification.user_id).distinct()
            .where(Notification.mail == Delivery.DIGEST, Notification.emailed_at.is_(None),
                   Notification.created_at <= now))
    users = sorted(db.session.scalars(owed))
    db.session.commit()
    sent = 0
    if not users:
        return 0
    with _smtp() as smtp:
        for user_id in users:
            rows = _locked(Notification.user_id == user_id,
                           Notification.mail == Delivery.DIGEST,
                           Notification.created_at <= now)
            if rows:
                parts = [_("What happened in Tracker since the last digest:"), ""]
                parts += [_body(n, code) + "\n" for n, _email, code in rows]
                subject = _("[Tracker] Daily digest, %(day)s: %(n)s notification(s)",
                            day=calendar.local_date(now).strftime("%d/%m/%Y"), n=len(rows))
                smtp.send_message(_message(rows[0][1], subject, "\n".join(parts)))
                for notification, _email, _code in rows:
                    notification.emailed_at = now
                sent += 1
            db.session.commit()
    return sent
