"""The SQL twins of the kiến nghị's colour rule (`tracker.rules.recommendations`): the
overdue queue, the counts and the lists filter and order by these, and
tests/rules/test_recommendation_twins.py runs both forms over the same generated rows on
SQLite and PostgreSQL. The calendar enters as constants computed in Python (today's date in
the zone, the warning window's last day), as for the tasks' twins."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, case, literal, or_

from tracker.rules.recommendations import (
    ANSWERED,
    AWAITING_ANSWER,
    AWAITING_ROUTING,
    MERGED,
)


def overdue(status, response_due, today: date) -> ColumnElement[bool]:
    """Twin of `is_overdue` at a moment whose date in the zone is `today`: the deadline's
    day has ended once today is later than it."""
    return and_(status.in_(sorted(AWAITING_ANSWER)), response_due < today)


def due_soon(status, response_due, today: date, horizon: date) -> ColumnElement[bool]:
    """Yellow: waiting for an answer, not overdue, deadline within today..`horizon`
    (`warning_horizon`)."""
    return and_(status.in_(sorted(AWAITING_ANSWER)), response_due >= today,
                response_due <= horizon)


def colour(status, response_due, today: date, horizon: date):
    """Twin of `recommendation_colour(...).colour`: 'red', 'yellow', 'green' or NULL."""
    return case(
        (status == MERGED, literal(None)),
        (overdue(status, response_due, today), literal("red")),
        (due_soon(status, response_due, today, horizon), literal("yellow")),
        else_=literal("green"))


def category(status, response_due, answered_at, due_end, today: date):
    """Twin of `category`: one of the four counts' names, NULL for a merged one.
    `due_end` is the column holding the moment the response deadline ended
    (`WorkCalendar.deadline_end`, stored beside the deadline when it is set, since the
    zone's midnight is the calendar's)."""
    return case(
        (status == MERGED, literal(None)),
        (and_(status.in_(sorted(ANSWERED)), answered_at < due_end),
         literal("answered_on_time")),
        (status.in_(sorted(ANSWERED)), literal("answered_late")),
        (overdue(status, response_due, today), literal("overdue")),
        else_=literal("pending"))


def awaiting(status) -> ColumnElement[bool]:
    """Still waiting for someone at the province's side: routing or an answer."""
    return or_(status.in_(sorted(AWAITING_ROUTING)), status.in_(sorted(AWAITING_ANSWER)))
