"""Template filters: dates as dd/mm/yyyy, times in ICT, colours with a label."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from tracker.cutoff.context import load_calendar

COLOUR_LABELS = {"green": _l("Green"), "yellow": _l("Yellow"), "red": _l("Red")}
COLOUR_ICONS = {"green": "●", "yellow": "▲", "red": "■"}
STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Awaiting confirmation"),
    "returned": _l("Returned"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
PRIORITY_LABELS = {"normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
REASON_LABELS = {
    "done": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "awaiting_confirmation": _l("Awaiting confirmation"),
    "not_started_yet": _l("Start date not reached"),
    "on_track": _l("On track"),
    "deadline_soon": _l("Deadline within %(days)s working day(s)"),
    "missed_update": _l("Update missed on %(days)s reporting day(s)"),
    "missed_updates": _l("Updates missed on %(days)s consecutive reporting days"),
    "overdue": _l("Overdue by %(days)s day(s)"),
}


def dmy(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"])).date()
    return value.strftime("%d/%m/%Y")


def ict(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"]))
    return local.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def reason_text(code: str | None, days: int = 0) -> str:
    if not code:
        return ""
    label = REASON_LABELS.get(code)
    return str(label) % {"days": days} if label is not None else code


def reporting_day(moment):
    """The working day whose cutoff a write stamped at `moment` counts for, by today's
    calendar (so it follows a day off or a make-up day added later, as the cutoff does)."""
    return load_calendar().reporting_day(moment)


def register(app) -> None:
    from tracker.notifications.views import unread_count

    app.jinja_env.filters.update(dmy=dmy, ict=ict, reporting_day=reporting_day)
    app.jinja_env.globals.update(unread_count=unread_count)
    app.jinja_env.globals.update(
        COLOUR_LABELS=COLOUR_LABELS,
        COLOUR_ICONS=COLOUR_ICONS,
        STATUS_LABELS=STATUS_LABELS,
        PRIORITY_LABELS=PRIORITY_LABELS,
        reason_text=reason_text,
        get_locale=get_locale,
    )
