"""The working-day calendar: working days, reporting days and the 16:00 cutoff."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.rules.calendar import WorkCalendar

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkCalendar()


def ict(*args: int) -> datetime:
    """An aware moment on the Vietnamese wall clock."""
    return datetime(*args, tzinfo=ICT)


# --- working days -----------------------------------------------------------------------


def test_weekdays_are_working_days_and_weekends_are_not():
    # Monday 9 to Sunday 15 March 2026: an ordinary week.
    week = [date(2026, 3, 9) + timedelta(days=i) for i in range(7)]
    assert [CAL.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_tet_2026_weekdays_are_public_holidays():
    tet = [date(2026, 2, 16) + timedelta(days=i) for i in range(5)]  # Monday to Friday
    assert all(CAL.public_holiday(d) for d in tet)
    assert not any(CAL.is_working_day(d) for d in tet)
    assert CAL.public_holiday(date(2026, 2, 17)) == "Lunar New Year"


def test_working_days_around_tet_2026_skip_the_whole_week():
    assert CAL.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert CAL.previous_working_day(date(2026, 2, 23)) == date(2026, 2, 13)


def test_tet_2025_is_a_public_holiday():
    assert all(CAL.public_holiday(date(2025, 1, day)) for day in range(27, 32))


def test_tet_2027_eve_and_third_day_are_public_holidays():
    assert CAL.public_holiday(date(2027, 2, 5)) is not None  # giao thừa, a Friday
    assert CAL.public_holiday(date(2027, 2, 8)) is not None  # mùng ba, a Monday


def test_national_day_2026_is_a_midweek_holiday():
    # 2 September 2026 is a Wednesday; the package also gives 1 September and 31 August.
    assert date(2026, 9, 2).weekday() == 2
    assert CAL.public_holiday(date(2026, 9, 2)) == "National Day"
    assert CAL.public_holiday(date(2026, 9, 1)) == "National Day"
    assert not CAL.is_working_day(date(2026, 9, 2))
    assert CAL.next_working_day(date(2026, 9, 1)) == date(2026, 9, 3)


def test_national_day_2025_covers_1_and_2_september():
    assert CAL.public_holiday(date(2025, 9, 1)) == "National Day"
    assert CAL.public_holiday(date(2025, 9, 2)) == "National Day"
    assert CAL.is_working_day(date(2025, 9, 3))


def test_national_day_2027_is_a_holiday():
    assert CAL.public_holiday(date(2027, 9, 2)) == "National Day"
    assert not CAL.is_working_day(date(2027, 9, 2))


def test_public_holiday_name_in_vietnamese():
    assert CAL.public_holiday(date(2026, 9, 2), language="vi") == "Quốc khánh"


def test_ordinary_day_is_no_public_holiday():
    assert CAL.public_holiday(date(2026, 3, 10)) is None


def test_official_makeup_saturday_is_a_working_day():
    # 2025: Friday 2 May off in exchange for working Saturday 26 April.
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2025, 5, 2))


def test_admin_makeup_saturday_is_a_working_day():
    cal = WorkCalendar(makeup_days=frozenset({date(2026, 3, 14)}))
    assert cal.is_working_day(date(2026, 3, 14))
    assert cal.next_working_day(date(2026, 3, 13)) == date(2026, 3, 14)
    assert cal.previous_working_day(date(2026, 3, 16)) == date(2026, 3, 14)


def test_admin_day_off_is_not_a_working_day():
    cal = WorkCalendar(days_off=frozenset({date(2026, 3, 11)}))
    assert not cal.is_working_day(date(2026, 3, 11))
    assert cal.next_working_day(date(2026, 3, 10)) == date(2026, 3, 12)


def test_admin_makeup_day_wins_over_admin_day_off():
    day = date(2026, 3, 14)
    cal = WorkCalendar(days_off=frozenset({day}), makeup_days=frozenset({day}))
    assert cal.is_working_day(day)


def test_admin_day_off_wins_over_official_makeup_saturday():
    cal = WorkCalendar(days_off=frozenset({date(2025, 4, 26)}))
    assert not cal.is_working_day(date(2025, 4, 26))


def test_admin_makeup_day_can_reopen_a_public_holiday():
    cal = WorkCalendar(makeup_days=frozenset({date(2026, 9, 2)}))
    assert cal.is_working_day(date(2026, 9, 2))


def test_calendar_accepts_plain_sets_and_stays_hashable():
    a = WorkCalendar(days_off={date(2026, 3, 11)})  # type: ignore[arg-type]
    b = WorkCalendar(days_off=frozenset({date(2026, 3, 11)}))
    assert a == b
    assert hash(a) == hash(b)


def test_calendar_survives_pickling_as_an_equal_calendar():
    cal = WorkCalendar(makeup_days=frozenset({date(2026, 3, 14)}))
    copy = pickle.loads(pickle.dumps(cal))
    assert copy == cal
    assert hash(copy) == hash(cal)
    assert copy.is_working_day(date(2026, 3, 14))


def test_calendar_without_working_days_raises_instead_of_looping():
    start = date(2026, 1, 1)
    every_day = frozenset(start + timedelta(days=i) for i in range(800))
    cal = WorkCalendar(days_off=every_day)
    with pytest.raises(ValueError, match="no working day"):
        cal.next_working_day(start)
    with pytest.raises(ValueError, match="no working day"):
        cal.previous_working_day(start + timedelta(days=799))


def test_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        WorkCalendar(zone="Asia/Nowhere")


# --- counting working days --------------------------------------------------------------


def test_working_days_between_counts_after_a_up_to_b():
    # Monday 9 March to Friday 13 March 2026: the 10th, 11th, 12th and 13th.
    assert CAL.working_days_between(date(2026, 3, 9), date(2026, 3, 13)) == 4


def test_working_days_between_skips_weekends():
    assert CAL.working_days_between(date(2026, 3, 13), date(2026, 3, 16)) == 1


def test_working_days_between_is_zero_when_b_is_not_after_a():
    assert CAL.working_days_between(date(2026, 3, 13), date(2026, 3, 13)) == 0
    assert CAL.working_days_between(date(2026, 3, 13), date(2026, 3, 9)) == 0


def test_working_days_between_runs_across_years():
    # 2025-12-31 (Wed) to 2026-01-05 (Mon): 1 January is a holiday; the 2nd and the 5th.
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 1, 5)) == 2


def test_working_days_lists_the_inclusive_range():
    assert CAL.working_days(date(2026, 8, 28), date(2026, 9, 4)) == [
        date(2026, 8, 28),
        date(2026, 9, 3),
        date(2026, 9, 4),
    ]


# --- moments ----------------------------------------------------------------------------


def test_cutoff_moment_is_1600_ict_as_utc():
    moment = CAL.cutoff_moment(date(2026, 3, 9))
    assert moment == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert moment.tzinfo is UTC


def test_cutoff_time_is_configurable():
    cal = WorkCalendar(cutoff_time=time(17, 30))
    assert cal.cutoff_moment(date(2026, 3, 9)) == ict(2026, 3, 9, 17, 30)
    assert cal.reporting_day(ict(2026, 3, 9, 17, 0)) == date(2026, 3, 9)


def test_window_of_monday_opens_at_fridays_cutoff():
    assert CAL.window(date(2026, 3, 9)) == (ict(2026, 3, 6, 16), ict(2026, 3, 9, 16))


def test_window_after_tet_opens_at_the_last_cutoff_before_it():
    assert CAL.window(date(2026, 2, 23)) == (ict(2026, 2, 13, 16), ict(2026, 2, 23, 16))


def test_update_at_155959_counts_for_today():
    assert CAL.reporting_day(ict(2026, 3, 10, 15, 59, 59)) == date(2026, 3, 10)


def test_update_at_160000_counts_for_today():
    assert CAL.reporting_day(ict(2026, 3, 10, 16, 0, 0)) == date(2026, 3, 10)


def test_update_at_160001_counts_for_the_next_working_day():
    assert CAL.reporting_day(ict(2026, 3, 10, 16, 0, 1)) == date(2026, 3, 11)


def test_friday_update_after_cutoff_counts_for_monday():
    assert CAL.reporting_day(ict(2026, 3, 13, 16, 0, 1)) == date(2026, 3, 16)


def test_weekend_update_counts_for_monday():
    assert CAL.reporting_day(ict(2026, 3, 14, 9, 0)) == date(2026, 3, 16)
    assert CAL.reporting_day(ict(2026, 3, 15, 23, 59, 59)) == date(2026, 3, 16)


def test_update_on_a_midweek_holiday_counts_for_the_next_working_day():
    assert CAL.reporting_day(ict(2026, 9, 2, 10, 0)) == date(2026, 9, 3)


def test_update_after_cutoff_before_tet_counts_for_the_first_day_after_tet():
    assert CAL.reporting_day(ict(2026, 2, 13, 16, 0, 1)) == date(2026, 2, 23)


def test_update_on_an_admin_makeup_saturday_counts_for_that_saturday():
    cal = WorkCalendar(makeup_days=frozenset({date(2026, 3, 14)}))
    assert cal.reporting_day(ict(2026, 3, 14, 9, 0)) == date(2026, 3, 14)
    assert cal.reporting_day(ict(2026, 3, 13, 16, 0, 1)) == date(2026, 3, 14)


def test_reporting_day_accepts_any_aware_zone():
    assert CAL.reporting_day(datetime(2026, 3, 10, 9, 0, 1, tzinfo=UTC)) == date(2026, 3, 11)


def test_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="aware"):
        CAL.reporting_day(datetime(2026, 3, 10, 15, 0))


def test_local_date_is_the_date_on_the_vietnamese_clock():
    # 18:00 UTC on the 9th is 01:00 on the 10th in Hanoi.
    assert CAL.local_date(datetime(2026, 3, 9, 18, 0, tzinfo=UTC)) == date(2026, 3, 10)


def test_last_cutoff_day_is_today_from_the_cutoff_on():
    assert CAL.last_cutoff_day(ict(2026, 3, 10, 16, 0, 0)) == date(2026, 3, 10)
    assert CAL.last_cutoff_day(ict(2026, 3, 10, 15, 59, 59)) == date(2026, 3, 9)
    assert CAL.last_cutoff_day(ict(2026, 3, 15, 12, 0)) == date(2026, 3, 13)


def test_deadline_end_is_midnight_after_the_deadline():
    end = CAL.deadline_end(date(2026, 3, 31))
    assert end == ict(2026, 4, 1, 0, 0)
    assert end.tzinfo is UTC


# --- properties -------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@settings(deadline=None)
@given(moments)
def test_reporting_day_is_a_working_day_whose_window_holds_the_moment(ts):
    day = CAL.reporting_day(ts)
    start, end = CAL.window(day)
    assert CAL.is_working_day(day)
    assert start < ts <= end


@settings(deadline=None)
@given(moments, moments)
def test_reporting_day_never_goes_back_in_time(a, b):
    early, late = sorted((a, b))
    assert CAL.reporting_day(early) <= CAL.reporting_day(late)


@settings(deadline=None)
@given(days, days)
def test_working_days_between_agrees_with_the_list(a, b):
    expected = len([d for d in CAL.working_days(a, b) if d > a])
    assert CAL.working_days_between(a, b) == expected


@settings(deadline=None)
@given(days)
def test_windows_of_consecutive_working_days_meet(d):
    day = CAL.next_working_day(d)
    assert CAL.window(CAL.next_working_day(day))[0] == CAL.window(day)[1]


# The reporting day is kept per UTC hour through which no cutoff falls: the instants where
# that could go wrong are a cutoff and its neighbours, and the hours' own edges.
odd_cutoffs = st.sampled_from([time(16, 0), time(16, 30, 15, 500001), time(0, 0),
                               time(23, 59, 59, 999999), time(7, 0, 0, 1)])
edges = st.sampled_from([timedelta(0), timedelta(microseconds=1),
                         -timedelta(microseconds=1), timedelta(minutes=30),
                         -timedelta(minutes=30), timedelta(hours=1), -timedelta(hours=1)])


@settings(deadline=None, max_examples=300)
@given(days, odd_cutoffs, edges, st.sampled_from(["cutoff", "hour"]))
def test_reporting_day_is_its_window_at_a_cutoff_and_at_an_hours_edge(d, cutoff, edge,
                                                                        anchor):
    cal = WorkCalendar(cutoff_time=cutoff, days_off=frozenset({date(2026, 3, 11)}))
    # A cutoff, or an hour's edge (in UTC).
    at = cal.cutoff_moment(d) if anchor == "cutoff" else datetime.combine(d, time(9),
                                                                         tzinfo=UTC)
    ts = at + edge
    day = cal.reporting_day(ts)
    start, end = cal.window(day)
    assert cal.is_working_day(day)
    assert start < ts <= end
