"""The SQL twins of the rules in `tracker.rules.colours`, for queries that must select or
count tasks by a rule without loading them: the member's to-do list, the reminders, the
task list's "overdue" filter, the dashboard's live categories.

Each twin takes the task columns (`t`: the `Task` model, or any table or alias with the
same columns) and the same calendar and moment or day as its Python rule, and selects
exactly the tasks for which the rule is true — proved over generated tasks on SQLite and
PostgreSQL by tests/rules/test_sql_twins.py. Conditions that depend only on the calendar
(is `day` a working day, where does its window start) are worked out here in Python and
enter the query as constants.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, cast, false, func, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from tracker.extensions import db
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import OPEN_STATUSES

SQLITE_LOCAL_DATE = "tracker_local_date"


def owes_update(t, calendar: WorkCalendar, day: date) -> ColumnElement[bool]:
    """`colours.is_required`: open, started by `day`, and owing updates since before the
    day's window opened, on a working day."""
    if not calendar.is_working_day(day):
        return false()
    start, _ = calendar.window(day)
    return and_(t.status.in_(OPEN_STATUSES), t.start_date <= day, t.duty_since <= start)


def reported_in_window(t, calendar: WorkCalendar, day: date) -> ColumnElement[bool]:
    """`colours.reported_in_window`, on the task's latest update (`last_update_at`)."""
    start, end = calendar.window(day)
    return and_(t.last_update_at.is_not(None), t.last_update_at > start,
                t.last_update_at <= end)


def still_owes(t, calendar: WorkCalendar, day: date) -> ColumnElement[bool]:
    """`colours.still_owes`: owes the day's update and has not posted it."""
    return and_(owes_update(t, calendar, day), not_(reported_in_window(t, calendar, day)))


def submitted_in_time(t, calendar: WorkCalendar) -> ColumnElement[bool]:
    """`colours.submitted_in_time`: submitted on or before the deadline's day, in the
    calendar's zone."""
    return and_(t.submitted_at.is_not(None), local_date(t.submitted_at, calendar) <= t.deadline)


def is_overdue(t, calendar: WorkCalendar, moment: datetime,
               among: Iterable[str] | None = None) -> ColumnElement[bool]:
    """`colours.is_overdue`: open after the deadline's day, or submitted after it.

    `among`: the statuses a query keeps already (the task list's "open"). The branch of
    statuses it does not keep is left out, so that an open task's lateness is the one
    range `(status, deadline)` that an index on the unit, the status and the deadline
    answers — rather than an OR that PostgreSQL reads as two whole-table bitmaps (every
    task past its deadline, and every task submitted) to intersect with a commune's.
    Within those statuses, the answer is the same."""
    kept = None if among is None else {str(status) for status in among}
    branches = (  # (its statuses, the test of them, when such a task is late)
        (OPEN_STATUSES, t.status.in_(OPEN_STATUSES), t.deadline < calendar.local_date(moment)),
        ({"submitted"}, t.status == "submitted", not_(submitted_in_time(t, calendar))))
    return or_(false(), *(late if kept is not None and kept <= statuses else and_(test, late)
                          for statuses, test, late in branches
                          if kept is None or kept & statuses))


def local_date(column, calendar: WorkCalendar) -> ColumnElement[date]:
    """The date in the calendar's zone of a UTC timestamp column."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(calendar.zone, column), Date)
    return func.tracker_local_date(column, calendar.zone)


def sqlite_local_date(stored: str | None, zone: str) -> str | None:
    """SQLite's `tracker_local_date(ts, zone)`: the date in `zone` of a stored naive-UTC
    timestamp, as ISO text — by the same zone rules as Python's (DST included)."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()
