"""The official calendar Tracker takes from the `holidays` package, named day by day for the
years in use.

These days decide which days are working days, and so which days the cutoff judged and what
it judged: a new release of `holidays` that moves, adds or drops one of them changes past
results. That is a data change, not a library upgrade, so it must fail here first; the
procedure is in docs/cutoff.md ("Holidays"). Everything is read through `WorkCalendar`, as
the cutoff, the pages and the API read it.
"""

from __future__ import annotations

from datetime import date, timedelta

from tracker.rules.calendar import WorkCalendar, official_holidays

YEARS = (2025, 2026, 2027)

# Each official day off: its English name (the package's default, as the calendar gives it)
# and its Vietnamese one (the admin's calendar page in Vietnamese).
HOLIDAYS = {
    date(2025, 1, 1): ("New Year's Day", "Tết Dương lịch"),
    date(2025, 1, 27): ("29 of Lunar New Year", "29 Tết"),
    date(2025, 1, 28): ("Lunar New Year's Eve", "Giao thừa Tết Nguyên Đán"),
    date(2025, 1, 29): ("Lunar New Year", "Tết Nguyên Đán"),
    date(2025, 1, 30): ("Second Day of Lunar New Year", "Mùng hai Tết Nguyên Đán"),
    date(2025, 1, 31): ("Third Day of Lunar New Year", "Mùng ba Tết Nguyên Đán"),
    date(2025, 2, 1): ("Fourth Day of Lunar New Year", "Mùng bốn Tết Nguyên Đán"),
    date(2025, 4, 7): ("Hung Kings' Commemoration Day", "Ngày Giỗ Tổ Hùng Vương"),
    date(2025, 4, 30): ("Liberation Day/Reunification Day", "Ngày Chiến thắng"),
    date(2025, 5, 1): ("International Labor Day", "Ngày Quốc tế Lao động"),
    date(2025, 5, 2): ("Day off (substituted from 04/26/2025)",
                       "Ngày nghỉ (thay cho ngày 26/04/2025)"),
    date(2025, 9, 1): ("National Day", "Quốc khánh"),
    date(2025, 9, 2): ("National Day", "Quốc khánh"),

    date(2026, 1, 1): ("New Year's Day", "Tết Dương lịch"),
    date(2026, 2, 16): ("Lunar New Year's Eve", "Giao thừa Tết Nguyên Đán"),
    date(2026, 2, 17): ("Lunar New Year", "Tết Nguyên Đán"),
    date(2026, 2, 18): ("Second Day of Lunar New Year", "Mùng hai Tết Nguyên Đán"),
    date(2026, 2, 19): ("Third Day of Lunar New Year", "Mùng ba Tết Nguyên Đán"),
    date(2026, 2, 20): ("Fourth Day of Lunar New Year", "Mùng bốn Tết Nguyên Đán"),
    date(2026, 4, 26): ("Hung Kings' Commemoration Day", "Ngày Giỗ Tổ Hùng Vương"),
    date(2026, 4, 27): ("Hung Kings' Commemoration Day (observed)",
                        "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"),
    date(2026, 4, 30): ("Liberation Day/Reunification Day", "Ngày Chiến thắng"),
    date(2026, 5, 1): ("International Labor Day", "Ngày Quốc tế Lao động"),
    date(2026, 8, 31): ("Day off (substituted from 08/22/2026)",
                        "Ngày nghỉ (thay cho ngày 22/08/2026)"),
    date(2026, 9, 1): ("National Day", "Quốc khánh"),
    date(2026, 9, 2): ("National Day", "Quốc khánh"),
    date(2026, 11, 24): ("Vietnam Cultural Day", "Ngày Văn hóa Việt Nam"),

    date(2027, 1, 1): ("New Year's Day", "Tết Dương lịch"),
    date(2027, 2, 4): ("29 of Lunar New Year", "29 Tết"),
    date(2027, 2, 5): ("Lunar New Year's Eve", "Giao thừa Tết Nguyên Đán"),
    date(2027, 2, 6): ("Lunar New Year", "Tết Nguyên Đán"),
    date(2027, 2, 7): ("Second Day of Lunar New Year", "Mùng hai Tết Nguyên Đán"),
    date(2027, 2, 8): ("Third Day of Lunar New Year", "Mùng ba Tết Nguyên Đán"),
    date(2027, 2, 9): ("Fourth Day of Lunar New Year", "Mùng bốn Tết Nguyên Đán"),
    date(2027, 2, 10): ("Fifth Day of Lunar New Year", "Mùng năm Tết Nguyên Đán"),
    date(2027, 4, 16): ("Hung Kings' Commemoration Day", "Ngày Giỗ Tổ Hùng Vương"),
    date(2027, 4, 30): ("Liberation Day/Reunification Day", "Ngày Chiến thắng"),
    date(2027, 5, 1): ("International Labor Day", "Ngày Quốc tế Lao động"),
    date(2027, 5, 3): ("International Labor Day (observed)",
                       "Ngày Quốc tế Lao động (nghỉ bù)"),
    date(2027, 9, 2): ("National Day", "Quốc khánh"),
    date(2027, 9, 3): ("National Day", "Quốc khánh"),
    date(2027, 11, 24): ("Vietnam Cultural Day", "Ngày Văn hóa Việt Nam"),
}

# The Saturdays the official schedule makes working days, in swap for a day off above.
MAKEUP_DAYS = {date(2025, 4, 26), date(2026, 8, 22)}


def _days():
    d, last = date(YEARS[0], 1, 1), date(YEARS[-1], 12, 31)
    while d <= last:
        yield d
        d += timedelta(days=1)


def test_the_official_holidays_of_the_years_in_use_are_exactly_these():
    cal = WorkCalendar()
    found = {d: (cal.public_holiday(d), cal.public_holiday(d, "vi"))
             for d in _days() if cal.public_holiday(d) is not None}
    assert found == HOLIDAYS
    # The admin's calendar page lists them by year, in English or Vietnamese.
    for language, index in (("en_US", 0), ("vi", 1)):
        listed = {d: name for y in YEARS for d, name in official_holidays(y, language).items()}
        assert listed == {d: names[index] for d, names in HOLIDAYS.items()}


def test_the_official_makeup_days_of_the_years_in_use_are_exactly_these():
    cal = WorkCalendar()
    assert {d for d in _days() if d.weekday() >= 5 and cal.is_working_day(d)} == MAKEUP_DAYS


def test_the_working_days_of_the_years_in_use_follow_from_those_days():
    cal = WorkCalendar()
    off = {d for d in _days() if d.weekday() < 5 and not cal.is_working_day(d)}
    assert off == {d for d in HOLIDAYS if d.weekday() < 5}
    # The days a year's cutoffs judge: a change here would re-run past cutoffs.
    assert [cal.working_days_between(date(y - 1, 12, 31), date(y, 12, 31)) for y in YEARS] \
        == [250, 249, 249]
