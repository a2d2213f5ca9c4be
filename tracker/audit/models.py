"""One row per changed field: who, when, what, old → new. Rows are never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    # Or the kiến nghị the entry is about (tracker.kiennghi); one of the two, or neither.
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendations.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_audit_entries_task_id_at", "task_id", "at"),
                      Index("ix_audit_entries_recommendation_id_at", "recommendation_id", "at"))


class SecurityEvent(db.Model):
    """One security event (tracker.audit.security): a login, a failure, a change of access
    or credentials, an export. Append-only like the audit trail."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        Index("ix_security_events_at", "at"),
        Index("ix_security_events_unit_id_at", "unit_id", "at"),
        Index("ix_security_events_user_id_at", "user_id", "at"),
    )


class AuditIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
@event.listens_for(SecurityEvent, "before_update")
@event.listens_for(SecurityEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AuditIsAppendOnly("audit entries are never changed or deleted")
