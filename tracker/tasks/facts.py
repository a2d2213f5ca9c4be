"""A task's past facts as data: what the colour rules read of a task (status, start date,
deadline, duty start, submission) as it stood before each change, so that a day can be
judged as of its cutoff however the task changed since (`tracker.cutoff.job`).

Every writer of these facts — the lifecycle, an admin's edit, a progress update that
starts the task — records the facts before its change, in
its own transaction (`record_if_changed`, or `rows_for` and `write_rows` for many)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from tracker.bulk import insert_rows
from tracker.extensions import db
from tracker.tasks.models import TaskFactsUntil

FACTS = ("status", "start_date", "deadline", "duty_since", "submitted_at")
_COLUMNS = ("task_id", "until", *FACTS)


def facts_now(task) -> dict:
    """The facts of a task (or a row or state with the same attributes), now."""
    return {name: getattr(task, name) for name in FACTS}


def record_if_changed(task_id: int, before: dict, after: dict, at: datetime) -> None:
    """Keep `before` as the task's facts until `at`, if the change altered any of them."""
    write_rows(rows_for([(task_id, before, after)], at))


def rows_for(changes, at: datetime) -> list[tuple]:
    """The rows to keep for many (task id, facts before, facts after) at once."""
    return [(task_id, at, *(str(before[n]) if n == "status" else before[n] for n in FACTS))
            for task_id, before, after in changes if before != after]


def write_rows(rows: list[tuple]) -> None:
    insert_rows(TaskFactsUntil.__table__, _COLUMNS, rows)


def facts_at(moment: datetime, task_ids: Select | None = None) -> dict[int, dict]:
    """The facts as they stood at `moment` of every task changed since (of those `task_ids`
    selects, if given): for each, the facts kept by its first change after `moment`."""
    query = (select(TaskFactsUntil.task_id, *(getattr(TaskFactsUntil, n) for n in FACTS))
             .where(TaskFactsUntil.until > moment)
             .order_by(TaskFactsUntil.task_id, TaskFactsUntil.until.desc(),
                       TaskFactsUntil.id.desc()))
    if task_ids is not None:
        query = query.where(TaskFactsUntil.task_id.in_(task_ids))
    rows = db.session.execute(query)
    found: dict[int, dict] = {}
    for task_id, *values in rows:
        found[task_id] = dict(zip(FACTS, values, strict=True))  # the earliest wins
    return found
