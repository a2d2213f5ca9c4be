"""An endpoint an admin registered (webhook) and its outbox: one delivery per event and
endpoint, written in the transaction of the event, sent after the commit by the worker."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.types import UTCDateTime
from tracker.units.models import Unit


class WebhookEndpoint(db.Model):
    """A URL that hears of the events (`events`, comma-separated) of the tasks in its unit's
    subtree. The secret signs every body; it is kept sealed (`tracker.sealing`), since the
    worker needs it to sign, and shown to the admin only once."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(1000))
    secret_sealed: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship(lazy="joined")

    @property
    def event_list(self) -> list[str]:
        return [e for e in self.events.split(",") if e]


class WebhookDelivery(db.Model):
    """One event for one endpoint: its body as sent (JSON, fixed when the event happened)
    and where its delivery stands — `pending` (due at `next_attempt_at`), `delivered`, or
    `failed` for good after the last attempt; the last attempt's HTTP status and error."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # The worker's look for what is due; the endpoint's log, newest first.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id", "endpoint_id", "id"),
    )


class WebhookJob(db.Model):
    """Work the worker turns into deliveries in its own short transactions, so that the
    write that caused it (a batch of updates, the cutoff) only adds this one small row:
    `updates` — a batch's update ids for `event` (`update.posted`) or its colour changes
    (`task.colour_changed`), in `data` (JSON), for every endpoint listening then;
    `cutoff_colours` — the colours the cutoff changed on `day`, for one endpoint.
    `position` is how far it is expanded (an index into the ids, or the last task id);
    the row is deleted when it is done."""

    __tablename__ = "webhook_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    day: Mapped[date | None]
    data: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
