"""The user's notifications page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker import clock
from tracker.extensions import db
from tracker.notifications import reading
from tracker.notifications.kinds import kind_label
from tracker.types import MAX_ID

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def notification_list():
    items = db.session.scalars(reading.notifications_of(current_user.id).limit(100)).all()
    return render_template("notifications/list.html", items=items, kind_label=kind_label)


@bp.route(f"/<int(max={MAX_ID}):notification_id>")
@login_required
def notification_open(notification_id: int):
    """One of the user's notifications, opened from the list: marked read, then its task
    or kiến nghị (another user's: 404)."""
    item = reading.mark_read(current_user.id, notification_id, now=clock.now())
    db.session.commit()
    if item.recommendation_id:
        return redirect(url_for("kiennghi.detail", rec_id=item.recommendation_id))
    if item.task_id:
        return redirect(url_for("tasks.task_detail", task_id=item.task_id))
    return redirect(url_for("notifications.notification_list"))


@bp.route("/read", methods=["POST"])
@login_required
def mark_all_read():
    reading.mark_all_read(current_user.id, now=clock.now())
    db.session.commit()
    return redirect(url_for("notifications.notification_list"))


def unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    return reading.unread_count(current_user.id)
