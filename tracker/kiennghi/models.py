"""The kiến nghị (an obstacle — vướng mắc — or a recommendation — kiến nghị — raised by a
unit): what it asks, who raised it, where it stands on its way to an answer."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime
from tracker.units.models import Unit


class Kind(StrEnum):
    OBSTACLE = "obstacle"  # vướng mắc
    RECOMMENDATION = "recommendation"  # kiến nghị


class Level(StrEnum):
    """The level the raiser asks to answer (cấp đề nghị giải quyết)."""

    DEPARTMENT = "department"  # sở, ngành
    PROVINCE = "province"  # tỉnh
    CENTRE = "centre"  # trung ương


class RecStatus(StrEnum):
    """Its way to an answer; the colour rule's statuses (tracker.rules.recommendations)."""

    RAISED = "raised"  # chờ phân loại: waiting for the supervisor to route it
    ASSIGNED = "assigned"  # đã giao đầu mối: waiting for the responsible unit's answer
    ANSWERED = "answered"  # đã trả lời: waiting for the raiser's verdict
    REOPENED = "reopened"  # đề nghị trả lời lại: waiting for an answer again
    CLOSED = "closed"  # đã chấp nhận trả lời
    MERGED = "merged"  # đã gộp: a duplicate, answered by the one it joined


class Recommendation(db.Model):
    """A kiến nghị. Stamped by the server and numbered like a task (KN-yyyy-nnnnnn); one
    responsible unit (đầu mối) answers it — "một việc – một đầu mối"."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[Kind] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(200))  # lĩnh vực
    legal_basis: Mapped[str] = mapped_column(Text)  # cơ sở pháp lý, chính sách liên quan
    level_asked: Mapped[Level] = mapped_column(String(16))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)

    raising_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    # Whose supervisors route it: the raising unit, or the level it was forwarded up to.
    routing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    status: Mapped[RecStatus] = mapped_column(String(16), default=RecStatus.RAISED)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("recommendations.id"),
                                                       index=True)

    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"),
                                                            index=True)
    response_days: Mapped[int | None]  # working days given to answer
    response_due: Mapped[date | None] = mapped_column(Date)
    # When the response deadline's day ends (WorkCalendar.deadline_end), for the SQL twins.
    response_due_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    routed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    answer: Mapped[str | None] = mapped_column(Text)
    answer_documents: Mapped[str | None] = mapped_column(String(500))  # số, ký hiệu văn bản
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    asked_again: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When its being overdue was announced (once per deadline; cleared with a new one).
    overdue_noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)

    raising_unit: Mapped[Unit] = relationship(foreign_keys=[raising_unit_id], lazy="joined")
    routing_unit: Mapped[Unit] = relationship(foreign_keys=[routing_unit_id], lazy="joined")
    responsible_unit: Mapped[Unit | None] = relationship(foreign_keys=[responsible_unit_id],
                                                         lazy="joined")
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    merged_into: Mapped[Recommendation | None] = relationship(remote_side=[id])

    __table_args__ = (
        # The overdue queue and the counts: by status and deadline.
        Index("ix_recommendations_status_due", "status", "response_due"),
    )

    @property
    def awaiting_answer(self) -> bool:
        return self.status in (RecStatus.ASSIGNED, RecStatus.REOPENED)

    def __repr__(self) -> str:
        return f"<Recommendation {self.code}>"


class RecommendationDayCount(db.Model):
    """The kiến nghị as they stood at a reporting day's cutoff, counted (what the daily
    supervision report reads, as it reads `unit_day_stats` for the tasks): one row per
    raising unit, responsible unit, field (lĩnh vực) and category — `answered_on_time`,
    `answered_late`, `pending`, `overdue` (tracker.rules.recommendations) or `merged`.
    Written by `tracker.kiennghi.counts.store_day` when the day's cutoff is done."""

    __tablename__ = "recommendation_day_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    raising_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    field: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    received: Mapped[int] = mapped_column(Integer)  # raised up to the cutoff
    received_today: Mapped[int] = mapped_column(Integer)  # of which raised that day

    __table_args__ = (
        Index("ix_recommendation_day_counts_day", "day", "raising_unit_id"),
    )
