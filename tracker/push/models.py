"""A browser's push subscription: where its push service accepts messages for it, and the
keys the messages are encrypted to (RFC 8291)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class PushSubscription(db.Model):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The push service's URL for this browser: one subscription, one user.
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))  # the browser's public key (base64url)
    auth: Mapped[str] = mapped_column(String(100))  # the shared auth secret (base64url)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)

    __table_args__ = (Index("ix_push_subscriptions_user_id", "user_id"),)
