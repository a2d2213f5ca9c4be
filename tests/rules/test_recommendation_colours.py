"""A kiến nghị's colour: the pure rule (tracker.rules.recommendations), by the same calendar
and the same kind of thresholds as a task's.

The usual kiến nghị below was routed on Monday 2 March 2026 with 5 working days to answer:
its response deadline is Monday 9 March 2026.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Colour, Policy
from tracker.rules.recommendations import (
    RecommendationCategory,
    RecommendationFacts,
    RecommendationReason,
    recommendation_colour,
    response_due,
    warning_horizon,
)

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkCalendar()
POLICY = Policy()
DUE = date(2026, 3, 9)
ASSIGNED = RecommendationFacts(status="assigned", response_due=DUE)


def ict(*args: int) -> datetime:
    return datetime(*args, tzinfo=ICT)


def test_the_deadline_counts_working_days_from_the_next_one():
    assert response_due(date(2026, 3, 2), 5, CAL) == DUE  # Tue..Fri, then Monday
    assert response_due(date(2026, 3, 6), 1, CAL) == date(2026, 3, 9)  # Friday → Monday


def test_the_deadline_skips_public_holidays():
    # Tết 2026: 16–20 February are days off; raised Friday 13 Feb, 2 days → 24 Feb.
    assert response_due(date(2026, 2, 13), 2, CAL) == date(2026, 2, 24)


def test_a_deadline_needs_at_least_one_working_day():
    with pytest.raises(ValueError):
        response_due(date(2026, 3, 2), 0, CAL)


def test_far_from_the_deadline_it_is_green_awaiting_the_answer():
    result = recommendation_colour(ASSIGNED, CAL, POLICY, ict(2026, 3, 3, 9, 0))
    assert result.colour == Colour.GREEN
    assert result.reason.code == RecommendationReason.AWAITING_ANSWER
    assert result.category == RecommendationCategory.PENDING


def test_inside_the_warning_window_it_is_yellow_with_the_working_days_left():
    # Wednesday 4 March: Thu, Fri, Mon left = 3 working days = the default window.
    result = recommendation_colour(ASSIGNED, CAL, POLICY, ict(2026, 3, 4, 9, 0))
    assert (result.colour, result.reason.code, result.reason.days) == \
        (Colour.YELLOW, RecommendationReason.DEADLINE_SOON, 3)


def test_on_the_deadline_day_it_is_still_yellow_not_red():
    result = recommendation_colour(ASSIGNED, CAL, POLICY, ict(2026, 3, 9, 23, 59, 59))
    assert (result.colour, result.reason.days) == (Colour.YELLOW, 0)


def test_once_the_deadline_day_has_ended_it_is_red_overdue():
    result = recommendation_colour(ASSIGNED, CAL, POLICY, ict(2026, 3, 10, 0, 0))
    assert (result.colour, result.reason.code, result.reason.days) == \
        (Colour.RED, RecommendationReason.OVERDUE, 1)
    assert result.category == RecommendationCategory.OVERDUE


def test_asked_again_it_is_judged_like_a_routed_one():
    reopened = RecommendationFacts(status="reopened", response_due=DUE)
    assert recommendation_colour(reopened, CAL, POLICY, ict(2026, 3, 12, 9, 0)).colour == \
        Colour.RED


def test_answered_by_the_deadline_is_green_and_on_time():
    facts = RecommendationFacts(status="answered", response_due=DUE,
                                answered_at=ict(2026, 3, 9, 23, 0))
    result = recommendation_colour(facts, CAL, POLICY, ict(2026, 4, 1, 9, 0))
    assert result.colour == Colour.GREEN
    assert result.category == RecommendationCategory.ANSWERED_ON_TIME


def test_answered_after_the_deadline_is_green_but_counted_late():
    facts = RecommendationFacts(status="closed", response_due=DUE,
                                answered_at=ict(2026, 3, 10, 0, 0))
    result = recommendation_colour(facts, CAL, POLICY, ict(2026, 4, 1, 9, 0))
    assert result.colour == Colour.GREEN
    assert result.category == RecommendationCategory.ANSWERED_LATE


def test_waiting_to_be_routed_is_green_and_pending_whatever_the_time():
    facts = RecommendationFacts(status="raised")
    result = recommendation_colour(facts, CAL, POLICY, ict(2027, 1, 1, 9, 0))
    assert (result.colour, result.reason.code, result.category) == \
        (Colour.GREEN, RecommendationReason.AWAITING_ROUTING, RecommendationCategory.PENDING)


def test_a_merged_one_leaves_the_colours_and_the_counts():
    result = recommendation_colour(RecommendationFacts(status="merged"), CAL, POLICY,
                                   ict(2026, 3, 4, 9, 0))
    assert (result.colour, result.category) == (None, None)


def test_a_routed_or_answered_one_needs_its_facts():
    with pytest.raises(ValueError):
        RecommendationFacts(status="assigned")
    with pytest.raises(ValueError):
        RecommendationFacts(status="answered", response_due=DUE)
    with pytest.raises(ValueError):
        RecommendationFacts(status="lost")


def test_the_warning_window_follows_the_policy():
    assert recommendation_colour(ASSIGNED, CAL, Policy(warning_working_days=1),
                                 ict(2026, 3, 4, 9, 0)).colour == Colour.GREEN
    assert recommendation_colour(ASSIGNED, CAL, Policy(warning_working_days=0),
                                 ict(2026, 3, 9, 9, 0)).colour == Colour.YELLOW


@settings(max_examples=300, deadline=None)
@given(today=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
       due=st.dates(date(2026, 1, 1), date(2027, 1, 31)),
       window=st.integers(0, 6))
def test_the_warning_horizon_is_the_last_yellow_deadline(today, due, window):
    """`warning_horizon` (what the SQL twin takes) agrees with the rule on every day."""
    policy = Policy(warning_working_days=window)
    moment = datetime.combine(today, datetime.min.time(), tzinfo=ICT) + timedelta(hours=10)
    facts = RecommendationFacts(status="assigned", response_due=due)
    yellow = recommendation_colour(facts, CAL, policy, moment).colour == Colour.YELLOW
    assert yellow == (today <= due <= warning_horizon(today, CAL, policy))
