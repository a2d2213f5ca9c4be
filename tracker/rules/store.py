"""Build the pure rules' inputs (calendar, policy) from settings and the database.

Both are read on every update, so they are cheap: one small query of `settings` per
request (kept in `g`; straight through the driver on PostgreSQL), and the calendar's days
are re-read only when the `calendar_version` setting — a fresh random value written with
every change to the calendar — differs from the one this process last saw.
"""

from __future__ import annotations

import uuid
from datetime import time

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.deadlines import RushStatement
from tracker.extensions import db
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Policy
from tracker.rules.models import CalendarDay, DayKind, Setting

POLICY_DEFAULTS = {"warning_working_days": 3, "missed_days_to_red": 2}
VERSION_KEY = "calendar_version"
# A row every change to the rules (calendar, policy) updates, and every pass that judges or
# recolours all tasks holds FOR SHARE: the two never overlap (`hold_rules`).
RULES_KEY = "rules_version"
_calendars: dict[tuple, WorkCalendar] = {}


# A Core statement (no ORM entities), read by every update and API request of the 16:00
# rush: on PostgreSQL straight through the driver, under the same statement deadline and
# with a 503 when the database is away (tracker.deadlines.RushStatement).
_SETTINGS = RushStatement(select(Setting.__table__.c.key, Setting.__table__.c.value))


def _settings() -> dict[str, str]:
    if "tracker_settings" not in g:
        session = db.session()
        if session.autoflush:
            session.flush()  # as an ORM query would: a setting changed in this transaction
        # On the connection a query of the settings goes to (the replica, for a request
        # whose reads may lag: tracker.replica).
        connection = session.connection(bind_arguments={"clause": _SETTINGS.statement})
        g.tracker_settings = dict(_SETTINGS.run(connection, every_row=True))
    return g.tracker_settings


def forget() -> None:
    """Drop what this request has read: called by every change to settings or calendar."""
    g.pop("tracker_settings", None)


def setting(key: str) -> str | None:
    """A shared setting as this request read it (None if unset): no query beyond the one
    `settings` read per request that the policy and the calendar need anyway."""
    return _settings().get(key)


def put_setting(key: str, value: str) -> None:
    """Write a shared setting in the caller's transaction; every host reads it afresh
    with its next request."""
    row = db.session.get(Setting, key) or Setting(key=key)
    row.value = value
    db.session.add(row)
    db.session.flush()
    forget()


def bump_calendar_version() -> None:
    row = db.session.get(Setting, VERSION_KEY) or Setting(key=VERSION_KEY)
    row.value = uuid.uuid4().hex
    db.session.add(row)
    forget()


def bump_rules_version() -> None:
    """A change to the calendar or the policy is under way: waits for any pass over every
    task that holds the rules (`hold_rules`), and makes later ones wait for it to commit."""
    row = db.session.execute(select(Setting).where(Setting.key == RULES_KEY)
                             .with_for_update()).scalar()
    if row is None:
        row = Setting(key=RULES_KEY)
        db.session.add(row)
    row.value = uuid.uuid4().hex
    db.session.flush()
    forget()


def hold_rules() -> None:
    """Keep the calendar and the policy as they are until this transaction ends, then read
    them afresh: a cutoff or a colour refresh judges every task by one set of rules, and a
    change to them (`bump_rules_version`) waits for it. PostgreSQL: FOR SHARE on the rules
    row (in REPEATABLE READ, a change committed while waiting for it fails the statement
    with a serialization error: the caller starts again); SQLite's one writer at a time
    already keeps them apart."""
    db.session.execute(select(Setting.key).where(Setting.key == RULES_KEY)
                       .with_for_update(read=True))
    forget()


def ensure_rules_row() -> None:
    """Make sure the row `hold_rules` locks exists (in a transaction of its own, before a
    pass begins): a new deployment has none until its first change."""
    if db.session.get(Setting, RULES_KEY) is not None:
        db.session.rollback()
        return
    db.session.add(Setting(key=RULES_KEY, value=uuid.uuid4().hex))
    try:
        db.session.commit()
    except IntegrityError:  # another process made it at the same moment
        db.session.rollback()


def load_calendar() -> WorkCalendar:
    config = current_app.config
    key = (str(db.engine.url), _settings().get(VERSION_KEY), config["TRACKER_CUTOFF_TIME"],
           config["TRACKER_TIMEZONE"])
    calendar = _calendars.get(key)
    if calendar is None:
        rows = db.session.scalars(select(CalendarDay)).all()
        hours, minutes = (int(x) for x in config["TRACKER_CUTOFF_TIME"].split(":"))
        calendar = WorkCalendar(
            days_off=frozenset(r.day for r in rows if r.kind == DayKind.DAY_OFF),
            makeup_days=frozenset(r.day for r in rows if r.kind == DayKind.MAKEUP_DAY),
            cutoff_time=time(hours, minutes),
            zone=config["TRACKER_TIMEZONE"],
        )
        if len(_calendars) > 64:
            _calendars.clear()
        _calendars[key] = calendar
    return calendar


def load_policy() -> Policy:
    stored = _settings()
    values = {key: int(stored.get(key, default)) for key, default in POLICY_DEFAULTS.items()}
    return Policy(**values)
