"""A write's idempotency key with the answer it got (draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.types import UTCDateTime


class IdempotencyKey(db.Model):
    """One key of one user: the request it came with (method, path, the fingerprint of its
    body) and the answer stored for it. Written in the same transaction as the write it
    guards, so a key exists exactly when its write does."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 hex of method, path, body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int]
    response: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        # Two writes under one key cannot both commit, whatever the timing.
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )
