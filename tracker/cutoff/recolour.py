"""Keep each task's stored colour equal to the colour rules' verdict."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tracker.cutoff.bulk import BulkUpdate
from tracker.cutoff.calendar import WorkCalendar
from tracker.cutoff.colours import ColourResult, Policy, TaskFacts, task_colour
from tracker.cutoff.context import load_calendar, load_policy
from tracker.extensions import db
from tracker.tasks.models import Task

BATCH = 5000
_COLUMNS = (Task.id, Task.status, Task.start_date, Task.deadline, Task.duty_since,
            Task.submitted_at, Task.last_update_at, Task.colour, Task.colour_reason,
            Task.colour_days)


def facts_of(task) -> TaskFacts:
    """The facts the rules need, from a Task or a row with the same attributes."""
    return TaskFacts(
        status=str(task.status),
        start_date=task.start_date,
        deadline=task.deadline,
        duty_since=task.duty_since,
        submitted_at=task.submitted_at,
    )


def colour_of(task, moment: datetime, calendar: WorkCalendar, policy: Policy) -> ColourResult:
    """The verdict of the rules; only the latest update matters to them."""
    updates = [task.last_update_at] if task.last_update_at else []
    return task_colour(facts_of(task), updates, calendar, policy, moment)


def stored_values(result: ColourResult) -> tuple[str | None, str | None, int]:
    reason = result.reasons[0] if result.reasons else None
    return (result.colour.value if result.colour else None,
            str(reason.code) if reason else None,
            reason.days if reason else 0)


def refresh_colour(task, moment: datetime, calendar: WorkCalendar | None = None,
                   policy: Policy | None = None) -> ColourResult:
    result = colour_of(task, moment, calendar or load_calendar(), policy or load_policy())
    task.colour, task.colour_reason, task.colour_days = stored_values(result)
    return result


def _rows(created_after: datetime | None = None):
    last_id = 0
    while True:
        query = select(*_COLUMNS).where(Task.id > last_id)
        if created_after is not None:
            query = query.where(Task.created_at > created_after)
        rows = db.session.execute(query.order_by(Task.id).limit(BATCH)).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def mismatches(moment: datetime, calendar: WorkCalendar | None = None,
               policy: Policy | None = None, created_after: datetime | None = None):
    """(task id, stored, computed) for every task whose stored colour is not the rules'."""
    calendar, policy = calendar or load_calendar(), policy or load_policy()
    for rows in _rows(created_after):
        for row in rows:
            computed = stored_values(colour_of(row, moment, calendar, policy))
            stored = (row.colour, row.colour_reason, row.colour_days)
            if stored != computed:
                yield row.id, stored, computed


def recolour_all(moment: datetime, calendar: WorkCalendar | None = None,
                 policy: Policy | None = None, created_after: datetime | None = None) -> int:
    """Bring every stored colour (of tasks created after `created_after`, if given) up to
    date at `moment`; returns how many changed. The changes stream to the database a batch
    at a time and are applied by one statement at the end."""
    bulk = BulkUpdate(Task.__table__, "id", ("colour", "colour_reason", "colour_days"))
    batch: list[tuple] = []
    for task_id, _stored, computed in mismatches(moment, calendar, policy, created_after):
        batch.append((task_id, *computed))
        if len(batch) >= BATCH:
            bulk.add(batch)
            batch = []
    bulk.add(batch)
    return bulk.apply()
