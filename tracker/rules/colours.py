"""The xanh hoá colour rules: one pure function of a task's facts, its update history, the
calendar, the policy and the moment (SPEC §6).

Stored colours must always equal `task_colour(...)` at the moment they were computed, so
nothing here reads the clock or the database: the caller passes the task as it stood at the
moment (`TaskFacts`) and the server timestamps of its updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from tracker.rules.calendar import WorkCalendar

OPEN_STATUSES = frozenset({"not_started", "in_progress", "returned"})
STATUSES = OPEN_STATUSES | {"submitted", "done", "cancelled"}


class Colour(StrEnum):
    """A task's or a unit's colour: xanh, vàng, đỏ."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Category(StrEnum):
    """The Government's four report categories."""

    DONE_ON_TIME = "done_on_time"  # hoàn thành đúng hạn
    DONE_LATE = "done_late"  # hoàn thành quá hạn
    OPEN_WITHIN_DEADLINE = "open_within_deadline"  # chưa hoàn thành, trong hạn
    OPEN_OVERDUE = "open_overdue"  # chưa hoàn thành, quá hạn


class ReasonCode(StrEnum):
    """Why a task has its colour; plain strings compare equal to these."""

    OVERDUE = "overdue"  # quá hạn; days = calendar days since the deadline
    MISSED_UPDATES = "missed_updates"  # days = consecutive missed reporting days, red
    MISSED_UPDATE = "missed_update"  # days = consecutive missed reporting days, yellow
    DEADLINE_SOON = "deadline_soon"  # sắp đến hạn; days = working days left, 0 = today
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # chờ xác nhận
    NOT_STARTED_YET = "not_started_yet"  # start date still to come
    ON_TRACK = "on_track"  # đúng tiến độ
    DONE = "done"  # hoàn thành
    CANCELLED = "cancelled"  # đã huỷ


@dataclass(frozen=True)
class Policy:
    """The configurable thresholds of the colour rules."""

    warning_working_days: int = 3
    missed_days_to_red: int = 2

    def __post_init__(self) -> None:
        if self.warning_working_days < 0:
            raise ValueError("warning_working_days must be 0 or more")
        if self.missed_days_to_red < 1:
            raise ValueError("missed_days_to_red must be 1 or more")


@dataclass(frozen=True)
class TaskFacts:
    """A task as it stood at the moment being judged (the caller rebuilds past facts).

    `duty_since` is when daily updates started being owed: the assignment, or the last time
    a completion was returned (trả lại). `submitted_at` is when the unit submitted the
    completion now pending or confirmed — for a done task, its completion time.
    """

    status: str
    start_date: date
    deadline: date
    duty_since: datetime
    submitted_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown task status {self.status!r}")
        if self.duty_since.tzinfo is None:
            raise ValueError("duty_since must be an aware datetime")
        if self.status in ("submitted", "done") and self.submitted_at is None:
            raise ValueError(f"a {self.status} task needs submitted_at")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class Reason:
    """One reason for a colour, e.g. Reason("overdue", 3): three days past the deadline."""

    code: str
    days: int = 0


@dataclass(frozen=True)
class ColourResult:
    """A task's colour (None only when cancelled), every reason worst first, its category."""

    colour: Colour | None
    reasons: tuple[Reason, ...]
    category: Category | None


# --- the update duty --------------------------------------------------------------------


def is_required(facts: TaskFacts, calendar: WorkCalendar, day: date) -> bool:
    """Whether reporting day `day` needs an update from the task's unit.

    Only open tasks owe updates, only on working days from the start date on, and only
    from the first window that opens at or after `duty_since`: the unit always gets one
    whole window, so a task assigned or returned at 15:00 owes nothing for that day.
    """
    if not facts.is_open or day < facts.start_date or not calendar.is_working_day(day):
        return False
    return calendar.window(day)[0] >= facts.duty_since


def was_missed(
    facts: TaskFacts, update_times: Iterable[datetime], calendar: WorkCalendar, day: date
) -> bool:
    """Whether reporting day `day` was missed: required, and no update in its window.

    This is what the cutoff job records for that day; a late update never undoes it. Pass
    the facts as they stood at `day`'s cutoff.
    """
    if not is_required(facts, calendar, day):
        return False
    start, end = calendar.window(day)
    return not any(start < ts <= end for ts in update_times)


def reported_in_window(last_update: datetime | None, calendar: WorkCalendar, day: date) -> bool:
    """Whether the task's latest update (at or before the moment looked at) falls in
    reporting day `day`'s window: while that window is open, whether the day's update has
    been posted."""
    start, end = calendar.window(day)
    return last_update is not None and start < last_update <= end


def still_owes(facts: TaskFacts, last_update: datetime | None, calendar: WorkCalendar,
               day: date) -> bool:
    """Whether the unit still owes `day`'s update, as seen during that day's window (the
    member's to-do list, the afternoon reminders): required, and not yet posted."""
    return is_required(facts, calendar, day) and \
        not reported_in_window(last_update, calendar, day)


def missed_streak(
    facts: TaskFacts,
    update_times: Sequence[datetime],
    calendar: WorkCalendar,
    moment: datetime,
) -> int:
    """How many consecutive reporting days up to `moment` were missed, with none posted since.

    Counts the required days D whose cutoff is at or before `moment` and after whose window
    opened no update was posted (up to `moment`). Any update — even a late one — clears the
    streak at once. 0 for tasks that are not open.

    `update_times` may be in any order and as long as the task's history: only the latest
    one at or before `moment` matters, so a caller that keeps `last_update_at` may pass just
    that. The count itself is constant-time arithmetic on the calendar, however long ago
    the last update was.
    """
    if not facts.is_open:
        return 0
    last_update = max((ts for ts in update_times if ts <= moment), default=None)
    # Required days form one unbroken run of working days: those after the reporting day of
    # `duty_since` (so their window opens at or after it) and on or after the start date.
    # The streak is the part of that run after the reporting day of the last update.
    after = max(calendar.reporting_day(facts.duty_since), facts.start_date - timedelta(days=1))
    if last_update is not None:
        after = max(after, calendar.reporting_day(last_update))
    return calendar.working_days_between(after, calendar.last_cutoff_day(moment))


# --- colours ----------------------------------------------------------------------------

_SEVERITY = {
    ReasonCode.OVERDUE: Colour.RED,
    ReasonCode.MISSED_UPDATES: Colour.RED,
    ReasonCode.MISSED_UPDATE: Colour.YELLOW,
    ReasonCode.DEADLINE_SOON: Colour.YELLOW,
}


def task_colour(
    facts: TaskFacts,
    update_times: Sequence[datetime],
    calendar: WorkCalendar,
    policy: Policy,
    moment: datetime,
) -> ColourResult:
    """The task's colour, reasons and category at `moment` (SPEC §6)."""
    if facts.status == "cancelled":
        # Cancelled tasks leave the colours and the counts.
        return ColourResult(None, (Reason(ReasonCode.CANCELLED),), None)
    if facts.status == "done":
        return _done_colour(facts, calendar, moment)
    if facts.status == "submitted":
        return _submitted_colour(facts, calendar, moment)
    return _open_colour(facts, update_times, calendar, policy, moment)


def submitted_in_time(facts: TaskFacts, calendar: WorkCalendar) -> bool:
    """Whether the unit submitted its completion before the deadline had passed (by the
    end of the deadline's day in the zone). The completion time is the unit's submission,
    so a slow confirmation never makes a unit late."""
    if facts.submitted_at is None:
        return False
    return facts.submitted_at < calendar.deadline_end(facts.deadline)


def is_overdue(facts: TaskFacts, calendar: WorkCalendar, moment: datetime) -> bool:
    """Quá hạn: not completed in time. An open task once the deadline has passed; a
    submitted one if it was submitted after the deadline (it stays overdue until
    confirmed). Done and cancelled tasks are never overdue."""
    if facts.is_open:
        return moment >= calendar.deadline_end(facts.deadline)
    if facts.status == "submitted":
        return not submitted_in_time(facts, calendar)
    return False


def category(facts: TaskFacts, calendar: WorkCalendar, moment: datetime) -> Category | None:
    """The report's category (the four of the Government's reports); None when cancelled."""
    if facts.status == "cancelled":
        return None
    if facts.status == "done":
        return Category.DONE_ON_TIME if submitted_in_time(facts, calendar) \
            else Category.DONE_LATE
    return Category.OPEN_OVERDUE if is_overdue(facts, calendar, moment) \
        else Category.OPEN_WITHIN_DEADLINE


def _done_colour(facts: TaskFacts, calendar: WorkCalendar, moment: datetime) -> ColourResult:
    # Done is green on time or late; lateness shows only in the category.
    return ColourResult(Colour.GREEN, (Reason(ReasonCode.DONE),),
                        category(facts, calendar, moment))


def _submitted_colour(facts: TaskFacts, calendar: WorkCalendar, moment: datetime) -> ColourResult:
    # Awaiting confirmation needs no daily updates, and is not overdue if it was submitted
    # by the deadline — however long the supervisor takes. Submitted after the deadline,
    # it was already overdue and stays so until confirmed.
    awaiting = Reason(ReasonCode.AWAITING_CONFIRMATION)
    if not is_overdue(facts, calendar, moment):
        return ColourResult(Colour.GREEN, (awaiting,), Category.OPEN_WITHIN_DEADLINE)
    days = (calendar.local_date(moment) - facts.deadline).days  # calendar days, 1 = day after
    overdue = Reason(ReasonCode.OVERDUE, days)
    return ColourResult(Colour.RED, (overdue, awaiting), Category.OPEN_OVERDUE)


def _open_colour(
    facts: TaskFacts,
    update_times: Sequence[datetime],
    calendar: WorkCalendar,
    policy: Policy,
    moment: datetime,
) -> ColourResult:
    reasons: list[Reason] = []
    today = calendar.local_date(moment)
    overdue = is_overdue(facts, calendar, moment)
    if overdue:
        reasons.append(Reason(ReasonCode.OVERDUE, (today - facts.deadline).days))

    streak = missed_streak(facts, update_times, calendar, moment)
    if streak >= policy.missed_days_to_red:
        reasons.append(Reason(ReasonCode.MISSED_UPDATES, streak))
    elif streak >= 1:
        reasons.append(Reason(ReasonCode.MISSED_UPDATE, streak))

    if not overdue:
        left = calendar.working_days_between(today, facts.deadline)
        if left <= policy.warning_working_days:
            reasons.append(Reason(ReasonCode.DEADLINE_SOON, left))
        if facts.start_date > today:
            # Owes no updates yet, but the deadline rules above still apply.
            reasons.append(Reason(ReasonCode.NOT_STARTED_YET))

    if not reasons:
        reasons.append(Reason(ReasonCode.ON_TRACK))
    return ColourResult(_worst(reasons), tuple(reasons), category(facts, calendar, moment))


def _worst(reasons: Sequence[Reason]) -> Colour:
    colours = {_SEVERITY.get(reason.code, Colour.GREEN) for reason in reasons}
    for colour in (Colour.RED, Colour.YELLOW):
        if colour in colours:
            return colour
    return Colour.GREEN


# --- judging many tasks at once -----------------------------------------------------------


def colour_key(status: str, start_date: date, deadline: date, duty_since: datetime,
               submitted_at: datetime | None, last_update: datetime | None,
               calendar: WorkCalendar) -> tuple:
    """Everything `task_colour` and `is_required` depend on, at the grain they use it: the
    times only through the reporting day they fall in (`duty_since`, the last update) or
    whether they beat the deadline (`submitted_at`). Two tasks with equal keys have the same
    colour, reasons and category at any moment, and owe updates on the same days — so a
    pass over a million tasks judges each distinct key once (the cutoff job). Proved against
    the rules themselves by a property test (tests/rules/test_colours.py).

    `last_update` must be the task's latest update at or before the moment judged."""
    in_time = None
    if submitted_at is not None:
        in_time = submitted_at < calendar.deadline_end(deadline)
    return (status, start_date, deadline, calendar.reporting_day(duty_since), in_time,
            calendar.reporting_day(last_update) if last_update is not None else None)
