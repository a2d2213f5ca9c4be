"""The working-day calendar (lịch làm việc) behind the daily 16:00 cutoff.

A working day (ngày làm việc) is Monday to Friday, minus Vietnamese public holidays (the
`holidays` package, country VN), minus the days off an admin records, plus make-up working
days (ngày làm bù) — those an admin records and the Saturdays the official holiday schedule
swaps in for a substituted day off. Reporting day D (ngày báo cáo) is the window
(previous working day's cutoff, D's cutoff].

Everything here is pure: the moment is always a parameter and every datetime that goes in or
comes out is aware; those coming out are UTC. The cutoff job asks these questions for
millions of tasks, so the answers are memoised per (calendar, year) or (calendar, date) in
bounded module-level caches: `WorkCalendar` is a frozen, hashable value, so one entry serves
every equal calendar, however often the app rebuilds it from its settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
DEFAULT_CUTOFF = time(16, 0)

# No real calendar goes a year without a working day; a search that does has been given a
# calendar of nothing but days off, and must fail rather than spin.
MAX_SEARCH_DAYS = 366

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, and when each one's cutoff (giờ chốt) falls.

    `days_off` are extra days off an admin records (ngày nghỉ); `makeup_days` are make-up
    working days (ngày làm bù), e.g. a Saturday. An admin's make-up day wins over everything,
    an admin's day off over the official schedule.
    """

    days_off: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    cutoff_time: time = DEFAULT_CUTOFF
    zone: str = DEFAULT_ZONE
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)
    # hour → its reporting day, or None: a cutoff falls inside it (`reporting_day`)
    _hours: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable of dates, but keep frozensets so the calendar stays hashable
        # (it is the key of every cache below).
        object.__setattr__(self, "days_off", frozenset(self.days_off))
        object.__setattr__(self, "makeup_days", frozenset(self.makeup_days))
        if self.cutoff_time.tzinfo is not None:
            raise ValueError("cutoff_time is a wall-clock time in `zone`; give it no tzinfo")
        try:
            object.__setattr__(self, "_tz", ZoneInfo(self.zone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.zone!r}") from exc
        # Every cache lookup hashes the calendar; hash its fields once, not on every lookup.
        key = (self.days_off, self.makeup_days, self.cutoff_time, self.zone)
        object.__setattr__(self, "_hash", hash(key))
        object.__setattr__(self, "_hours", {})

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[WorkCalendar], tuple[object, ...]]:
        # Rebuild on unpickling: hashes of dates and strings differ between processes.
        return WorkCalendar, (self.days_off, self.makeup_days, self.cutoff_time, self.zone)

    # --- days -------------------------------------------------------------------------

    def public_holiday(self, d: date, language: str | None = None) -> str | None:
        """The name of the official public holiday (ngày lễ) on `d`, or None.

        `language` is passed to the `holidays` package ("vi", "en_US"); None means its
        default, English.
        """
        return _official_holidays(d.year, language).get(d)

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day (ngày làm việc) on this calendar."""
        before, counts = _year_table(self, d.year)
        i = d.toordinal() - before
        return counts[i] != counts[i - 1]

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return _next_working_day(self, d)

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before `d`."""
        return _previous_working_day(self, d)

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days d there are with a < d <= b (0 if b <= a)."""
        if b <= a:
            return 0
        return _rank(self, b, a.year) - _rank(self, a, a.year)

    def working_days(self, a: date, b: date) -> list[date]:
        """The working days d with a <= d <= b, in order."""
        days = []
        d = a
        while d <= b:
            if self.is_working_day(d):
                days.append(d)
            d += _ONE_DAY
        return days

    # --- moments ----------------------------------------------------------------------

    def cutoff_moment(self, d: date) -> datetime:
        """The cutoff of day `d` (16:00 in the zone by default), as an aware UTC datetime.

        Defined for any date; only a working day's cutoff closes a reporting day.
        """
        return _cutoff_moment(self, d)

    def window(self, d: date) -> tuple[datetime, datetime]:
        """Reporting day `d`'s window (start, end]: the previous working day's cutoff to d's.

        An update counts for `d` when start < timestamp <= end.
        """
        return _cutoff_moment(self, _previous_working_day(self, d)), _cutoff_moment(self, d)

    def local_date(self, ts: datetime) -> date:
        """The calendar date of `ts` in the zone."""
        return _require_aware(ts).astimezone(self._tz).date()

    def reporting_day(self, ts: datetime) -> date:
        """The working day whose window holds `ts` (which must be aware).

        An update at 16:00:00 counts for today, one at 16:00:01 for the next working day;
        one made on a weekend or holiday counts for the next working day.

        That is the first working day whose cutoff is at or after `ts`: the answer changes
        only just after a cutoff moment. So it is the same for every instant of an hour
        (each UTC hour taken as (start, end]) through which no cutoff falls, and is kept
        per such hour (the cutoff asks it twice for each of millions of tasks).
        """
        hour = -int(-_require_aware(ts).timestamp() // _HOUR)  # its (start, end] hour
        hours = self._hours
        try:
            day = hours[hour]
        except KeyError:
            if len(hours) >= _HOURS_KEPT:
                hours.clear()
            day = hours[hour] = _hour_reporting_day(self, hour)
        return day if day is not None else _reporting_day(self, ts)

    def last_cutoff_day(self, ts: datetime) -> date:
        """The latest working day whose cutoff is at or before `ts` (aware).

        That is the last reporting day already closed at `ts`: the one the cutoff job judges.
        """
        return _last_cutoff_day(self, ts)

    def epoch(self, ts: datetime) -> int:
        """The half-day `ts` (aware) lies in, as a number that grows with time: twice the
        ordinal of its local date, plus one after that date's cutoff time.

        Midnights and cutoffs are the only moments at which a colour can change with no
        write, so writes stamped in one epoch are judged alike; a write stamped exactly at
        a cutoff belongs to the epoch that cutoff closes, as its update counts for that
        day. The cutoff waits for the writers of the epochs before its own
        (`tracker.fence`)."""
        d = self.local_date(ts)
        return 2 * d.toordinal() + (ts > _cutoff_moment(self, d))

    def epoch_end(self, epoch: int) -> datetime:
        """The moment epoch `epoch` ends (aware UTC): its date's cutoff, or the next
        midnight in the zone. A moment stamped at a cutoff still belongs to the epoch
        that cutoff ends; the next midnight begins the next one."""
        d = date.fromordinal(epoch // 2)
        if epoch % 2 == 0:
            return _cutoff_moment(self, d)
        return _deadline_end(self, d)

    def deadline_end(self, deadline: date) -> datetime:
        """When a deadline (hạn chót) has passed: 00:00 in the zone on the next day, as UTC.

        A task is overdue (quá hạn) once the moment is at or after this.
        """
        return _deadline_end(self, deadline)


def official_holidays(year: int, language: str | None = None) -> Mapping[date, str]:
    """The official public holidays (ngày lễ) of `year`, by date: the one place Tracker
    takes them from the `holidays` package (pinned: an upgrade is a data change).

    `language` as for `WorkCalendar.public_holiday`."""
    return _official_holidays(year, language)


# --- caches -----------------------------------------------------------------------------
# Module-level, keyed by the calendar's value, so that equal calendars share their entries.


@lru_cache(maxsize=256)
def _official_holidays(year: int, language: str | None) -> Mapping[date, str]:
    """The `holidays` package's VN public holidays for one year, as a read-only mapping."""
    names = holidays.country_holidays("VN", years=year, language=language)
    return MappingProxyType(dict(names))


@lru_cache(maxsize=256)
def _official_makeup_days(year: int) -> frozenset[date]:
    """Weekend days the official schedule makes working days, in swap for a day off.

    The package gives the day off (e.g. Friday 2 May 2025, "substituted from 04/26/2025") as
    a holiday; taking only that half of the swap would give units a day without giving back
    the Saturday they work. Its set also carries a few other years' days, hence the filter.
    """
    names = holidays.country_holidays("VN", years=year)
    return frozenset(d for d in names.weekend_workdays if d.year == year)


def _is_working_day_uncached(cal: WorkCalendar, d: date) -> bool:
    if d in cal.makeup_days:
        return True
    if d in cal.days_off:
        return False
    if d in _official_makeup_days(d.year):
        return True
    if d.weekday() >= 5:
        return False
    return d not in _official_holidays(d.year, None)


@lru_cache(maxsize=1024)
def _year_table(cal: WorkCalendar, year: int) -> tuple[int, tuple[int, ...]]:
    """Running count of working days in `year`, and the ordinal of the day before it began.

    counts[d.toordinal() - before] is the number of working days from 1 January to d, so one
    table per (calendar, year) answers both "is d a working day" and "how many working days
    lie between a and b" in constant time.
    """
    before = date(year, 1, 1).toordinal() - 1
    counts = [0]
    for ordinal in range(before + 1, date(year, 12, 31).toordinal() + 1):
        counts.append(counts[-1] + _is_working_day_uncached(cal, date.fromordinal(ordinal)))
    return before, tuple(counts)


def _rank(cal: WorkCalendar, d: date, base_year: int) -> int:
    """Working days from 1 January of `base_year` up to and including `d`."""
    before, counts = _year_table(cal, d.year)
    total = counts[d.toordinal() - before]
    for year in range(base_year, d.year):
        total += _year_table(cal, year)[1][-1]
    return total


@lru_cache(maxsize=65536)
def _next_working_day(cal: WorkCalendar, d: date) -> date:
    candidate = d
    for _ in range(MAX_SEARCH_DAYS):
        candidate += _ONE_DAY
        if cal.is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days after {d.isoformat()}")


@lru_cache(maxsize=65536)
def _previous_working_day(cal: WorkCalendar, d: date) -> date:
    candidate = d
    for _ in range(MAX_SEARCH_DAYS):
        candidate -= _ONE_DAY
        if cal.is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days before {d.isoformat()}")


@lru_cache(maxsize=65536)
def _cutoff_moment(cal: WorkCalendar, d: date) -> datetime:
    local = datetime.combine(d, cal.cutoff_time, tzinfo=cal._tz)
    return local.astimezone(UTC)


@lru_cache(maxsize=65536)
def _deadline_end(cal: WorkCalendar, deadline: date) -> datetime:
    local = datetime.combine(deadline + _ONE_DAY, time(0), tzinfo=cal._tz)
    return local.astimezone(UTC)


@lru_cache(maxsize=65536)
def _closing(cal: WorkCalendar, d: date) -> tuple[datetime | None, date]:
    """For local date d: its cutoff if it is a working day (else None), and the next one.

    Everything `reporting_day` needs about a date, in one cache lookup.
    """
    cutoff = _cutoff_moment(cal, d) if cal.is_working_day(d) else None
    return cutoff, _next_working_day(cal, d)


def _reporting_day(cal: WorkCalendar, ts: datetime) -> date:
    """`WorkCalendar.reporting_day` by its definition: the local date if it is a working day
    and `ts` is not after its cutoff, else the next working day."""
    d = cal.local_date(ts)
    cutoff, next_day = _closing(cal, d)
    if cutoff is not None and ts <= cutoff:
        return d
    return next_day


_HOUR = 3600
_INSTANT = timedelta(microseconds=1)  # the finest step of a datetime


_HOURS_KEPT = 65536  # about seven years of hours


def _hour_reporting_day(cal: WorkCalendar, hour: int) -> date | None:
    """The reporting day of every instant of the UTC hour (hour - 1, hour] (in hours since
    the epoch), or None if a cutoff falls inside it. The reporting day never decreases with
    time, so it is the same throughout when it is at the hour's first and last instants."""
    end = datetime.fromtimestamp(hour * _HOUR, UTC)
    first = end - timedelta(seconds=_HOUR) + _INSTANT
    day = _reporting_day(cal, end)
    return day if _reporting_day(cal, first) == day else None


@lru_cache(maxsize=1024)
def _last_cutoff_day(cal: WorkCalendar, ts: datetime) -> date:
    # Keyed by the moment: the cutoff job asks this once per task with the same moment.
    day = cal.reporting_day(ts)
    if _cutoff_moment(cal, day) == ts:
        return day
    return _previous_working_day(cal, day)


def _require_aware(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("an aware datetime is required; server timestamps are UTC")
    return ts
