"""Task pages: the list of one's scope; a task with its updates, evidence, comments,
extension requests, colour history and audit trail; comments and evidence downloads."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import false, select

from tracker import clock
from tracker.audit.models import AuditEntry
from tracker.downloads import attachment, csv_writer
from tracker.errors import Conflict, InvalidInput
from tracker.evidence.models import Evidence
from tracker.evidence.service import download
from tracker.extensions import db
from tracker.paging import LIST_COUNTED, requested_page
from tracker.replica import may_lag
from tracker.scope import get_task, visible_tasks
from tracker.tasks.export import export_filename, tasks_xlsx
from tracker.tasks.listing import TaskFilter, task_page
from tracker.tasks.models import Task, worst_first
from tracker.tasks.service import add_comment
from tracker.tasks.wording import csv_rows
from tracker.types import MAX_ID
from tracker.updates.service import post_update
from tracker.web.once import (
    flash_all,
    json_answer,
    json_bad_form,
    json_refusal,
    post_once,
    recorded,
    wants_json,
)
from tracker.web.task_forms import CommentForm, EvidenceUpdateForm
from tracker.web.task_page import refused, render_detail
from tracker.web.update_form import raise_ticked_obstacle
from tracker.xlsx import MIME as XLSX

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

@bp.route("")
@login_required
@may_lag
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
    # A search is counted as far as a list, as on the API (tracker.api.tasks.task_list): a
    # commune's name matches a few thousand tasks, which, counted whole, are read as a set
    # and sorted — walking the worst-first order until a page of them turned up took
    # 0.6 s at 3.3 M tasks.
    page = task_page(chosen.apply(query), worst_first, narrow=chosen.narrow(current_user),
                     page=requested_page(), count_at_most=LIST_COUNTED)
    return render_template("tasks/list.html", page=page, chosen=chosen, errors=errors,
                           values=request.args), 422 if errors else 200


@bp.route("/export.xlsx")
@login_required
@may_lag
def task_list_export():
    """The list as an XLSX workbook — every task the filter finds in one's scope, in the
    columns the importer reads back (tracker.tasks.export). A refused filter is a 422
    naming the fields, as on the list."""
    chosen = TaskFilter.from_args(current_user, request.args)
    at = clock.now()
    data = tasks_xlsx(current_user, chosen, at=at)
    db.session.commit()
    return attachment(data, export_filename(at), XLSX)


def _load(task_id: int) -> Task:
    return get_task(current_user, task_id)


@bp.route("/<int:task_id>")
@login_required
def task_detail(task_id: int):
    task = _load(task_id)
    return render_detail(task)


@bp.route("/<int:task_id>/updates", methods=["POST"])
@login_required
def task_post_update(task_id: int):
    task = _load(task_id)
    form = EvidenceUpdateForm()
    if not form.validate_on_submit():
        if wants_json():
            return json_bad_form(form)
        abort(400)

    def write() -> dict:
        update = post_update(current_user, task, form.raw(),
                             evidence_file=form.evidence_file.data)
        answer = recorded(update, _("Your update has been recorded."))
        answer["messages"] += raise_ticked_obstacle(form, current_user, task, update)
        return answer

    try:
        answer = post_once(form, write)
    except (InvalidInput, Conflict) as exc:
        if wants_json():
            db.session.rollback()
            return json_refusal(exc)
        return refused(task, "update", form, exc)
    db.session.commit()
    if wants_json():
        return json_answer(answer)
    flash_all(answer["messages"])
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
    response = download(item) if item is not None and item.task_id == task.id else None
    if response is None:
        abort(404)
    return response


@bp.route("/<int:task_id>/audit.csv")
@login_required
def audit_export(task_id: int):
    """The task's whole audit trail as CSV (who, when, what, old → new)."""
    task = _load(task_id)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.task_id == task.id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerows(csv_rows(entries))  # in the page's words (tracker.tasks.wording)
    return attachment("\ufeff" + out.getvalue(), f"{task.code}-audit.csv",
                      "text/csv; charset=utf-8")
