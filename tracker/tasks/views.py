"""Task pages: the list of one's scope, a task with its updates and audit trail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, or_, select

from tracker import clock
from tracker.audit.models import AuditEntry
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.scope import can_report_on, get_task, visible_tasks
from tracker.tasks.forms import UpdateForm
from tracker.tasks.models import OPEN_STATUSES, Status, Task
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import post_update

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

MAX_ID = 2**31 - 1
COLOUR_ORDER = case({"red": 0, "yellow": 1, "green": 2}, value=Task.colour, else_=3)


@bp.route("")
@login_required
def task_list():
    query = visible_tasks(current_user)
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q}%"
        query = query.where(or_(Task.title.ilike(like), Task.code.ilike(like)))
    status = request.args.get("status", "")
    if status == "open":
        query = query.where(Task.status.in_(OPEN_STATUSES))
    elif status in Status.__members__.values():
        query = query.where(Task.status == status)
    colour = request.args.get("colour", "")
    if colour in {"green", "yellow", "red"}:
        query = query.where(Task.colour == colour)
    query = query.order_by(COLOUR_ORDER, Task.deadline, Task.id)
    page = db.paginate(query, per_page=50, max_per_page=200, error_out=False)
    return render_template("tasks/list.html", page=page, q=q, status=status, colour=colour)


def _load(task_id: int) -> Task:
    if task_id > MAX_ID:
        abort(404)
    return get_task(current_user, task_id)


@bp.route("/<int:task_id>")
@login_required
def task_detail(task_id: int):
    task = _load(task_id)
    return _render_detail(task, UpdateForm(formdata=None))


def _render_detail(task: Task, form: UpdateForm, status: int = 200):
    updates = db.session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
    ).all()
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.task_id == task.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    can_report = can_report_on(current_user, task) and task.is_open
    return render_template("tasks/detail.html", task=task, updates=updates, audit=audit,
                           form=form, can_report=can_report), status


@bp.route("/<int:task_id>/updates", methods=["POST"])
@login_required
def task_post_update(task_id: int):
    task = _load(task_id)
    form = UpdateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        post_update(current_user, task, form.raw(), now=clock.now())
    except InvalidInput as exc:
        db.session.rollback()
        task = _load(task_id)
        for name, messages in exc.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(messages)
        flash(exc.message, "error")
        return _render_detail(task, form, 422)
    db.session.commit()
    flash(_("Your update has been recorded."), "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id))
