"""What the cutoff records: each processed day, the schedulers' heartbeats and lease, and
the day's record (missed updates, colour history, the red list, the units' figures)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.rules.units import green_rate, rated
from tracker.types import UTCDateTime


class CutoffRun(db.Model):
    """One processed cutoff (giờ chốt) per reporting day. The primary key on `day` is what
    makes the cutoff exactly-once across processes and hosts."""

    __tablename__ = "cutoff_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    runs: Mapped[int] = mapped_column(default=1)
    summary: Mapped[str] = mapped_column(Text, default="{}")


class SchedulerHeartbeat(db.Model):
    """What each scheduler process last said of itself: when it was last alive, and the
    last error that kept it from processing a due day (`tracker cutoff status`)."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default="running")  # running, failing
    failures: Mapped[int] = mapped_column(default=0)  # in a row, since the last success
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SchedulerLease(db.Model):
    """Which scheduler is the active one (tracker.cutoff.leader): one row per lease, held
    by `holder` (host:pid) until `expires_at`, by the database's clock. PostgreSQL only; on
    SQLite (one host) every scheduler acts and no row is written."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The day's record — missed updates, colour history, red list — refers to tasks and their
# lead units by id with no foreign key. Only the cutoff writes it, from the tasks (and
# their lead units) it read in the same snapshot; tasks are never deleted (they are
# cancelled), nor are units. A foreign key would check and KEY SHARE-lock a row for each of
# the ~2.5 million rows of the nation's rush day — a fifth of the cutoff's time for the
# tasks' keys, and a lock every writer of that task at 16:00 would then share.


class MissedUpdate(db.Model):
    """A reporting day on which a task owed an update and got none in the window."""

    __tablename__ = "missed_updates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    task_id: Mapped[int] = mapped_column(primary_key=True)  # no foreign key (note above)
    # No index of its own: every read of the missed updates is by day and task.
    unit_id: Mapped[int]  # no foreign key (note above)


class TaskColourChange(db.Model):
    """A task's colour at a cutoff, stored only when it differs from the previous cutoff's:
    the colour on day D is the latest row on or before D. A national day costs rows only for
    the tasks that changed, not for 3.3 million.

    `code` and `rank` are the daily report's order for the colour changes of a day (red
    first, then those that had a colour before, then by code), so that the report reads the
    first few hundred of a national day from an index instead of sorting them all."""

    __tablename__ = "task_colour_history"

    task_id: Mapped[int] = mapped_column(primary_key=True)  # no FK (note above MissedUpdate)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    unit_id: Mapped[int]  # no foreign key (note above MissedUpdate)
    colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    days: Mapped[int] = mapped_column(default=0)
    previous_colour: Mapped[str | None] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(64), default="")
    rank: Mapped[int] = mapped_column(SmallInteger, default=0)

    __table_args__ = (
        Index("ix_task_colour_history_day_rank", "day", "rank", "code"),
        # A subtree's tasks as they stood on a past day (tracker.reports.pastday): a unit's
        # rows up to the day, without reading other units' or later days'. It also serves a
        # subtree's changes on one day or over a span (tracker.reports.history, .compare),
        # one unit at a time; a whole day's are read by (day, rank, code). No (day, unit)
        # index beside it: the cutoff writes a million rows on a rush day.
        Index("ix_task_colour_history_unit_day", "unit_id", "day"),
    )


def change_rank(colour: str, previous_colour: str | None) -> int:
    """The report's order of a colour change: to red first, then changes from a colour
    before new ones."""
    return (0 if colour == "red" else 2) + (previous_colour is None)


class RedTaskDay(db.Model):
    """A task that was red at a day's cutoff, with its reason and days as of that cutoff:
    the daily report's red list, written by the cutoff in the report's order (`rank`, then
    `code`) so that the report reads a national day's first few hundred from an index."""

    __tablename__ = "red_task_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    task_id: Mapped[int] = mapped_column(primary_key=True)  # no FK (note above MissedUpdate)
    unit_id: Mapped[int]  # no foreign key (note above MissedUpdate)
    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    days: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_red_task_days_day_rank", "day", "rank", "code"),
        Index("ix_red_task_days_day_unit", "day", "unit_id"),
    )


RANK_DAYS = 1_000_000


def red_rank(reason: str, days: int) -> int:
    """The report's order of red tasks as one ascending number: overdue before missed
    updates, then the most days first (days beyond a million years' worth are ties)."""
    return (0 if reason == "overdue" else RANK_DAYS) + RANK_DAYS - 1 - min(max(days, 0),
                                                                         RANK_DAYS - 1)


class UnitDayStat(db.Model):
    """A unit's subtree totals at one cutoff: colours, the four categories, missed updates,
    the green rate and (for provinces and the nation) the share of green communes."""

    __tablename__ = "unit_day_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    total: Mapped[int] = mapped_column(default=0)
    green: Mapped[int] = mapped_column(default=0)
    yellow: Mapped[int] = mapped_column(default=0)
    red: Mapped[int] = mapped_column(default=0)
    done_on_time: Mapped[int] = mapped_column(default=0)
    done_late: Mapped[int] = mapped_column(default=0)
    open_within_deadline: Mapped[int] = mapped_column(default=0)
    open_overdue: Mapped[int] = mapped_column(default=0)
    missed: Mapped[int] = mapped_column(default=0)
    # The unit's own tasks' missed updates (not its subtree's), and the subtree's colour
    # changes since the previous cutoff: what the report counts without reading the rows.
    missed_own: Mapped[int] = mapped_column(default=0)
    changes: Mapped[int] = mapped_column(default=0)
    colour: Mapped[str] = mapped_column(String(8), default="green")
    communes: Mapped[int] = mapped_column(default=0)
    communes_green: Mapped[int] = mapped_column(default=0)
    # Tasks not started and still green (outside the green rate), and communes with no
    # counted task (outside the share of green communes): docs/status-rules.md §7.
    not_started: Mapped[int] = mapped_column(default=0, server_default="0")
    communes_none: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def counts(self) -> dict[str, int]:
        return {"green": self.green, "total": self.total, "not_started": self.not_started,
                "communes": self.communes, "communes_green": self.communes_green,
                "communes_none": self.communes_none}

    @property
    def green_rate(self) -> float | None:
        """Tỷ lệ xanh, by the one rule (`tracker.rules.units.green_rate`); None when no
        task is counted."""
        return green_rate(self.counts)

    @property
    def rated(self) -> tuple[int, int]:
        """(green, tasks) counted in the green rate (`tracker.rules.units.rated`)."""
        return rated(self.counts)
