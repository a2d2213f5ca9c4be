"""Read what the early warning needs (`tracker.rules.forecast.TaskHistory`) for many tasks
at once, as it was known at a moment — now for the pages, a past cutoff for the evaluation.

The tasks come as a subquery of ids; whatever their number, the history is five queries:
the updates since the pace's start, the latest update before it, the missed days of the
record, the facts history (the returns) and the refused extension requests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from tracker.cutoff.models import MissedUpdate
from tracker.extensions import db
from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import TaskFacts
from tracker.rules.forecast import TaskHistory, pace_start, record_days
from tracker.tasks.models import ExtensionRequest, ExtensionStatus, Status, TaskFactsUntil
from tracker.updates.models import ProgressUpdate


@dataclass(frozen=True)
class TaskState:
    """A task as it stood at the moment: its id, assignment, facts and status now (the
    facts history's last change leads to the status now)."""

    id: int
    created_at: datetime
    facts: TaskFacts
    status_now: str


def load_histories(states: Iterable[TaskState], ids: Select, calendar: WorkCalendar,
                   moment: datetime) -> dict[int, TaskHistory]:
    """The history of each task in `states` (whose ids `ids` selects) as known at
    `moment`: nothing stamped after it is read."""
    states = list(states)
    if not states:
        return {}
    start = pace_start(calendar, moment)
    recent: dict[int, tuple[datetime, int]] = {}
    for task_id, at, progress in db.session.execute(
            select(ProgressUpdate.task_id, ProgressUpdate.created_at, ProgressUpdate.progress)
            .where(ProgressUpdate.task_id.in_(ids), ProgressUpdate.created_at > start,
                   ProgressUpdate.created_at <= moment)):
        if task_id not in recent or (at, progress) > recent[task_id]:
            recent[task_id] = (at, progress)

    ranked = (select(ProgressUpdate.task_id, ProgressUpdate.created_at,
                     ProgressUpdate.progress,
                     func.row_number().over(partition_by=ProgressUpdate.task_id,
                                            order_by=(ProgressUpdate.created_at.desc(),
                                                      ProgressUpdate.id.desc()))
                     .label("n"))
              .where(ProgressUpdate.task_id.in_(ids), ProgressUpdate.created_at <= start)
              .subquery())
    before = {task_id: (at, progress) for task_id, at, progress in db.session.execute(
        select(ranked.c.task_id, ranked.c.created_at, ranked.c.progress)
        .where(ranked.c.n == 1))}

    recorded = record_days(calendar, moment)
    missed: dict[int, list] = defaultdict(list)
    for task_id, day in db.session.execute(
            select(MissedUpdate.task_id, MissedUpdate.day)
            .where(MissedUpdate.task_id.in_(ids), MissedUpdate.day >= recorded[0],
                   MissedUpdate.day <= recorded[-1])):
        missed[task_id].append(day)

    returns = _returns(ids, moment, {s.id: s.status_now for s in states})
    rejections = dict(db.session.execute(
        select(ExtensionRequest.task_id, func.count())
        .where(ExtensionRequest.task_id.in_(ids),
               ExtensionRequest.status == ExtensionStatus.REJECTED,
               ExtensionRequest.decided_at <= moment)
        .group_by(ExtensionRequest.task_id)).all())

    histories = {}
    for state in states:
        last = recent.get(state.id) or before.get(state.id)
        histories[state.id] = TaskHistory(
            facts=state.facts, created_at=state.created_at,
            last_update=last[0] if last else None, progress=last[1] if last else 0,
            progress_before=before[state.id][1] if state.id in before else 0,
            missed_days=tuple(missed.get(state.id, ())),
            returns=returns.get(state.id, 0), rejections=rejections.get(state.id, 0))
    return histories


def _returns(ids: Select, moment: datetime, status_now: dict[int, str]) -> dict[int, int]:
    """Completions returned up to `moment`, per task: each change kept in the facts history
    that ended a submission (its facts before say "submitted") and left the task returned
    (the facts the next change kept, or the task's status now)."""
    rows = db.session.execute(
        select(TaskFactsUntil.task_id, TaskFactsUntil.until, TaskFactsUntil.status)
        .where(TaskFactsUntil.task_id.in_(ids))
        .order_by(TaskFactsUntil.task_id, TaskFactsUntil.until, TaskFactsUntil.id)).all()
    counts: dict[int, int] = {}
    for i, (task_id, until, status) in enumerate(rows):
        if status != Status.SUBMITTED or until > moment:
            continue
        following = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][0] == task_id else None
        after = following[2] if following else status_now.get(task_id)
        if after == Status.RETURNED:
            counts[task_id] = counts.get(task_id, 0) + 1
    return counts
