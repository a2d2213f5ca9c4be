"""Evidence of an update or a completion: an uploaded file or a link; and the files of a
kiến nghị — as raised, and of its answer — kept the same way (one upload path).

Files live under the instance folder (`instance/evidence/`), named by a random token;
the database keeps only their description, so backups of the database stay small and a
file is never served without a scope check.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class Purpose(StrEnum):
    UPDATE = "update"  # backs a daily progress update
    COMPLETION = "completion"  # the product (sản phẩm) of a submitted completion
    RECOMMENDATION = "recommendation"  # a file of a kiến nghị, as its unit raised it
    ANSWER = "answer"  # a document of the answer to a kiến nghị


TASK_PURPOSES = frozenset({Purpose.UPDATE, Purpose.COMPLETION})
RECOMMENDATION_PURPOSES = frozenset({Purpose.RECOMMENDATION, Purpose.ANSWER})


class Evidence(db.Model):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose it is: a task's (an update's or a completion's) or a kiến nghị's, never both.
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"),
                                                index=True)
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True)
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("progress_updates.id", ondelete="CASCADE"))
    purpose: Mapped[Purpose] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(1000))
    filename: Mapped[str | None] = mapped_column(String(255))  # as uploaded
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)

    uploaded_by: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("(task_id IS NULL) <> (recommendation_id IS NULL)", name="one_owner"),
    )

    @property
    def is_file(self) -> bool:
        return self.stored_name is not None
