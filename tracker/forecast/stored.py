"""The stored forecast as the dashboard, the warnings list (page and API) and the daily
report read it: of the latest finished day (the report: of its own day), never computed on
request (docs/forecast.md, "Stored once a day"). The task page and /today still forecast
their few tasks live (`forecast.service.likely_among`).

Every read is of one day's rows, from an index: the count of a subtree from
(day, lead_unit_id), the list's page from (day, risk desc, deadline, task_id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.forecast.models import ForecastDay, TaskForecast, decode_signs
from tracker.forecast.service import TaskWarning
from tracker.rules.forecast import Forecast
from tracker.rules.store import load_calendar
from tracker.scope import visible_unit_ids
from tracker.tasks.models import Task
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids

MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class AsOf:
    """Which stored day a figure is of: the day, its cutoff moment and horizon's end."""

    day: date
    moment: datetime
    horizon_end: date


def _as_of(record: ForecastDay | None) -> AsOf | None:
    if record is None:
        return None
    return AsOf(record.day, load_calendar().cutoff_moment(record.day), record.horizon_end)


def latest() -> AsOf | None:
    """The latest finished day, or None if no day has been computed yet."""
    return _as_of(db.session.scalar(
        select(ForecastDay).where(ForecastDay.finished_at.is_not(None))
        .order_by(ForecastDay.day.desc()).limit(1)))


def of_day(day: date) -> AsOf | None:
    """`day` if its forecast is stored and finished."""
    record = db.session.get(ForecastDay, day)
    return _as_of(record if record is not None and record.finished_at is not None else None)


def count_in(unit: Unit, as_of: AsOf) -> int:
    """How many tasks led in the unit's subtree were judged likely that day (the caller has
    checked the unit is in scope)."""
    return db.session.scalar(
        select(func.count()).select_from(TaskForecast)
        .where(TaskForecast.day == as_of.day,
               TaskForecast.lead_unit_id.in_(subtree_ids(unit)))) or 0


def _in_scope(user, as_of: AsOf, unit: Unit | None) -> list:
    where = [TaskForecast.day == as_of.day,
             TaskForecast.lead_unit_id.in_(visible_unit_ids(user))]
    if unit is not None:
        where.append(TaskForecast.lead_unit_id.in_(subtree_ids(unit)))
    return where


def per_unit(user, as_of: AsOf) -> list[tuple[int, str, int]]:
    """The units in the user's scope with a task judged likely, and how many: (id, name,
    count), for the list's filter."""
    rows = db.session.execute(
        select(TaskForecast.lead_unit_id, Unit.name, func.count())
        .join(Unit, Unit.id == TaskForecast.lead_unit_id)
        .where(*_in_scope(user, as_of, None))
        .group_by(TaskForecast.lead_unit_id, Unit.name)).all()
    return [(i, name, n) for i, name, n in rows]


def warnings_page(user, as_of: AsOf, unit: Unit | None, page: int,
                  per_page: int) -> tuple[list[TaskWarning], int]:
    """One page of the tasks in the user's scope (in `unit`'s subtree, if given) judged
    likely that day, highest risk first, then the nearest deadline; and their number."""
    where = _in_scope(user, as_of, unit)
    page = min(page, MAX_PAGE)  # beyond any list; an offset the database can take
    total = db.session.scalar(select(func.count()).select_from(TaskForecast).where(*where))
    rows = db.session.scalars(
        select(TaskForecast).where(*where)
        .order_by(TaskForecast.risk.desc(), TaskForecast.deadline, TaskForecast.task_id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    tasks = {t.id: t for t in db.session.scalars(
        select(Task).where(Task.id.in_([r.task_id for r in rows]))
        .options(selectinload(Task.lead_unit)))}
    found = [TaskWarning(tasks[r.task_id], Forecast(True, r.risk, as_of.horizon_end,
                                                    decode_signs(r.signs)))
             for r in rows if r.task_id in tasks]
    return found, total or 0
