"""The e-mail copies of notifications: at once, right after the commit that wrote them
(a background thread, so a request never waits for the mail server), and the daily
digest. What cannot be sent stays in the outbox (`Notification.mail` set, `emailed_at`
empty) for the scheduler, which retries every second (tracker.cutoff.scheduler).

A sender first claims the rows it is about to send, in a short transaction of its own
(`Notification.mail_claimed_at`), then talks to the mail server with no transaction open
— on SQLite none holds the database's one write lock, so no writer and no cutoff waits
for a slow mail server — and marks each message sent in another. So two senders (the
thread and the scheduler, several hosts) never send one twice; a sender that fails gives
its unsent claims back at once, and one that dies leaves them to the next after
`CLAIM_FOR`, so a crash between sending and marking may send a message again, never lose
it.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import event, or_, select, update
from sqlalchemy.exc import OperationalError

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


def _message(to: str, subject: str, body: str) -> MIMEText:
    """The letter as RFC 5322 wants it: dated, with an id of its own (a receiving server
    may refuse or mark as spam a letter without one), its Vietnamese subject in encoded
    words that keep the spaces between words. (The email package's modern policy splits a
    long subject into encoded words at a space and leaves the space out of both, and mail
    programs then join the words on either side: "Đã trả lạiđề nghị"; its `Header` keeps
    the space inside a word.)"""
    config = current_app.config
    name, address = parseaddr(config["TRACKER_SMTP_FROM"])
    message = MIMEText(body, "plain", "utf-8")
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(subject, "utf-8")
    message["Date"] = format_datetime(clock.now().astimezone(
        ZoneInfo(config["TRACKER_TIMEZONE"])))
    # The sender's domain, not the host's name (make_msgid would look it up).
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or "tracker.invalid")
    return message


# A sender that dies between claiming messages and marking them sent leaves them to the
# next sender after this long. A sender starts no letter on a claim older than half of it
# (it claims afresh), so a letter begun in time is over long before the claim runs out:
# each step of an exchange with the mail server times out after 30 s.
CLAIM_FOR = timedelta(minutes=10)
CLAIM_BATCH = 20  # owed e-mails claimed (and written out) at a time
MARK_ATTEMPTS = 3  # a letter sent is marked so, however busy the database (SQLite's lock)


@dataclass(frozen=True)
class _Letter:
    """One e-mail to send, written out before its claim is committed (so that sending it
    reads nothing from the database)."""

    ids: tuple[int, ...]  # the notifications it carries
    user_id: int
    email: str
    subject: str
    body: str


def _claim(*where, limit: int | None = None) -> tuple[datetime, list[tuple]]:
    """Claim the owed notifications matching `where` that no live claim holds (skipping
    rows another sender has locked), with their user's address and task code, in the
    caller's transaction: the caller writes its letters and commits at once. Returns the
    claim's moment (the clock's, as it is taken) and the rows."""
    now = clock.now()
    query = (select(Notification, User.email, Task.code)
             .join(User, User.id == Notification.user_id)
             .outerjoin(Task, Task.id == Notification.task_id)
             .where(Notification.emailed_at.is_(None), Notification.email_error.is_(None),
                    User.email.is_not(None),
                    or_(Notification.mail_claimed_at.is_(None),
                        Notification.mail_claimed_at < now - CLAIM_FOR), *where)
             .order_by(Notification.id)
             .with_for_update(of=Notification, skip_locked=True))
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    for notification, _email, _code in rows:
        notification.mail_claimed_at = now
    return now, rows


def _mark(letter: _Letter, *, sent_at: datetime | None = None,
          error: str | None = None) -> None:
    """In a short transaction: the letter's notifications sent, or never sendable —
    tried again while the database is busy (a letter sent and not marked would go again
    once its claim has run out)."""
    values = {"emailed_at": sent_at} if error is None else {"email_error": error}
    for attempt in range(MARK_ATTEMPTS):
        try:
            db.session.execute(update(Notification).where(Notification.id.in_(letter.ids))
                               .values(**values))
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == MARK_ATTEMPTS - 1:
                raise
            clock.pause(0.5 * (attempt + 1))


def _give_back(letters: Iterable[_Letter], claimed_at: datetime) -> None:
    """A sender that cannot go on releases what it claimed and did not send, so that the
    next attempt (a second later) takes it again."""
    ids = [i for letter in letters for i in letter.ids]
    db.session.rollback()
    if ids:
        db.session.execute(update(Notification).where(
            Notification.id.in_(ids), Notification.emailed_at.is_(None),
            Notification.mail_claimed_at == claimed_at).values(mail_claimed_at=None))
        db.session.commit()


def _never_sendable(smtp, letter: _Letter) -> str | None:
    """Send one letter; the reason it can never go — an address that is not one (a line
    break in it would forge headers) or that the mail server refuses — or None once sent.
    Any other failure of the mail server is raised."""
    try:
        if not EMAIL_RE.fullmatch(letter.email):
            raise ValueError("not an e-mail address")
        smtp.send_message(_message(letter.email, letter.subject, letter.body))
    except (ValueError, smtplib.SMTPRecipientsRefused) as exc:
        reason = "address refused by the mail server" if isinstance(
            exc, smtplib.SMTPRecipientsRefused) else "not an e-mail address"
        log.warning("notification(s) %s not e-mailed to user %s: %s",
                    ", ".join(map(str, letter.ids)), letter.user_id, reason)
        return reason
    return None


def _send_all(batches, now: datetime) -> int:
    """Send the letters of each claimed batch (`batches` yields (claimed at, letters),
    each claim already committed), marking each one sent at `now`; returns how many were
    sent. Letters whose claim has grown old are given back and claimed afresh by the next
    batch. On a failure, what is left unsent is given back and the failure raised."""
    sent = 0
    smtp = None
    try:
        for claimed_at, letters in batches:
            left = list(letters)
            try:
                if smtp is None:
                    smtp = _smtp()
                while left and clock.now() - claimed_at < CLAIM_FOR / 2:
                    letter = left[0]
                    error = _never_sendable(smtp, letter)  # raising: given back below
                    left.pop(0)  # sent (or never sendable): never given back
                    _mark(letter, sent_at=now, error=error)
                    sent += error is None
                _give_back(left, claimed_at)  # (old claims: the next batch takes them)
            except BaseException:
                _give_back(left, claimed_at)
                raise
    finally:
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()
    return sent


def deliver_emails(now: datetime, ids: list[int] | None = None) -> int:
    """Send the e-mail copy of every notification owed at once (or of those of `ids`),
    when SMTP is set up; returns how many were sent."""
    if not current_app.config.get("TRACKER_SMTP_HOST"):
        return 0
    owed = [Notification.mail == Delivery.NOW]
    if ids is not None:
        owed.append(Notification.id.in_(ids))

    def batches():
        while True:
            claimed_at, rows = _claim(*owed, limit=CLAIM_BATCH)
            letters = [
                _Letter((n.id,), n.user_id, email,
                        _("[Tracker] %(kind)s", kind=kind_label(n.kind)), _body(n, code))
                for n, email, code in rows]
            db.session.commit()  # the claims: no transaction open while the server talks
            if not letters:
                return
            yield claimed_at, letters

    return _send_all(batches(), now)


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
    if not users:
        return 0

    def batches():
        for user_id in users:
            claimed_at, rows = _claim(Notification.user_id == user_id,
                                      Notification.mail == Delivery.DIGEST,
                                      Notification.created_at <= now)
            if rows:
                parts = [_("What happened in Tracker since the last digest:"), ""]
                parts += [_body(n, code) + "\n" for n, _email, code in rows]
                subject = _("[Tracker] Daily digest, %(day)s: %(n)s notification(s)",
                            day=calendar.local_date(now).strftime("%d/%m/%Y"), n=len(rows))
                letter = _Letter(tuple(n.id for n, _e, _c in rows), user_id, rows[0][1],
                                 subject, "\n".join(parts))
            db.session.commit()
            if rows:
                yield claimed_at, [letter]

    return _send_all(batches(), now)
