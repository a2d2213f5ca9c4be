"""The early warning's rules (tracker.rules.forecast), at fixed moments in March 2026.

The usual moment is the cutoff of Thursday 19 March 2026 (16:00): the three working days
after it are Friday 20, Monday 23 and Tuesday 24 March, and the record is the ten working
days 6–19 March.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tracker.rules.calendar import WorkCalendar
from tracker.rules.colours import Policy, TaskFacts
from tracker.rules.forecast import (
    Sign,
    TaskHistory,
    baseline,
    chance_of_missed_run,
    forecast,
    horizon_end,
    pace,
    record_days,
)

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkCalendar()
POLICY = Policy()
MOMENT = datetime(2026, 3, 19, 16, 0, tzinfo=ICT)
ASSIGNED = datetime(2026, 3, 2, 9, 0, tzinfo=ICT)


def ict(*args: int) -> datetime:
    return datetime(*args, tzinfo=ICT)


def history(deadline: date, **kw) -> TaskHistory:
    facts = TaskFacts(status=kw.pop("status", "in_progress"), start_date=date(2026, 3, 2),
                      deadline=deadline, duty_since=kw.pop("duty_since", ASSIGNED),
                      submitted_at=kw.pop("submitted_at", None))
    kw.setdefault("created_at", ASSIGNED)
    kw.setdefault("last_update", ict(2026, 3, 19, 10, 0))
    return TaskHistory(facts=facts, **kw)


def test_the_horizon_is_the_next_working_days_skipping_weekends_and_tet():
    assert horizon_end(CAL, MOMENT) == date(2026, 3, 24)
    assert horizon_end(CAL, MOMENT, 1) == date(2026, 3, 20)
    # Tết 2026 closes 16–20 February: from Friday 13 February, the next three are 23–25.
    assert horizon_end(CAL, ict(2026, 2, 13, 16, 0)) == date(2026, 2, 25)


def test_the_record_is_the_last_ten_working_days_already_cut_off():
    assert record_days(CAL, MOMENT) == tuple(date(2026, 3, d) for d in
                                             (6, 9, 10, 11, 12, 13, 16, 17, 18, 19))
    # Before the day's cutoff, the day itself is not on record yet.
    assert record_days(CAL, ict(2026, 3, 19, 10, 0))[-1] == date(2026, 3, 18)


def test_a_deadline_in_the_horizon_at_a_pace_short_of_100_is_likely_red_and_says_why():
    # Assigned Tuesday 10 March: 7 working days to the 19th, 35 % → 5 %/day; the deadline,
    # Wednesday 25 March, is 4 working days away; in 5 working days the horizon holds it.
    h = history(date(2026, 3, 25), created_at=ict(2026, 3, 10, 9, 0), progress=35)
    result = forecast(h, CAL, POLICY, MOMENT, days=5)
    assert result.likely and result.risk == 90
    assert result.signs == (Sign("deadline", (4, 35, 5, 55)),)
    assert result.horizon_end == date(2026, 3, 26)


def test_the_pace_is_read_over_the_last_ten_working_days():
    # Progress 15 % at the cutoff of 5 March, 45 % now: 30 points over 10 working days.
    h = history(date(2026, 4, 30), progress=45, progress_before=15)
    assert pace(h, CAL, MOMENT) == 3.0
    assert pace(replace(h, progress=10), CAL, MOMENT) == 0.0  # progress never runs back


def test_a_deadline_beyond_the_horizon_and_no_missed_update_is_no_risk():
    result = forecast(history(date(2026, 3, 25), progress=10), CAL, POLICY, MOMENT)
    assert not result.likely and result.risk == 0 and result.signs == ()


def test_a_deadline_passing_at_midnight_after_the_last_cutoff_is_outside_the_horizon():
    # Due Tuesday 24 March: overdue from 00:00 on the 25th, after the 24th's cutoff.
    assert forecast(history(date(2026, 3, 24)), CAL, POLICY, MOMENT).risk == 0
    assert forecast(history(date(2026, 3, 23)), CAL, POLICY, MOMENT).likely


def test_a_task_on_pace_to_finish_before_its_deadline_is_not_likely():
    h = history(date(2026, 3, 23), progress=90, progress_before=40)  # 5 %/day, 2 days left
    result = forecast(h, CAL, POLICY, MOMENT)
    assert result.signs == (Sign("deadline", (2, 90, 5, 100)),)
    assert not result.likely and result.risk == 30


def test_a_returned_task_on_pace_is_still_likely_and_says_how_often_it_came_back():
    h = history(date(2026, 3, 23), progress=90, progress_before=40, returns=2,
                status="returned")
    result = forecast(h, CAL, POLICY, MOMENT)
    assert result.likely and result.risk == 60
    assert [s.code for s in result.signs] == ["deadline", "returned"]
    assert result.signs[1] == Sign("returned", (2,))


def test_one_day_missed_by_a_unit_that_misses_half_its_days_is_likely_red():
    missed = [date(2026, 3, d) for d in (9, 11, 13, 17, 19)]
    h = history(date(2026, 4, 30), last_update=ict(2026, 3, 18, 10, 0), missed_days=missed)
    result = forecast(h, CAL, POLICY, MOMENT)
    # Misses one more of the three owed days (half a chance each) before two in a row
    # reach red: 0.5 + 0.5 × 0.25.
    assert result.likely and result.risk == 62
    assert result.signs == (Sign("streak", (1, 2)), Sign("record", (5, 10)))


def test_one_day_missed_by_a_unit_that_seldom_misses_is_not_likely():
    h = history(date(2026, 4, 30), last_update=ict(2026, 3, 18, 10, 0),
                missed_days=[date(2026, 3, 19)])
    result = forecast(h, CAL, POLICY, MOMENT)
    assert not result.likely and result.risk == 11  # 0.1 + 0.9 × 0.01
    assert result.signs == (Sign("streak", (1, 2)), Sign("record", (1, 10)))


def test_missed_days_after_the_moment_or_before_the_record_are_not_read():
    late = [date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 5)]
    result = forecast(history(date(2026, 4, 30), missed_days=late), CAL, POLICY, MOMENT)
    assert result.risk == 0 and result.signs == ()


def test_the_weightier_way_to_red_leads_the_words():
    missed = [date(2026, 3, d) for d in (9, 11, 13, 17, 19)]
    h = history(date(2026, 3, 23), progress=90, progress_before=40,
                last_update=ict(2026, 3, 18, 10, 0), missed_days=missed)
    result = forecast(h, CAL, POLICY, MOMENT)
    assert [s.code for s in result.signs] == ["streak", "record", "deadline"]
    assert result.risk == round(100 * (1 - 0.7 * (1 - 0.625)))


@pytest.mark.parametrize("status", ["submitted", "done", "cancelled"])
def test_only_open_tasks_are_forecast(status):
    h = history(date(2026, 3, 20), status=status,
                submitted_at=ict(2026, 3, 19, 9, 0) if status != "cancelled" else None)
    assert forecast(h, CAL, POLICY, MOMENT).risk == 0


def test_a_task_already_red_is_not_forecast_again():
    overdue = history(date(2026, 3, 18))
    assert forecast(overdue, CAL, POLICY, MOMENT).risk == 0
    stopped = history(date(2026, 4, 30), last_update=ict(2026, 3, 17, 10, 0))  # 2 missed
    assert forecast(stopped, CAL, POLICY, MOMENT).risk == 0


def test_a_task_not_started_owes_nothing_in_the_horizon():
    h = history(date(2026, 4, 30), last_update=None, created_at=ict(2026, 3, 19, 9, 0),
                duty_since=ict(2026, 3, 19, 9, 0), missed_days=[date(2026, 3, 19)] * 1)
    h = replace(h, facts=replace(h.facts, start_date=date(2026, 4, 1)))
    assert forecast(h, CAL, POLICY, MOMENT).risk == 0


def test_the_chance_of_a_run_of_missed_days_is_exact():
    assert chance_of_missed_run(0.5, 1, 2, 3) == pytest.approx(0.625)
    assert chance_of_missed_run(0.1, 0, 2, 3) == pytest.approx(0.01 * 1.9)
    assert chance_of_missed_run(0.9, 0, 2, 1) == 0.0  # one day cannot make two in a row
    assert chance_of_missed_run(0.0, 1, 2, 3) == 0.0
    assert chance_of_missed_run(0.3, 2, 2, 0) == 1.0


def test_the_baseline_is_a_deadline_within_n_working_days():
    assert baseline(history(date(2026, 3, 24)).facts, CAL, MOMENT)  # 3 left
    assert not baseline(history(date(2026, 3, 25)).facts, CAL, MOMENT)  # 4 left
    assert not baseline(history(date(2026, 3, 18)).facts, CAL, MOMENT)  # overdue already
    assert baseline(history(date(2026, 3, 25)).facts, CAL, MOMENT, days=4)
