"""The one function that forecasts a set of tasks as of a past cutoff: the evaluation's
replay, the daily report's count and the stored forecast (`tracker.forecast.store`) all
call `forecasts_at`, so they cannot disagree.

Each task is judged on what was known at the cutoff: its facts as they stood then
(`tasks.facts.facts_at`, as the cutoff rebuilds a past day), only the updates, missed days,
returns and refusals stamped by then (`forecast.loader`); a task on the day's red list has
turned already and is not forecast. Only the tasks that can be likely are read: those whose
deadline (now, or as it stood then) falls before the day after the horizon, or with a
missed update in their record — the same candidates as `forecast.service.candidates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, or_, select

from tracker.cutoff.models import MissedUpdate, RedTaskDay
from tracker.extensions import db
from tracker.forecast.loader import TaskState, load_histories
from tracker.rules.colours import TaskFacts
from tracker.rules.forecast import HORIZON_DAYS, Forecast, forecast, horizon_end, record_days
from tracker.rules.store import load_calendar, load_policy
from tracker.tasks.facts import FACTS, facts_at
from tracker.tasks.models import Task, TaskFactsUntil

CHUNK = 5000  # task ids per query of the loader


@dataclass(frozen=True)
class Judged:
    """One task forecast at a past cutoff: as it stood then, where it was led, the answer."""

    state: TaskState
    unit_id: int
    deadline: date
    forecast: Forecast


def forecasts_at(tasks: Select, day: date, horizon: int = HORIZON_DAYS,
                 also: Select | None = None) -> list[Judged]:
    """The forecast at `day`'s cutoff of every task of `tasks` (a select of Task) that was
    open and not red then and could be likely — and of those `also` selects (ids; the
    evaluation adds the tasks that turned red, to count the ones missed)."""
    calendar, policy = load_calendar(), load_policy()
    moment = calendar.cutoff_moment(day)
    end = horizon_end(calendar, moment, horizon)
    inner = tasks.subquery()
    past = facts_at(moment, select(inner.c.id))
    recorded = record_days(calendar, moment)
    in_record = select(MissedUpdate.task_id).where(
        MissedUpdate.day >= recorded[0], MissedUpdate.day <= recorded[-1])
    soon = calendar.next_working_day(end)  # a deadline before it is within the horizon
    red_then = set(db.session.scalars(
        select(RedTaskDay.task_id).where(RedTaskDay.day == day,
                                         RedTaskDay.task_id.in_(select(inner.c.id)))))
    may = [inner.c.deadline < soon, inner.c.id.in_(in_record),
           # The deadline as of the moment is the current one, or that kept by the task's
           # first change since: either way, one of these is early.
           inner.c.id.in_(select(TaskFactsUntil.task_id)
                          .where(TaskFactsUntil.until > moment,
                                 TaskFactsUntil.deadline < soon))]
    if also is not None:
        may.append(inner.c.id.in_(also))
    rows = db.session.execute(
        select(inner.c.id, inner.c.created_at, inner.c.lead_unit_id, inner.c.status,
               *(inner.c[n] for n in FACTS))
        .where(inner.c.created_at <= moment, or_(*may))).all()
    states: list[tuple[TaskState, int]] = []
    for task_id, created_at, unit_id, status_now, *now_facts in rows:
        if task_id in red_then:
            continue
        values = past.get(task_id) or dict(zip(FACTS, now_facts, strict=True))
        facts = TaskFacts(**{**values, "status": str(values["status"])})
        if facts.is_open:
            states.append((TaskState(task_id, created_at, facts, str(status_now)), unit_id))
    histories = {}
    for i in range(0, len(states), CHUNK):
        chunk = [state for state, _unit in states[i:i + CHUNK]]
        ids = select(Task.id).where(Task.id.in_([s.id for s in chunk]))
        histories.update(load_histories(chunk, ids, calendar, moment))
    return [Judged(state, unit_id, state.facts.deadline,
                   forecast(histories[state.id], calendar, policy, moment, horizon))
            for state, unit_id in states]
