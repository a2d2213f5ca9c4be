"""The user's notifications page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from tracker import clock
from tracker.extensions import db
from tracker.notifications.kinds import kind_label
from tracker.notifications.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def notification_list():
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(100)
    ).all()
    return render_template("notifications/list.html", items=items, kind_label=kind_label)


@bp.route("/read", methods=["POST"])
@login_required
def mark_all_read():
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    db.session.commit()
    return redirect(url_for("notifications.notification_list"))


def unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
    )
