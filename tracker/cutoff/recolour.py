"""Keep each task's stored colour equal to the colour rules' verdict."""

from __future__ import annotations

from datetime import datetime

from tracker.cutoff.calendar import WorkCalendar
from tracker.cutoff.colours import ColourResult, Policy, TaskFacts, task_colour
from tracker.cutoff.context import load_calendar, load_policy


def facts_of(task) -> TaskFacts:
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


def refresh_colour(task, moment: datetime, calendar: WorkCalendar | None = None,
                   policy: Policy | None = None) -> ColourResult:
    result = colour_of(task, moment, calendar or load_calendar(), policy or load_policy())
    reason = result.reasons[0] if result.reasons else None
    task.colour = result.colour.value if result.colour else None
    task.colour_reason = reason.code if reason else None
    task.colour_days = reason.days if reason else 0
    return result
