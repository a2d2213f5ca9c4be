"""A progress update, stamped by the server's clock, never the client's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class ProgressUpdate(db.Model):
    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The server's stamp (tracker.fence). The reporting day it counts for is not
    # stored: it follows from the stamp and the calendar as it stands (a make-up day added
    # later moves it, as it moves what the cutoff judges).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    progress: Mapped[int]
    work_done: Mapped[str] = mapped_column(Text)
    obstacles: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(1000))

    author: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        Index("ix_progress_updates_task_id_created_at", "task_id", "created_at"),
    )
