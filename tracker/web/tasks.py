"""Task pages: the list of one's scope; a task with its updates, evidence, comments,
extension requests, colour history and audit trail; comments and evidence downloads."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import case, false, select

from tracker.audit.models import AuditEntry
from tracker.auth.models import User
from tracker.cutoff.models import TaskColourChange
from tracker.errors import Conflict, InvalidInput, TrackerError
from tracker.evidence.models import Evidence, Purpose
from tracker.evidence.service import attach_file, path_of
from tracker.extensions import db
from tracker.labels import ict
from tracker.paging import paginate, requested_page
from tracker.scope import can_comment, can_report_on, can_supervise, get_task, visible_tasks
from tracker.tasks.listing import TaskFilter
from tracker.tasks.models import (
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    Status,
    Task,
)
from tracker.tasks.service import add_comment
from tracker.types import MAX_ID
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import post_update
from tracker.web.task_forms import CommentForm, EvidenceUpdateForm, action_forms, apply_errors

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

COLOUR_ORDER = case({"red": 0, "yellow": 1, "green": 2}, value=Task.colour, else_=3)


@bp.route("")
@login_required
def task_list():
    """The tasks in one's scope, worst first, with the API's filter (tracker.tasks.listing);
    a refused filter is named next to its field (422) and lists nothing."""
    query = visible_tasks(current_user)
    errors: dict[str, list[str]] = {}
    try:
        chosen = TaskFilter.from_args(current_user, request.args)
    except InvalidInput as exc:
        chosen, errors = TaskFilter(), exc.fields
        query = query.where(false())
    query = chosen.apply(query).order_by(COLOUR_ORDER, Task.deadline, Task.id)
    page = paginate(query, requested_page())
    return render_template("tasks/list.html", page=page, chosen=chosen, errors=errors,
                           values=request.args), 422 if errors else 200


def _load(task_id: int) -> Task:
    return get_task(current_user, task_id)


@bp.route("/<int:task_id>")
@login_required
def task_detail(task_id: int):
    task = _load(task_id)
    return render_detail(task)


def _names(user_ids) -> dict[int, User]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def render_detail(task: Task, forms: dict | None = None, status: int = 200):
    """The task page: its "6 rõ", updates, evidence, comments, extension requests, colour
    history and audit trail, with the action forms the user's role allows. `forms` replaces
    some of the empty forms (e.g. one with errors after a refused POST)."""
    updates = db.session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(200)
    ).all()
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.task_id == task.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(500)
    ).all()
    comments = db.session.scalars(
        select(Comment).where(Comment.task_id == task.id)
        .order_by(Comment.at.desc(), Comment.id.desc()).limit(200)
    ).all()
    extensions = db.session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.task_id == task.id)
        .order_by(ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    ).all()
    history = db.session.scalars(
        select(TaskColourChange).where(TaskColourChange.task_id == task.id)
        .order_by(TaskColourChange.day.desc()).limit(120)
    ).all()
    evidence = db.session.scalars(
        select(Evidence).where(Evidence.task_id == task.id)
        .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())
    ).all()
    by_update: dict[int, list[Evidence]] = {}
    for item in evidence:
        if item.update_id:
            by_update.setdefault(item.update_id, []).append(item)
    people = _names([c.author_id for c in comments]
                    + [e.requested_by_id for e in extensions]
                    + [e.decided_by_id for e in extensions])
    reporter = can_report_on(current_user, task)
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    supervisor = can_supervise(current_user, task)
    # What the user may do here (a namespace: `allowed.update` in a template must not
    # find dict.update).
    allowed = SimpleNamespace(
        update=reporter and task.is_open,
        submit=reporter and task.is_open,
        extend=reporter and task.status not in (Status.DONE, Status.CANCELLED)
        and pending is None,
        supervise=supervisor,
        comment=can_comment(current_user, task),
    )
    all_forms = action_forms()
    all_forms.update(forms or {})
    return render_template(
        "tasks/detail.html", task=task, updates=updates, audit=audit, comments=comments,
        extensions=extensions, pending_extension=pending, history=history,
        completion_evidence=[e for e in evidence if e.purpose == Purpose.COMPLETION],
        evidence_by_update=by_update, people=people, allowed=allowed, forms=all_forms,
        form=all_forms["update"], can_report=allowed.update,
        AUDIT_ACTIONS=AUDIT_ACTIONS, EXTENSION_STATUS=EXTENSION_STATUS,
    ), status


def refused(task: Task, name: str, form, exc: TrackerError):
    """Answer a refused action on the task page: field errors next to the fields (422);
    a conflict or other refusal as a message on the page."""
    db.session.rollback()
    task = _load(task.id)
    if isinstance(exc, InvalidInput):
        for message in apply_errors(form, exc.fields):
            flash(message, "error")
    flash(exc.message, "error")
    return render_detail(task, {name: form}, exc.status)


@bp.route("/<int:task_id>/updates", methods=["POST"])
@login_required
def task_post_update(task_id: int):
    task = _load(task_id)
    form = EvidenceUpdateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        update = post_update(current_user, task, form.raw())
        if form.evidence_file.data:
            attach_file(current_user, task, form.evidence_file.data,
                        now=update["created_at"], update_id=update["id"])
    except (InvalidInput, Conflict) as exc:
        return refused(task, "update", form, exc)
    db.session.commit()
    flash(_("Your update has been recorded."), "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id))


@bp.route("/<int:task_id>/comments", methods=["POST"])
@login_required
def task_comment(task_id: int):
    task = _load(task_id)
    form = CommentForm(prefix="comment")
    if not form.validate_on_submit():
        abort(400)
    try:
        add_comment(current_user, task, form.body.data)
    except InvalidInput as exc:
        return refused(task, "comment", form, exc)
    db.session.commit()
    flash(_("Your comment has been added."), "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id, _anchor="comments"))


@bp.route("/<int:task_id>/evidence/<int:evidence_id>")
@login_required
def evidence_download(task_id: int, evidence_id: int):
    """An evidence file, to users who may see the task (404 to anyone else)."""
    task = _load(task_id)
    if evidence_id > MAX_ID:
        abort(404)
    item = db.session.get(Evidence, evidence_id)
    if item is None or item.task_id != task.id or not item.is_file:
        abort(404)
    path = path_of(item)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=item.content_type, as_attachment=True,
                         download_name=item.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


AUDIT_ACTIONS = {
    "create": _l("Created"),
    "edit": _l("Edited"),
    "progress_update": _l("Progress update"),
    "submit": _l("Completion submitted"),
    "confirm": _l("Completion confirmed"),
    "return": _l("Completion returned"),
    "cancel": _l("Cancelled"),
    "extension_request": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_rejected": _l("Extension rejected"),
    "comment": _l("Comment"),
    "acknowledge": _l("Acknowledged"),
    "nudge": _l("Nudged"),
    "evidence": _l("Evidence added"),
}
EXTENSION_STATUS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


@bp.route("/<int:task_id>/audit.csv")
@login_required
def audit_export(task_id: int):
    """The task's whole audit trail as CSV (who, when, what, old → new)."""
    task = _load(task_id)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.task_id == task.id)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Time"), _("Who"), _("Action"), _("Field"), _("Old value"),
                     _("New value"), _("Note")])
    for e in entries:
        writer.writerow([ict(e.at, seconds=True), e.actor.username if e.actor else "",
                         e.action, e.field or "", e.old_value or "", e.new_value or "",
                         e.note or ""])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{task.code}-audit.csv"'})
