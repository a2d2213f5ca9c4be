"""A user's own notifications: the list, newest first, and marking them read — one or all.
The only write path for `Notification.read_at`: the notifications page and the API call
these. Nobody reads or marks another user's notifications (404, so that ids do not leak)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.types import MAX_ID


def notifications_of(user_id: int, *, unread_only: bool = False) -> Select:
    """The user's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None)))


def mark_read(user_id: int, notification_id: int, *, now: datetime) -> Notification:
    """Mark one of the user's notifications read; read already, it keeps its first time."""
    item = db.session.get(Notification, notification_id) \
        if 0 < notification_id <= MAX_ID else None
    if item is None or item.user_id != user_id:
        raise NotFound(_("notification not found"))
    if item.read_at is None:
        item.read_at = now
        db.session.flush()
    return item


def mark_all_read(user_id: int, *, now: datetime) -> int:
    """Mark every unread notification of the user read; how many were unread."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now))
    return result.rowcount or 0
