"""Build the pure rules' inputs (calendar, policy) from settings and the database."""

from __future__ import annotations

from datetime import time

from flask import current_app
from sqlalchemy import select

from tracker.cutoff.calendar import WorkCalendar
from tracker.cutoff.colours import Policy
from tracker.cutoff.models import CalendarDay, DayKind, Setting
from tracker.extensions import db

POLICY_DEFAULTS = {"warning_working_days": 3, "missed_days_to_red": 2}


def load_calendar() -> WorkCalendar:
    rows = db.session.scalars(select(CalendarDay)).all()
    hours, minutes = (int(x) for x in current_app.config["TRACKER_CUTOFF_TIME"].split(":"))
    return WorkCalendar(
        days_off=frozenset(r.day for r in rows if r.kind == DayKind.DAY_OFF),
        makeup_days=frozenset(r.day for r in rows if r.kind == DayKind.MAKEUP_DAY),
        cutoff_time=time(hours, minutes),
        zone=current_app.config["TRACKER_TIMEZONE"],
    )


def load_policy() -> Policy:
    stored = {s.key: s.value for s in db.session.scalars(select(Setting))}
    values = {key: int(stored.get(key, default)) for key, default in POLICY_DEFAULTS.items()}
    return Policy(**values)
