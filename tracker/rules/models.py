"""What an admin records about the calendar and the colour policy."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class DayKind(StrEnum):
    DAY_OFF = "day_off"  # ngày nghỉ bổ sung
    MAKEUP_DAY = "makeup_day"  # ngày làm bù


class CalendarDay(db.Model):
    """A day an admin declares off, or a make-up working day (e.g. a Saturday)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[DayKind] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)


class Setting(db.Model):
    """A policy value an admin may change (warning window, missed days to red, …)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
