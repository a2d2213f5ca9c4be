"""Admin pages (quản trị): the home page and the unit tree's address here (the tree and its
departments in `admin_units`); users, tasks, the import, the calendar and the policy in
their own modules, as blueprints nested under this one.

Every page is for admins only (`tracker.scope.requires` on each view) and shows only the
admin's subtree; every write goes through a service, one commit per request.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from tracker import clock
from tracker.cutoff.backlog import cutoff_status
from tracker.extensions import db
from tracker.scope import ADMINS, get_unit, has_role, requires
from tracker.web import (
    admin_import,
    admin_reports,
    admin_security,
    admin_settings,
    admin_task_changes,
    admin_tasks,
    admin_units,
    admin_users,
    admin_webhooks,
)
from tracker.web.helpers import MAX_ID

bp = Blueprint("admin", __name__, url_prefix="/admin")
for child in (admin_users.bp, admin_tasks.bp, admin_task_changes.bp, admin_import.bp,
              admin_settings.bp, admin_security.bp, admin_units.bp, admin_reports.bp,
              admin_webhooks.bp):
    bp.register_blueprint(child)


@bp.context_processor
def _cutoff_status():
    """The line on every admin page that says where the cutoff stands (for active admins
    only: an error page rendered for someone else under /admin must not show it)."""
    if not has_role(current_user, *ADMINS):
        return {}
    grace = timedelta(seconds=current_app.config["TRACKER_CUTOFF_LATE_SECONDS"])
    try:
        status = cutoff_status(clock.now())
    except SQLAlchemyError:  # e.g. SQLite's write lock held by a long cutoff
        db.session.rollback()
        return {}
    return {"cutoff_status": status, "cutoff_problems": status.problems(grace)}


@bp.route("")
@requires(*ADMINS)
def home():
    return render_template("admin/index.html")


@bp.route("/units")
@bp.route("/units/<int:unit_id>")
@requires(*ADMINS)
def units(unit_id: int | None = None):
    """The unit tree, one level at a time, with each unit's subtree counts."""
    if unit_id is not None and unit_id > MAX_ID:
        abort(404)
    unit = current_user.unit if unit_id is None else get_unit(current_user, unit_id)
    return admin_units.tree_page(unit)
