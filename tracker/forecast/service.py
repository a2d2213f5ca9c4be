"""The early warning as the pages, the API and the reports ask it: the tasks in a user's
scope likely to turn red within the next working days, highest risk first, and their
number; one task's forecast for its page and the member's /today.

Only tasks that can turn red within the horizon are read (`candidates`): open, not red, and
either their deadline falls within it or a missed update lies in their record — any other
has no way to red that the forecast weighs (its risk is 0; proved by
tests/rules/test_forecast_loader.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select

from tracker.cutoff.models import MissedUpdate
from tracker.extensions import db
from tracker.forecast.loader import TaskState, load_histories
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import TaskFacts
from tracker.rules.forecast import HORIZON_DAYS, Forecast, forecast, horizon_end, record_days
from tracker.rules.store import load_calendar, load_policy
from tracker.scope import supervised_tasks
from tracker.tasks.models import OPEN_STATUSES, Task
from tracker.units.models import Unit
from tracker.units.tree import subtree_ids


@dataclass(frozen=True)
class TaskWarning:
    """A task and its forecast."""

    task: Task
    forecast: Forecast


def candidates(tasks: Select, calendar: WorkCalendar, moment: datetime,
               days: int = HORIZON_DAYS) -> Select:
    """Of the `tasks` (a select of Task), the ids of those the forecast may call likely:
    open, not red now, and with their deadline by the horizon's end or a missed update in
    their record."""
    inner = tasks.subquery()
    recorded = record_days(calendar, moment)
    in_record = select(MissedUpdate.task_id).where(
        MissedUpdate.day >= recorded[0], MissedUpdate.day <= recorded[-1])
    return (select(inner.c.id)
            .where(inner.c.status.in_(OPEN_STATUSES), inner.c.colour.is_distinct_from("red"),
                   or_(inner.c.deadline <= horizon_end(calendar, moment, days),
                       inner.c.id.in_(in_record))))


def _state(task: Task) -> TaskState:
    facts = TaskFacts(status=str(task.status), start_date=task.start_date,
                      deadline=task.deadline, duty_since=task.duty_since,
                      submitted_at=task.submitted_at)
    return TaskState(task.id, task.created_at, facts, str(task.status))


def forecast_tasks(ids: Select, moment: datetime, days: int = HORIZON_DAYS) -> list[TaskWarning]:
    """The forecast of every task `ids` selects, as of `moment` (the tasks as they stand)."""
    tasks = db.session.scalars(select(Task).where(Task.id.in_(ids))).all()
    calendar, policy = load_calendar(), load_policy()
    histories = load_histories([_state(t) for t in tasks], ids, calendar, moment)
    return [TaskWarning(t, forecast(histories[t.id], calendar, policy, moment, days))
            for t in tasks]


def warnings(user, moment: datetime, unit: Unit | None = None,
             days: int = HORIZON_DAYS) -> list[TaskWarning]:
    """The tasks the user supervises (within `unit`'s subtree, if given) likely to turn red
    within `days` working days, highest risk first (then the nearest deadline)."""
    scope = supervised_tasks(user)
    if unit is not None:
        scope = scope.where(Task.lead_unit_id.in_(subtree_ids(unit)))
    ids = candidates(scope, load_calendar(), moment, days)
    found = [w for w in forecast_tasks(ids, moment, days) if w.forecast.likely]
    found.sort(key=lambda w: (*w.forecast.ranked, w.task.deadline, w.task.code))
    return found


def count_in(unit: Unit, moment: datetime, days: int = HORIZON_DAYS) -> int:
    """How many tasks led in the unit's subtree are likely to turn red (the dashboard's and
    the daily report's count); the caller has checked the unit is in scope."""
    tasks = select(Task).where(Task.lead_unit_id.in_(subtree_ids(unit)))
    ids = candidates(tasks, load_calendar(), moment, days)
    return sum(w.forecast.likely for w in forecast_tasks(ids, moment, days))


def likely_among(task_ids: list[int], moment: datetime) -> dict[int, Forecast]:
    """Of these tasks (a page of them: the task page, /today), the forecast of each likely
    to turn red, by id."""
    if not task_ids:
        return {}
    ids = candidates(select(Task).where(Task.id.in_(task_ids)), load_calendar(), moment)
    return {w.task.id: w.forecast for w in forecast_tasks(ids, moment) if w.forecast.likely}
