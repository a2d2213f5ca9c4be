"""A notification for one user (a reminder, a nudge, a red task, a daily report, a
decision or a request on a task), and each user's choice of how they hear of each group
of kinds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import system_now
from tracker.extensions import db
from tracker.types import UTCDateTime


class Delivery:
    """How a user hears of a group of kinds (stored in `NotificationPreference.delivery`
    and, decided when the notification is written, in `Notification.mail`)."""

    APP = "app"  # in the app only
    NOW = "now"  # in the app, and by e-mail right after the commit
    DIGEST = "digest"  # in the app, and in one e-mail a working day (the daily digest)


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # tracker.notifications.kinds
    # The task it is about, by id without a foreign key: tasks are never deleted (they are
    # cancelled), and the cutoff writes a national day's "turned red" notices in one
    # statement, where a key would check and KEY SHARE-lock each task (2.3 s for 130,000).
    task_id: Mapped[int | None]
    # The kiến nghị it is about, whose page it links to (as the reader sees it: for the
    # raiser of a merged duplicate, that duplicate). A kiến nghị is never deleted.
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendations.id"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=system_now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The outbox: "now" or "digest" while an e-mail copy is owed (decided when written,
    # from the user's choice and whether they have an address), NULL when none is.
    mail: Mapped[str | None] = mapped_column(String(8))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a sender took it to send (tracker.notifications.mail): no other sender takes it
    # until that claim has run out, and no transaction stays open while the mail server
    # talks.
    mail_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why no e-mail copy could be sent (an address no mail can go to): never tried again.
    email_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        # The outbox alone: what is still to be e-mailed, however many notifications.
        Index("ix_notifications_outbox", "mail", "id",
              sqlite_where=text("mail IS NOT NULL AND emailed_at IS NULL"),
              postgresql_where=text("mail IS NOT NULL AND emailed_at IS NULL")),
    )


class NotificationPreference(db.Model):
    """A user's choice for one group of kinds (tracker.notifications.kinds.GROUPS); a
    group without a row is e-mailed at once and pushed."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(8))
    # Pushed to the user's subscribed phones and browsers too (tracker.notifications.push).
    push: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
