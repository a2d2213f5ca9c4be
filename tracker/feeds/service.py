"""The calendar feed (lịch iCalendar): a user subscribes their calendar app to a secret
address; it shows the deadlines (hạn) of the open tasks they may see, from a week back to
`TRACKER_FEED_DAYS` ahead (the nearest `MAX_TASKS`), and the cutoff (giờ chốt, 16:00) of
every working day in that window.

The secret is shown once, when it is made; only its SHA-256 is kept (like an API token).
A reset makes a new one and the old address answers 404 at once; so does a deactivated
account's. The feed is in the deployment's language (Vietnamese by default), as e-mails are.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import delete, select

from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import User
from tracker.auth.sessions import token_hash
from tracker.extensions import db
from tracker.feeds.models import CalendarFeed
from tracker.rules.store import load_calendar
from tracker.scope import feed_tasks
from tracker.tasks.models import OPEN_STATUSES, Task

PREFIX = "cal_"
DAYS_BACK = 7  # an overdue deadline stays in sight a week
MAX_TASKS = 2000  # a national admin's calendar app cannot show 3 million deadlines
TOUCH_INTERVAL = timedelta(minutes=5)


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.get(CalendarFeed, user.id)


def reset_feed(user: User, *, now: datetime) -> str:
    """A new secret address for the user's own feed (the old one, if any, stops working);
    returns the secret, shown this once."""
    raw = PREFIX + secrets.token_urlsafe(32)
    feed = feed_of(user)
    if feed is None:
        db.session.add(CalendarFeed(user_id=user.id, token_hash=token_hash(raw),
                                    created_at=now))
    else:
        feed.token_hash, feed.created_at, feed.last_used_at = token_hash(raw), now, None
    record_security(SecurityEventKind.CALENDAR_FEED_RESET, at=now, actor=user, user=user,
                    detail="calendar feed: new address")
    return raw


def turn_off(user: User, *, now: datetime) -> bool:
    """No feed any more: the address answers 404. Returns whether there was one."""
    gone = db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if gone.rowcount:
        record_security(SecurityEventKind.CALENDAR_FEED_RESET, at=now, actor=user, user=user,
                        detail="calendar feed: turned off")
    return bool(gone.rowcount)


def user_for_feed(raw: str, *, now: datetime) -> User | None:
    """The active user whose feed has this secret (None otherwise); its last use is noted
    at most every few minutes (the caller commits)."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == token_hash(raw)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    if user is None or not user.active:
        return None
    if feed.last_used_at is None or now - feed.last_used_at >= TOUCH_INTERVAL:
        feed.last_used_at = now
    return user


def _window(now: datetime) -> tuple[date, date]:
    today = load_calendar().local_date(now)
    return (today - timedelta(days=DAYS_BACK),
            today + timedelta(days=int(current_app.config["TRACKER_FEED_DAYS"])))


def build_feed(user: User, *, now: datetime, host: str) -> bytes:
    """The user's feed as an iCalendar file (RFC 5545)."""
    first, last = _window(now)
    calendar = load_calendar()
    tasks = db.session.scalars(
        feed_tasks(user).where(Task.status.in_([str(s) for s in OPEN_STATUSES]),
                               Task.deadline >= first, Task.deadline <= last)
        .order_by(Task.deadline, Task.id).limit(MAX_TASKS)).all()
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        cal = Calendar()
        cal.add("prodid", "-//Tracker//KH02 monitor//VI")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", _("Tracker: deadlines and cutoffs"))
        cal.add("x-wr-timezone", current_app.config["TRACKER_TIMEZONE"])
        cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        for task in tasks:
            event = Event()
            event.add("uid", f"task-{task.id}-deadline@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", task.deadline)
            event.add("dtend", task.deadline + timedelta(days=1))
            event.add("summary", _("Deadline %(code)s: %(title)s", code=task.code,
                                   title=task.title))
            event.add("description", _("Lead unit: %(unit)s. Expected output: %(output)s",
                                       unit=task.lead_unit.name,
                                       output=task.expected_output))
            event.add("categories", [_("Deadline")])
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)
        for day in calendar.working_days(max(first, calendar.local_date(now)), last):
            moment = calendar.cutoff_moment(day)
            event = Event()
            event.add("uid", f"cutoff-{day:%Y%m%d}@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", moment)
            event.add("dtend", moment)
            event.add("summary", _("Cutoff %(time)s: today's progress updates are due",
                                   time=calendar.cutoff_time.strftime("%H:%M")))
            event.add("categories", [_("Cutoff")])
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)
    return cal.to_ical()
