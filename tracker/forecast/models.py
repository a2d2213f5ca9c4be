"""The stored early warning: each working day's forecast, computed once after the day's
cutoff has committed (`tracker.forecast.store`) and read by the dashboard, the warnings
list and the daily report (`tracker.forecast.stored`) — docs/forecast.md, "Stored once a
day".

`forecast_days` says which days have been computed: a day is read only once its
`finished_at` is set, at the end of its last batch, so a day half computed (or being
recomputed) is never shown. `task_forecasts` holds one row per task judged likely
(risk ≥ `rules.forecast.LIKELY`) — not one per open task — with the reasons as codes and
numbers (`Sign`), so that they are worded in each reader's language.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.rules.forecast import Sign
from tracker.types import UTCDateTime


class ForecastDay(db.Model):
    """One computed day: as of its cutoff moment, with the horizon's last working day."""

    __tablename__ = "forecast_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    horizon_end: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    likely: Mapped[int] = mapped_column(default=0)  # rows stored, once finished


class TaskForecast(db.Model):
    """A task judged likely to turn red at a day's cutoff: its lead unit and deadline as
    they stood then, its risk (0–100) and its signs (`encode_signs`)."""

    __tablename__ = "task_forecasts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    task_id: Mapped[int] = mapped_column(primary_key=True)  # no FK, as red_task_days
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    deadline: Mapped[date] = mapped_column(Date)
    risk: Mapped[int] = mapped_column(SmallInteger)
    signs: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        # A subtree's count and the list's filter by unit.
        Index("ix_task_forecasts_day_unit", "day", "lead_unit_id"),
    )


# The list: one day, highest risk first, then the nearest deadline (its order, read in turn).
Index("ix_task_forecasts_day_risk", TaskForecast.day, TaskForecast.risk.desc(),
      TaskForecast.deadline, TaskForecast.task_id)


def encode_signs(signs: tuple[Sign, ...]) -> str:
    """The signs as stored: "deadline:4,35,5,55;streak:1,2" (codes and numbers only)."""
    return ";".join(f"{s.code}:{','.join(str(v) for v in s.values)}" for s in signs)


def decode_signs(text: str) -> tuple[Sign, ...]:
    """The signs back from `encode_signs`."""
    found = []
    for part in filter(None, text.split(";")):
        code, _sep, values = part.partition(":")
        found.append(Sign(code, tuple(int(v) for v in values.split(",") if v)))
    return tuple(found)
