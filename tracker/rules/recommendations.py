"""The colour of a kiến nghị (an obstacle or a recommendation raised by a unit): one pure
function of its facts, the calendar, the policy and the moment — the same calendar and the
same kind of rules as a task's (SPEC §6, §7; docs/status-rules.md, "Kiến nghị").

Only an answer is owed, not daily updates: a kiến nghị routed to its responsible unit
(đầu mối) is yellow inside the warning window before its response deadline and red once
that date has ended, until the unit answers. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Colour, Policy, Reason

# Waiting for the responsible unit's answer: routed, or asked again after an answer.
AWAITING_ANSWER = frozenset({"assigned", "reopened"})
# Answered: waiting for the raiser's verdict, or accepted by them.
ANSWERED = frozenset({"answered", "closed"})
# Waiting for its supervisor to route it (no responsible unit, no deadline yet).
AWAITING_ROUTING = frozenset({"raised"})
# Merged into another (gộp): it leaves the colours and the counts; the one it joined counts.
MERGED = "merged"
STATUSES = AWAITING_ANSWER | ANSWERED | AWAITING_ROUTING | {MERGED}


class RecommendationReason(StrEnum):
    OVERDUE = "overdue"  # quá hạn trả lời; days = calendar days since the deadline
    DEADLINE_SOON = "deadline_soon"  # sắp đến hạn; days = working days left, 0 = today
    AWAITING_ROUTING = "awaiting_routing"  # chờ phân loại, giao đầu mối
    AWAITING_ANSWER = "awaiting_answer"  # đang chờ trả lời, trong hạn
    ANSWERED = "answered"  # đã trả lời
    MERGED = "merged"  # đã gộp vào kiến nghị khác


class RecommendationCategory(StrEnum):
    """The four counts of the reports, as for tasks."""

    ANSWERED_ON_TIME = "answered_on_time"  # đã trả lời đúng hạn
    ANSWERED_LATE = "answered_late"  # đã trả lời quá hạn
    PENDING = "pending"  # chưa trả lời, trong hạn (or not routed yet)
    OVERDUE = "overdue"  # chưa trả lời, quá hạn


@dataclass(frozen=True)
class RecommendationFacts:
    """A kiến nghị as it stood at the moment judged. `response_due` is the response
    deadline set when routed (None before); `answered_at` is the server stamp of the latest
    answer (None while none is standing: an answer asked again is no longer standing)."""

    status: str
    response_due: date | None = None
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown kiến nghị status {self.status!r}")
        if self.status in AWAITING_ANSWER | ANSWERED and self.response_due is None:
            raise ValueError(f"a {self.status} kiến nghị needs its response deadline")
        if self.status in ANSWERED and self.answered_at is None:
            raise ValueError(f"a {self.status} kiến nghị needs answered_at")


@dataclass(frozen=True)
class RecommendationColour:
    colour: Colour | None
    reason: Reason
    category: RecommendationCategory | None


def is_overdue(facts: RecommendationFacts, calendar: WorkCalendar, moment: datetime) -> bool:
    """Quá hạn: waiting for an answer once the response deadline's day has ended (00:00 in
    the zone the next day, as for a task's deadline)."""
    return (facts.status in AWAITING_ANSWER
            and moment >= calendar.deadline_end(facts.response_due))


def answered_in_time(facts: RecommendationFacts, calendar: WorkCalendar) -> bool:
    """The standing answer came before the response deadline's day ended."""
    return (facts.answered_at is not None and facts.response_due is not None
            and facts.answered_at < calendar.deadline_end(facts.response_due))


def category(facts: RecommendationFacts, calendar: WorkCalendar,
             moment: datetime) -> RecommendationCategory | None:
    if facts.status == MERGED:
        return None
    if facts.status in ANSWERED:
        return RecommendationCategory.ANSWERED_ON_TIME if answered_in_time(facts, calendar) \
            else RecommendationCategory.ANSWERED_LATE
    if is_overdue(facts, calendar, moment):
        return RecommendationCategory.OVERDUE
    return RecommendationCategory.PENDING


def recommendation_colour(facts: RecommendationFacts, calendar: WorkCalendar, policy: Policy,
                          moment: datetime) -> RecommendationColour:
    """The kiến nghị's colour, its one reason and its category at `moment`.

    - merged: no colour (the one it joined carries it);
    - answered (waiting for the raiser, or accepted): green, on time or late — lateness
      shows only in the category;
    - not routed yet: green, "awaiting routing" (no deadline runs before routing);
    - waiting for an answer: red once overdue, yellow when the deadline is within the
      policy's warning window (the working days left ≤ `warning_working_days`), else green.
    """
    cat = category(facts, calendar, moment)
    if facts.status == MERGED:
        return RecommendationColour(None, Reason(RecommendationReason.MERGED), None)
    if facts.status in ANSWERED:
        return RecommendationColour(Colour.GREEN, Reason(RecommendationReason.ANSWERED), cat)
    if facts.status in AWAITING_ROUTING:
        return RecommendationColour(Colour.GREEN,
                                    Reason(RecommendationReason.AWAITING_ROUTING), cat)
    today = calendar.local_date(moment)
    if is_overdue(facts, calendar, moment):
        return RecommendationColour(
            Colour.RED, Reason(RecommendationReason.OVERDUE, (today - facts.response_due).days),
            cat)
    left = calendar.working_days_between(today, facts.response_due)
    if left <= policy.warning_working_days:
        return RecommendationColour(
            Colour.YELLOW, Reason(RecommendationReason.DEADLINE_SOON, left), cat)
    return RecommendationColour(Colour.GREEN, Reason(RecommendationReason.AWAITING_ANSWER),
                                cat)


def warning_horizon(today: date, calendar: WorkCalendar, policy: Policy) -> date:
    """The latest response deadline inside the warning window on `today`: a kiến nghị
    waiting for an answer whose deadline lies in today..this date is yellow (no more than
    `warning_working_days` working days d with today < d <= deadline). The SQL twin
    (`tracker.rules.recommendations_sql`) takes it as a constant."""
    day = today
    for _ in range(policy.warning_working_days + 1):
        day = calendar.next_working_day(day)
    return day - timedelta(days=1)


def response_due(raised_day: date, working_days: int, calendar: WorkCalendar) -> date:
    """The response deadline `working_days` working days after `raised_day` (the day it was
    routed or asked again): the count starts the next working day, as "within N working
    days" is read."""
    if working_days < 1:
        raise ValueError("working_days must be 1 or more")
    day = raised_day
    for _ in range(working_days):
        day = calendar.next_working_day(day)
    return day
