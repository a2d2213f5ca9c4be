"""The early warning (cảnh báo sắp chuyển đỏ): how likely an open task is to turn red within
the next N working days, and why — a pure function of the task's history, the calendar,
the policy and the moment, like its colour (`tracker.rules.colours`).

It projects the colour rules forward rather than guessing at them. A task turns red in
only two ways while it is open (docs/status-rules.md §4), so the forecast weighs each:

- **the deadline passes** before the horizon ends while the task is still open: likely
  when the unit's pace (progress per working day over the last `PACE_DAYS` working days)
  does not bring it to 100 % by the deadline, or the task has already been returned (trả
  lại) — its completion is to be done again;
- **updates are missed** on `missed_days_to_red` reporting days in a row before the
  horizon ends: each reporting day still owed in the horizon is taken as missed with the
  probability the task's own record gives (the days missed among the last `RECORD_DAYS`
  it owed), and the chance that the run reaches red is computed exactly, from the streak
  it has now.

The two chances combine as independent; the task is "likely" when the combined chance is
at least `LIKELY`. Every figure behind the answer comes back as a `Sign`, for the words
(`tracker.forecast.wording`). The method and its measured figures: docs/forecast.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Policy, TaskFacts, is_overdue, is_required, missed_streak

HORIZON_DAYS = 3  # the default N: the next three working days
PACE_DAYS = 10  # the pace is read over the last ten working days
RECORD_DAYS = 10  # the missed-update record: the last ten reporting days owed or not
LIKELY = 0.5  # "likely" means more likely than not
# How likely a task whose deadline passes in the horizon is to be red by then: at a pace
# that does not reach 100 % it almost surely is; one that does may still miss it (a
# completion submitted late, or returned).
DEADLINE_SHORT = 0.9
DEADLINE_RETURNED = 0.6
DEADLINE_ON_PACE = 0.3


@dataclass(frozen=True)
class TaskHistory:
    """What the forecast reads of one task, as known at the moment (the loader,
    `tracker.forecast.loader`, reads it for many tasks at once).

    `progress` is the latest reported progress at the moment; `progress_before` the latest
    at or before `pace_start(...)` (0 if none). `missed_days` are the reporting days the
    cutoff recorded as missed (any order; those after the moment are ignored). `returns`
    counts the completions returned, `rejections` the extension requests refused, up to the
    moment. `created_at`: the task's assignment."""

    facts: TaskFacts
    created_at: datetime
    last_update: datetime | None = None
    progress: int = 0
    progress_before: int = 0
    missed_days: Sequence[date] = ()
    returns: int = 0
    rejections: int = 0


@dataclass(frozen=True)
class Sign:
    """One figure behind a forecast, e.g. Sign("deadline", (4, 35, 5, 55)): the deadline in
    4 working days, 35 % done, 5 %/day, 55 % expected by then. The codes and their values:

    - deadline: (working days left, progress %, pace %/day, expected % at the deadline)
    - streak: (reporting days missed in a row now, days in a row that turn it red)
    - record: (days missed, of the last reporting days owed)
    - returned: (completions returned,)
    - rejected: (extension requests refused,)
    """

    code: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Forecast:
    """The answer for one task: whether it is likely to turn red within the horizon, the
    chance (0–100 %), the horizon's last working day, and the signs, weightiest first."""

    likely: bool
    risk: int
    horizon_end: date
    signs: tuple[Sign, ...]

    @property
    def ranked(self) -> tuple:
        """Sort key: likely first, then the highest risk."""
        return (not self.likely, -self.risk)


# The horizon, the pace's start and the record depend only on the calendar and the moment:
# memoised, as a page forecasts thousands of tasks at one moment.
@lru_cache(maxsize=256)
def horizon_end(calendar: WorkCalendar, moment: datetime, days: int = HORIZON_DAYS) -> date:
    """The last working day of the horizon: the `days`-th working day after the moment's
    date. Today's cutoff, if still to come, lies within it too."""
    end = calendar.local_date(moment)
    for _ in range(days):
        end = calendar.next_working_day(end)
    return end


@lru_cache(maxsize=256)
def pace_start(calendar: WorkCalendar, moment: datetime) -> datetime:
    """Where the pace is read from: the cutoff `PACE_DAYS` working days before the last
    cutoff at or before the moment."""
    day = calendar.last_cutoff_day(moment)
    for _ in range(PACE_DAYS):
        day = calendar.previous_working_day(day)
    return calendar.cutoff_moment(day)


@lru_cache(maxsize=256)
def record_days(calendar: WorkCalendar, moment: datetime) -> tuple[date, ...]:
    """The last `RECORD_DAYS` working days whose cutoff is at or before the moment."""
    day = calendar.last_cutoff_day(moment)
    days = [day]
    while len(days) < RECORD_DAYS:
        day = calendar.previous_working_day(day)
        days.append(day)
    return tuple(days[::-1])


def pace(history: TaskHistory, calendar: WorkCalendar, moment: datetime) -> float:
    """Progress per working day: from the latest progress at the pace's start (0 at the
    assignment, if later) to the latest now, over the working days between them."""
    start = pace_start(calendar, moment)
    since, base = (start, history.progress_before)
    if history.created_at > start:
        since, base = (history.created_at, 0)
    days = calendar.working_days_between(calendar.local_date(since),
                                         calendar.local_date(moment))
    return max(0.0, (history.progress - base) / max(days, 1))


def chance_of_missed_run(p: float, streak: int, needed: int, owed: int) -> float:
    """The chance that a run of missed reporting days reaches `needed`, from `streak`
    already missed, within `owed` days still owed, each missed with chance `p` (alone).
    Exact, by the distribution of the run's length day by day."""
    if streak >= needed:
        return 1.0
    run = {streak: 1.0}
    reached = 0.0
    for _ in range(owed):
        after: dict[int, float] = {}
        for length, chance in run.items():
            after[0] = after.get(0, 0.0) + chance * (1 - p)
            longer = length + 1
            if longer >= needed:
                reached += chance * p
            else:
                after[longer] = after.get(longer, 0.0) + chance * p
        run = after
    return reached


def forecast(history: TaskHistory, calendar: WorkCalendar, policy: Policy, moment: datetime,
             days: int = HORIZON_DAYS) -> Forecast:
    """Whether the task is likely to turn red within the next `days` working days, and why.

    Only open tasks not yet red are forecast; any other gets risk 0 and no sign (a red
    task has turned already; a submitted, done or cancelled one owes nothing)."""
    facts = history.facts
    end_day = horizon_end(calendar, moment, days)
    if not facts.is_open or is_overdue(facts, calendar, moment):
        return Forecast(False, 0, end_day, ())
    updates = [history.last_update] if history.last_update is not None else []
    streak = missed_streak(facts, updates, calendar, moment)
    if streak >= policy.missed_days_to_red:
        return Forecast(False, 0, end_day, ())  # red already

    horizon_close = calendar.cutoff_moment(end_day)
    today = calendar.local_date(moment)
    signs: list[Sign] = []
    chance_deadline = 0.0
    if calendar.deadline_end(facts.deadline) <= horizon_close:
        left = calendar.working_days_between(today, facts.deadline)
        speed = pace(history, calendar, moment)
        expected = min(100, round(history.progress + speed * left))
        signs.append(Sign("deadline", (left, history.progress, round(speed), expected)))
        if expected < 100:
            chance_deadline = DEADLINE_SHORT
        elif history.returns:
            chance_deadline = DEADLINE_RETURNED
        else:
            chance_deadline = DEADLINE_ON_PACE

    owed = [d for d in calendar.working_days(today, end_day)
            if calendar.cutoff_moment(d) > moment and is_required(facts, calendar, d)]
    recorded = record_days(calendar, moment)
    missed = set(history.missed_days)
    of_record = sum(1 for d in recorded if d in missed)
    p = of_record / len(recorded)
    chance_missed = chance_of_missed_run(p, streak, policy.missed_days_to_red, len(owed))
    if streak:
        signs.append(Sign("streak", (streak, policy.missed_days_to_red)))
    if of_record:
        signs.append(Sign("record", (of_record, len(recorded))))
    if history.returns:
        signs.append(Sign("returned", (history.returns,)))
    if history.rejections:
        signs.append(Sign("rejected", (history.rejections,)))

    chance = 1 - (1 - chance_deadline) * (1 - chance_missed)
    if chance_missed > chance_deadline:  # the weightier way to red leads the words
        signs.sort(key=lambda s: s.code not in ("streak", "record"))
    return Forecast(chance >= LIKELY, round(100 * chance), end_day, tuple(signs))


def baseline(facts: TaskFacts, calendar: WorkCalendar, moment: datetime,
             days: int = HORIZON_DAYS) -> bool:
    """What the forecast is measured against (`tracker forecast evaluate`): an open task,
    not yet overdue, whose deadline is within the next `days` working days."""
    if not facts.is_open or is_overdue(facts, calendar, moment):
        return False
    return calendar.working_days_between(calendar.local_date(moment), facts.deadline) <= days
