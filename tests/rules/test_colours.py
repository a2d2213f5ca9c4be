"""The xanh hoá colour rules: task colours, reasons, categories and the unit roll-up.

The usual task below was assigned on Monday 2 March 2026 at 09:00, starts that day and is
due on Tuesday 31 March 2026; its first required reporting day is Tuesday 3 March.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import (
    Category,
    Colour,
    ColourResult,
    Policy,
    Reason,
    TaskFacts,
    colour_key,
    is_required,
    missed_streak,
    task_colour,
    was_missed,
)
from tracker.rules.units import green_rate, unit_colour

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkCalendar()
POLICY = Policy()


def ict(*args: int) -> datetime:
    """An aware moment on the Vietnamese wall clock."""
    return datetime(*args, tzinfo=ICT)


TASK = TaskFacts(
    status="in_progress",
    start_date=date(2026, 3, 2),
    deadline=date(2026, 3, 31),
    duty_since=ict(2026, 3, 2, 9, 0),
)


def colour_of(facts: TaskFacts, updates: list[datetime], moment: datetime) -> ColourResult:
    return task_colour(facts, updates, CAL, POLICY, moment)


# --- on track and missed updates --------------------------------------------------------


def test_task_updated_today_is_green_on_track():
    result = colour_of(TASK, [ict(2026, 3, 9, 10, 0)], ict(2026, 3, 9, 16, 0))
    assert result == ColourResult(
        Colour.GREEN, (Reason("on_track"),), Category.OPEN_WITHIN_DEADLINE
    )


def test_missed_day_does_not_count_before_its_cutoff():
    result = colour_of(TASK, [ict(2026, 3, 6, 10, 0)], ict(2026, 3, 9, 15, 59, 59))
    assert result.colour is Colour.GREEN


def test_one_missed_reporting_day_is_yellow():
    result = colour_of(TASK, [ict(2026, 3, 6, 10, 0)], ict(2026, 3, 9, 16, 0, 0))
    assert result.colour is Colour.YELLOW
    assert result.reasons == (Reason("missed_update", 1),)


def test_two_missed_reporting_days_are_red():
    result = colour_of(TASK, [ict(2026, 3, 6, 10, 0)], ict(2026, 3, 10, 16, 0))
    assert result.colour is Colour.RED
    assert result.reasons == (Reason("missed_updates", 2),)


def test_missed_updates_reason_counts_the_whole_streak():
    # Last update on Monday 2 March; Tuesday 3 to Friday 13 March missed: 9 days.
    result = colour_of(TASK, [ict(2026, 3, 2, 10, 0)], ict(2026, 3, 13, 16, 0))
    assert result.reasons == (Reason("missed_updates", 9),)


def test_task_never_updated_misses_from_its_first_required_day():
    assert missed_streak(TASK, [], CAL, ict(2026, 3, 4, 16, 0)) == 2


def test_update_at_160001_misses_today_and_counts_for_tomorrow():
    updates = [ict(2026, 3, 9, 10, 0), ict(2026, 3, 10, 16, 0, 1)]
    assert was_missed(TASK, updates, CAL, date(2026, 3, 10))
    assert not was_missed(TASK, updates, CAL, date(2026, 3, 11))


def test_update_at_160000_is_in_time_for_today():
    assert not was_missed(TASK, [ict(2026, 3, 10, 16, 0, 0)], CAL, date(2026, 3, 10))


def test_late_update_clears_the_missed_condition_but_the_day_stays_missed():
    updates = [ict(2026, 3, 6, 10, 0), ict(2026, 3, 10, 17, 30)]
    moment = ict(2026, 3, 10, 17, 30)
    assert colour_of(TASK, updates, moment).colour is Colour.GREEN
    assert was_missed(TASK, updates, CAL, date(2026, 3, 9))
    assert was_missed(TASK, updates, CAL, date(2026, 3, 10))


def test_friday_update_after_cutoff_covers_monday():
    updates = [ict(2026, 3, 13, 16, 0, 1)]
    assert was_missed(TASK, updates, CAL, date(2026, 3, 13))
    assert not was_missed(TASK, updates, CAL, date(2026, 3, 16))
    assert missed_streak(TASK, updates, CAL, ict(2026, 3, 16, 16, 0)) == 0


def test_weekend_update_counts_for_monday():
    updates = [ict(2026, 3, 14, 9, 0)]
    assert missed_streak(TASK, updates, CAL, ict(2026, 3, 16, 16, 0)) == 0
    assert missed_streak(TASK, updates, CAL, ict(2026, 3, 17, 16, 0)) == 1


def test_updates_after_the_moment_are_ignored():
    updates = [ict(2026, 3, 6, 10, 0), ict(2026, 3, 11, 9, 0)]
    assert missed_streak(TASK, updates, CAL, ict(2026, 3, 10, 16, 0)) == 2


def test_update_history_may_come_in_any_order():
    updates = [ict(2026, 3, 10, 9, 0), ict(2026, 3, 3, 9, 0), ict(2026, 3, 6, 9, 0)]
    assert missed_streak(TASK, updates, CAL, ict(2026, 3, 11, 16, 0)) == 1


def test_no_update_is_owed_during_tet():
    task = replace(TASK, start_date=date(2026, 2, 2), duty_since=ict(2026, 2, 2, 9, 0))
    updates = [ict(2026, 2, 13, 10, 0)]
    assert missed_streak(task, updates, CAL, ict(2026, 2, 20, 16, 0)) == 0
    assert colour_of(task, updates, ict(2026, 2, 23, 16, 0)).reasons == (
        Reason("missed_update", 1),
    )


def test_no_update_is_owed_on_a_midweek_public_holiday():
    task = replace(TASK, start_date=date(2026, 8, 3), duty_since=ict(2026, 8, 3, 9, 0))
    task = replace(task, deadline=date(2026, 10, 30))
    updates = [ict(2026, 8, 28, 10, 0)]
    assert not is_required(task, CAL, date(2026, 9, 2))
    assert missed_streak(task, updates, CAL, ict(2026, 9, 2, 16, 0)) == 0
    assert missed_streak(task, updates, CAL, ict(2026, 9, 3, 16, 0)) == 1


def test_admin_makeup_saturday_requires_an_update():
    cal = WorkCalendar(makeup_days=frozenset({date(2026, 3, 14)}))
    updates = [ict(2026, 3, 13, 10, 0)]
    saturday = task_colour(TASK, updates, cal, POLICY, ict(2026, 3, 14, 16, 0))
    monday = task_colour(TASK, updates, cal, POLICY, ict(2026, 3, 16, 16, 0))
    assert saturday.reasons == (Reason("missed_update", 1),)
    assert monday.reasons == (Reason("missed_updates", 2),)


def test_admin_day_off_requires_no_update():
    cal = WorkCalendar(days_off=frozenset({date(2026, 3, 9)}))
    updates = [ict(2026, 3, 6, 10, 0)]
    assert missed_streak(TASK, updates, cal, ict(2026, 3, 9, 16, 0)) == 0
    assert missed_streak(TASK, updates, cal, ict(2026, 3, 10, 16, 0)) == 1


# --- when duties start ------------------------------------------------------------------


def test_task_assigned_before_the_cutoff_owes_nothing_that_day():
    task = replace(TASK, start_date=date(2026, 3, 9), duty_since=ict(2026, 3, 9, 15, 0))
    assert not is_required(task, CAL, date(2026, 3, 9))
    assert is_required(task, CAL, date(2026, 3, 10))
    assert colour_of(task, [], ict(2026, 3, 9, 16, 0)).colour is Colour.GREEN


def test_task_assigned_exactly_at_the_cutoff_owes_the_next_day():
    task = replace(TASK, start_date=date(2026, 3, 9), duty_since=ict(2026, 3, 9, 16, 0))
    assert is_required(task, CAL, date(2026, 3, 10))
    assert missed_streak(task, [], CAL, ict(2026, 3, 10, 16, 0)) == 1


def test_first_required_day_is_the_start_date():
    task = replace(TASK, start_date=date(2026, 3, 9))
    assert not is_required(task, CAL, date(2026, 3, 6))
    assert missed_streak(task, [], CAL, ict(2026, 3, 9, 16, 0)) == 1


def test_start_date_in_the_future_is_green_not_started_yet():
    task = replace(TASK, start_date=date(2026, 3, 20), duty_since=ict(2026, 3, 2, 9, 0))
    result = colour_of(task, [], ict(2026, 3, 13, 16, 0))
    assert result == ColourResult(
        Colour.GREEN, (Reason("not_started_yet"),), Category.OPEN_WITHIN_DEADLINE
    )


def test_start_date_in_the_future_still_warns_of_a_near_deadline():
    task = replace(TASK, start_date=date(2026, 3, 12), deadline=date(2026, 3, 13))
    result = colour_of(task, [], ict(2026, 3, 10, 16, 0))
    assert result.colour is Colour.YELLOW
    assert result.reasons == (Reason("deadline_soon", 3), Reason("not_started_yet"))


def test_returned_task_resumes_its_duties_from_duty_since():
    # Submitted on 5 March, returned on Thursday 12 March at 10:00: only the 13th on counts.
    task = replace(TASK, status="returned", duty_since=ict(2026, 3, 12, 10, 0))
    updates = [ict(2026, 3, 5, 10, 0)]
    assert colour_of(task, updates, ict(2026, 3, 13, 16, 0)).reasons == (
        Reason("missed_update", 1),
    )
    assert colour_of(task, updates, ict(2026, 3, 16, 16, 0)).colour is Colour.RED


# --- the deadline -----------------------------------------------------------------------


def test_deadline_three_working_days_away_is_yellow():
    updates = [ict(2026, 3, 23, 9, 0)]
    task = replace(TASK, deadline=date(2026, 3, 26))  # Monday → Thursday
    result = colour_of(task, updates, ict(2026, 3, 23, 10, 0))
    assert result.colour is Colour.YELLOW
    assert result.reasons == (Reason("deadline_soon", 3),)


def test_deadline_four_working_days_away_is_green():
    updates = [ict(2026, 3, 23, 9, 0)]
    task = replace(TASK, deadline=date(2026, 3, 27))  # Monday → Friday
    assert colour_of(task, updates, ict(2026, 3, 23, 10, 0)).colour is Colour.GREEN


def test_warning_window_counts_working_days_not_calendar_days():
    # Friday 13 → Wednesday 18 March: five calendar days, three working days.
    task = replace(TASK, deadline=date(2026, 3, 18))
    result = colour_of(task, [ict(2026, 3, 13, 9, 0)], ict(2026, 3, 13, 10, 0))
    assert result.reasons == (Reason("deadline_soon", 3),)


def test_task_due_today_is_yellow_with_no_days_left():
    result = colour_of(TASK, [ict(2026, 3, 31, 9, 0)], ict(2026, 3, 31, 23, 59, 59))
    assert result.colour is Colour.YELLOW
    assert result.reasons == (Reason("deadline_soon", 0),)


def test_task_is_overdue_from_midnight_after_its_deadline():
    result = colour_of(TASK, [ict(2026, 3, 31, 9, 0)], ict(2026, 4, 1, 0, 0, 0))
    assert result == ColourResult(Colour.RED, (Reason("overdue", 1),), Category.OPEN_OVERDUE)


def test_overdue_days_are_calendar_days_since_the_deadline():
    result = colour_of(TASK, [ict(2026, 4, 6, 9, 0)], ict(2026, 4, 6, 10, 0))
    assert result.reasons == (Reason("overdue", 6),)


def test_overdue_and_missed_updates_are_both_given_worst_first():
    result = colour_of(TASK, [ict(2026, 3, 31, 9, 0)], ict(2026, 4, 2, 16, 0))
    assert result.reasons == (Reason("overdue", 2), Reason("missed_updates", 2))


def test_extension_turns_an_overdue_task_back_to_green():
    updates = [ict(2026, 4, 1, 9, 0)]
    moment = ict(2026, 4, 1, 10, 0)
    assert colour_of(TASK, updates, moment).colour is Colour.RED
    extended = replace(TASK, deadline=date(2026, 4, 10))
    assert colour_of(extended, updates, moment) == ColourResult(
        Colour.GREEN, (Reason("on_track"),), Category.OPEN_WITHIN_DEADLINE
    )


def test_short_extension_turns_an_overdue_task_yellow():
    extended = replace(TASK, deadline=date(2026, 4, 3))
    result = colour_of(extended, [ict(2026, 4, 1, 9, 0)], ict(2026, 4, 1, 10, 0))
    assert result.reasons == (Reason("deadline_soon", 2),)


# --- submitted, done, cancelled ---------------------------------------------------------


def test_completion_submitted_by_the_deadline_is_done_on_time():
    task = replace(TASK, status="done", submitted_at=ict(2026, 3, 31, 23, 59, 59))
    result = colour_of(task, [], ict(2026, 4, 8, 10, 0))
    assert result == ColourResult(Colour.GREEN, (Reason("done"),), Category.DONE_ON_TIME)


def test_completion_submitted_after_the_deadline_is_done_late_but_green():
    task = replace(TASK, status="done", submitted_at=ict(2026, 4, 1, 0, 0, 0))
    result = colour_of(task, [], ict(2026, 4, 8, 10, 0))
    assert result == ColourResult(Colour.GREEN, (Reason("done"),), Category.DONE_LATE)


def test_submitted_task_needs_no_updates():
    task = replace(TASK, status="submitted", submitted_at=ict(2026, 3, 5, 10, 0))
    assert missed_streak(task, [], CAL, ict(2026, 3, 20, 16, 0)) == 0
    assert not was_missed(task, [], CAL, date(2026, 3, 10))
    assert colour_of(task, [], ict(2026, 3, 20, 16, 0)).reasons == (
        Reason("awaiting_confirmation"),
    )


def test_task_submitted_by_the_deadline_is_not_overdue_while_awaiting_confirmation():
    task = replace(TASK, status="submitted", submitted_at=ict(2026, 3, 31, 15, 0))
    result = colour_of(task, [], ict(2026, 4, 10, 10, 0))
    assert result == ColourResult(
        Colour.GREEN, (Reason("awaiting_confirmation"),), Category.OPEN_WITHIN_DEADLINE
    )


def test_task_submitted_after_the_deadline_stays_red_overdue():
    task = replace(TASK, status="submitted", submitted_at=ict(2026, 4, 2, 10, 0))
    result = colour_of(task, [], ict(2026, 4, 3, 10, 0))
    assert result == ColourResult(
        Colour.RED,
        (Reason("overdue", 3), Reason("awaiting_confirmation")),
        Category.OPEN_OVERDUE,
    )


def test_cancelled_task_has_no_colour_and_no_category():
    task = replace(TASK, status="cancelled")
    result = colour_of(task, [], ict(2026, 4, 10, 10, 0))
    assert result == ColourResult(None, (Reason("cancelled"),), None)


# --- policy and facts -------------------------------------------------------------------


def test_policy_thresholds_are_configurable():
    strict = Policy(warning_working_days=0, missed_days_to_red=1)
    task = replace(TASK, deadline=date(2026, 3, 11))
    result = task_colour(task, [ict(2026, 3, 6, 10, 0)], CAL, strict, ict(2026, 3, 9, 16, 0))
    assert result.reasons == (Reason("missed_updates", 1),)


def test_policy_refuses_thresholds_that_make_no_sense():
    with pytest.raises(ValueError):
        Policy(missed_days_to_red=0)
    with pytest.raises(ValueError):
        Policy(warning_working_days=-1)


def test_task_facts_refuse_an_unknown_status():
    with pytest.raises(ValueError, match="status"):
        replace(TASK, status="archived")


def test_task_facts_refuse_a_completion_without_its_time():
    with pytest.raises(ValueError, match="submitted_at"):
        replace(TASK, status="done")


def test_task_facts_refuse_a_naive_duty_since():
    with pytest.raises(ValueError, match="aware"):
        replace(TASK, duty_since=datetime(2026, 3, 2, 9, 0))


# --- units ------------------------------------------------------------------------------


def unit_rollup(colours):
    """A unit's colour and green rate from its tasks' colours, counted as the cutoff and
    the dashboard count them (cancelled tasks, None, are not counted)."""
    counts = {"total": 0}
    for colour in colours:
        if colour is not None:
            counts[colour.value] = counts.get(colour.value, 0) + 1
            counts["total"] += 1
    return unit_colour(counts), green_rate(counts)


def test_unit_with_a_red_task_is_red():
    assert unit_rollup([Colour.GREEN, Colour.RED, Colour.YELLOW]) == (Colour.RED, 1 / 3)


def test_unit_with_a_yellow_task_and_no_red_is_yellow():
    assert unit_rollup([Colour.GREEN, Colour.YELLOW, Colour.GREEN, Colour.GREEN]) == (
        Colour.YELLOW,
        0.75,
    )


def test_unit_with_only_green_tasks_is_green():
    assert unit_rollup([Colour.GREEN, Colour.GREEN]) == (Colour.GREEN, 1.0)


def test_cancelled_tasks_leave_the_green_rate():
    assert unit_rollup([Colour.GREEN, None, Colour.RED, None]) == (Colour.RED, 0.5)


def test_unit_without_tasks_has_no_colour_and_no_rate():
    # Never green at 100%: "chưa có nhiệm vụ" (tests/rules/test_units.py has the rest).
    assert unit_rollup([]) == ("none", None)
    assert unit_rollup([None]) == ("none", None)


# --- properties -------------------------------------------------------------------------

STATUSES = ["not_started", "in_progress", "returned", "submitted", "done", "cancelled"]
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@st.composite
def scenarios(draw):
    duty_since = draw(instants)
    start_date = CAL.local_date(duty_since) + timedelta(days=draw(st.integers(-5, 20)))
    deadline = start_date + timedelta(days=draw(st.integers(0, 60)))
    moment = duty_since + timedelta(hours=draw(st.integers(0, 24 * 40)))
    status = draw(st.sampled_from(STATUSES))
    submitted_at = None
    if status in ("submitted", "done"):
        submitted_at = duty_since + timedelta(hours=draw(st.integers(0, 24 * 40)))
        moment = max(moment, submitted_at)
    facts = TaskFacts(status, start_date, deadline, duty_since, submitted_at)
    offsets = st.integers(-24 * 5, 24 * 45)
    updates = [duty_since + timedelta(hours=h) for h in draw(st.lists(offsets, max_size=6))]
    return facts, updates, moment


def brute_force_streak(facts, updates, moment) -> int:
    """The definition, day by day: required, closed, and nothing posted after it opened."""
    posted = [ts for ts in updates if ts <= moment]
    first = CAL.local_date(facts.duty_since) - timedelta(days=1)
    count = 0
    for day in CAL.working_days(first, CAL.local_date(moment)):
        if CAL.cutoff_moment(day) > moment or not is_required(facts, CAL, day):
            continue
        if not any(ts > CAL.window(day)[0] for ts in posted):
            count += 1
    return count


@settings(deadline=None, max_examples=300)
@given(scenarios())
def test_missed_streak_agrees_with_its_day_by_day_definition(scenario):
    facts, updates, moment = scenario
    assert missed_streak(facts, updates, CAL, moment) == brute_force_streak(facts, updates, moment)


@settings(deadline=None, max_examples=300)
@given(scenarios())
def test_colour_is_the_worst_of_its_reasons(scenario):
    facts, updates, moment = scenario
    result = task_colour(facts, updates, CAL, POLICY, moment)
    codes = {reason.code for reason in result.reasons}
    assert (result.colour is None) == (facts.status == "cancelled")
    assert result.reasons
    if result.colour is Colour.RED:
        assert codes & {"overdue", "missed_updates"}
    elif result.colour is Colour.YELLOW:
        assert codes & {"deadline_soon", "missed_update"}
        assert not codes & {"overdue", "missed_updates"}
    elif result.colour is Colour.GREEN:
        assert not codes & {"overdue", "missed_updates", "deadline_soon", "missed_update"}


# --- epochs: when time alone changes a colour ----------------------------------------------


def test_the_cutoff_moment_closes_its_epoch_and_midnight_opens_one():
    before, at, after = ict(2026, 3, 9, 15, 59, 59), ict(2026, 3, 9, 16, 0), \
        ict(2026, 3, 9, 16, 0, 0, 1)
    assert CAL.epoch(before) == CAL.epoch(at) == CAL.epoch(after) - 1
    assert CAL.epoch(ict(2026, 3, 9, 23, 59, 59)) == CAL.epoch(ict(2026, 3, 10, 0, 0)) - 1
    assert CAL.epoch(ict(2026, 3, 10, 0, 0)) == 2 * date(2026, 3, 10).toordinal()


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from(["not_started", "in_progress", "returned", "submitted", "done"]),
    start=st.integers(min_value=-10, max_value=10),
    deadline=st.integers(min_value=-10, max_value=25),
    updates=st.lists(st.integers(min_value=0, max_value=40 * 24 * 60), max_size=4),
    first=st.integers(min_value=0, max_value=40 * 24 * 3600),
    later=st.integers(min_value=0, max_value=12 * 3600),
)
def test_a_colour_holds_for_the_whole_epoch_it_was_computed_in(status, start, deadline,
                                                               updates, first, later):
    """Stored colours are refreshed only after a midnight or a cutoff: that is sound only if
    two moments of one epoch (after all of a task's writes) always give the same colour."""
    origin = ict(2026, 3, 2, 9, 0)
    facts = TaskFacts(status=status, start_date=date(2026, 3, 2) + timedelta(days=start),
                      deadline=date(2026, 3, 2) + timedelta(days=max(start, deadline)),
                      duty_since=origin,
                      submitted_at=origin + timedelta(days=3) if status in (
                          "submitted", "done") else None)
    times = [origin + timedelta(minutes=m) for m in updates]
    a = origin + timedelta(seconds=first)
    b = a + timedelta(seconds=later)
    if CAL.epoch(a) != CAL.epoch(b) or any(t > a for t in times) or a == CAL.cutoff_moment(
            CAL.local_date(a)):
        return  # only moments of one epoch after every write; a cutoff's own instant
        # belongs to the epoch it closes for writes, and to the next for colours
    assert colour_of(facts, times, a) == colour_of(facts, times, b)


def _within_same_reporting_day(moment: datetime, fraction: float) -> datetime:
    """Another moment counted for the same reporting day as `moment`."""
    start, end = CAL.window(CAL.reporting_day(moment))
    return start + timedelta(microseconds=1) + (end - start - timedelta(microseconds=1)) \
        * fraction


@settings(max_examples=400, deadline=None)
@given(
    status=st.sampled_from(["not_started", "in_progress", "returned", "submitted", "done",
                            "cancelled"]),
    start=st.integers(min_value=-10, max_value=10),
    deadline=st.integers(min_value=-10, max_value=25),
    duty=st.integers(min_value=0, max_value=20 * 24 * 60),
    last=st.one_of(st.none(), st.integers(min_value=0, max_value=30 * 24 * 60)),
    submitted=st.integers(min_value=-5 * 24 * 60, max_value=30 * 24 * 60),
    moment=st.integers(min_value=0, max_value=40 * 24 * 60),
    other=st.tuples(st.floats(0, 1), st.floats(0, 1), st.integers(-3000, 3000)),
)
def test_tasks_with_equal_colour_keys_get_the_same_verdict(status, start, deadline, duty,
                                                            last, submitted, moment, other):
    """`colour_key` drops the exact times; the cutoff judges one task per key and gives its
    verdict to all. Here a second task differs in every time the key leaves out."""
    origin = ict(2026, 3, 2, 0, 0)
    start_date = date(2026, 3, 2) + timedelta(days=start)
    deadline_date = start_date + timedelta(days=max(deadline, 0))
    at = origin + timedelta(minutes=moment)
    duty_since = origin + timedelta(minutes=duty)
    last_update = origin + timedelta(minutes=last) if last is not None else None
    if last_update is not None and last_update > at:
        return  # the key is for the latest update at or before the moment
    submitted_at = origin + timedelta(minutes=submitted) if status in ("submitted", "done") \
        else None
    # The other task: its times moved within the same reporting day, and its submission
    # moved without crossing the deadline's end.
    other_duty = _within_same_reporting_day(duty_since, other[0])
    other_last = _within_same_reporting_day(last_update, other[1]) if last_update else None
    if other_last is not None and other_last > at:
        other_last = last_update
    other_submitted = submitted_at
    if submitted_at is not None:
        moved = submitted_at + timedelta(minutes=other[2])
        end = CAL.deadline_end(deadline_date)
        if (moved < end) == (submitted_at < end):
            other_submitted = moved
    one = TaskFacts(status, start_date, deadline_date, duty_since, submitted_at)
    two = TaskFacts(status, start_date, deadline_date, other_duty, other_submitted)
    assert colour_key(status, start_date, deadline_date, duty_since, submitted_at,
                      last_update, CAL) == colour_key(status, start_date, deadline_date,
                                                      other_duty, other_submitted,
                                                      other_last, CAL)
    assert colour_of(one, [last_update] if last_update else [], at) == \
        colour_of(two, [other_last] if other_last else [], at)
    day = CAL.last_cutoff_day(at)
    assert is_required(one, CAL, day) == is_required(two, CAL, day)
