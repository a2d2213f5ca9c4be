"""A notification for one user: a reminder, a nudge, a red task, a daily report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # reminder, nudge, red, report
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why no e-mail copy could be sent (an address no mail can go to): never tried again.
    email_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)
