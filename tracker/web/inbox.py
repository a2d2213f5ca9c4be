"""The supervisor's inbox of decisions: completions waiting for confirmation and extension
requests waiting for a decision, oldest first, each decided from the list (the forms post
to the supervisor's actions, which come back here) or from the task page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from tracker.evidence.models import Evidence, Purpose
from tracker.extensions import db
from tracker.scope import SUPERVISORS, has_role, requires
from tracker.tasks.inbox import LIMIT, waiting_counts, waiting_decisions

bp = Blueprint("inbox", __name__)


@bp.route("/supervise/inbox")
@requires(*SUPERVISORS)
def inbox():
    waiting = waiting_decisions(current_user)
    # Each completion's product (sản phẩm), as its task page shows it: one statement.
    products: dict[int, list[Evidence]] = {}
    ids = [w.task.id for w in waiting["completion"]]
    if ids:
        for item in db.session.scalars(
                select(Evidence).where(Evidence.task_id.in_(ids),
                                       Evidence.purpose == Purpose.COMPLETION)
                .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())):
            products.setdefault(item.task_id, []).append(item)
    return render_template("supervise/inbox.html", counts=waiting_counts(current_user),
                           waiting=waiting, products=products, limit=LIMIT)


def waiting_count() -> int:
    """For the header (read once by base.html, shown in the menu too): how many decisions
    wait for the logged-in supervisor (0 for others)."""
    if not current_user.is_authenticated or not has_role(current_user, *SUPERVISORS):
        return 0
    return waiting_counts(current_user)["total"]
