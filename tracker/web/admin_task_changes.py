"""An admin changes a task on the page: edits its "6 rõ", reassigns its lead unit or owner,
cancels it with a reason. (Nested under `admin`; admins of the lead unit's subtree only.)

Every form carries the version of the task it shows. If someone else saved the task in
between, nothing is written: the edit page comes back with the admin's input kept and
the values saved meanwhile shown beside it; the task page shows the task as it now is.
The services (`tasks.editing`, `tasks.lifecycle`) decide, as they do for the API.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.dates import parse_date
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.labels import PRIORITY_LABELS, dmy
from tracker.scope import ADMINS, can_manage_task, get_task, requires
from tracker.tasks.editing import EDITABLE, reassign_task, update_task
from tracker.tasks.lifecycle import cancel_task
from tracker.tasks.models import Task
from tracker.tasks.sixro import FIELD_LABELS, RO_LABELS, SIX_RO
from tracker.web.helpers import MAX_ID, unit_options
from tracker.web.task_forms import CancelForm, ReassignForm
from tracker.web.task_page import refused

bp = Blueprint("task_changes", __name__, url_prefix="/tasks")

DATES = ("start_date", "deadline", "source_doc_date")


def stale_on_page() -> str:
    return _("Someone else saved this task while you were working on it, so nothing was "
             "saved and nothing of theirs was overwritten. The task as it is now is shown "
             "below; check it, then try again.")


def stale_on_edit() -> str:
    return _("Someone else saved this task while you were editing it, so nothing was saved "
             "and nothing of theirs was overwritten. Your input is kept in the form; what "
             "is saved now, where it differs, is shown just below. Check it, then save "
             "again.")


def _task(task_id: int) -> Task:
    """The task, if the admin manages it: one outside their scope is not found (404), as
    elsewhere; one they see but do not manage (coordinated by their unit) is refused."""
    if task_id > MAX_ID:
        abort(404)
    task = get_task(current_user, task_id)
    if not can_manage_task(current_user, task):
        abort(403)
    return task


def _form_values(task: Task) -> dict:
    """The task's fields as the edit form shows them."""
    values = {name: getattr(task, name) for name in EDITABLE
              if name != "coordinating_unit_ids"}
    values = {k: (v.isoformat() if k in DATES else v) for k, v in values.items()}
    values["coordinating_unit_ids"] = [str(u.id) for u in task.coordinating_units]
    values["version"] = task.version
    return values


def _posted(form) -> dict:
    """The fields as typed; a field the form did not send is not changed — but the
    coordinating units, whose list sends nothing when none is chosen."""
    values = {name: form[name] for name in EDITABLE if name in form}
    values["coordinating_unit_ids"] = form.getlist("coordinating_unit_ids")
    return values


def _shown(task: Task, name: str) -> str:
    """A field's value as a reader reads it."""
    value = getattr(task, name) if name != "coordinating_unit_ids" else None
    if name == "lead_unit_id":
        return task.lead_unit.name
    if name == "coordinating_unit_ids":
        return ", ".join(u.name for u in task.coordinating_units) or "–"
    if name in DATES:
        return dmy(value)
    if name == "priority":
        return str(PRIORITY_LABELS.get(str(value), value))
    return value or "–"


def _differs(task: Task, name: str, typed, current) -> bool:
    if name == "coordinating_unit_ids":
        return sorted(map(str, typed or [])) != sorted(current)
    if name in DATES:
        return parse_date(typed) != getattr(task, name)
    return (typed or "").strip() != str(current or "")


def _saved_meanwhile(task: Task, typed: dict) -> list[tuple[str, str]]:
    """(label, value now) of each field whose saved value is not what the admin typed."""
    current = _form_values(task)
    return [(str(FIELD_LABELS[name]), _shown(task, name)) for name in EDITABLE
            if name in typed and _differs(task, name, typed[name], current[name])]


def _units(task: Task) -> list[tuple[int, str, int]]:
    """The admin's units, and any coordinating unit the task has outside them (kept)."""
    units = unit_options(current_user)
    known = {unit_id for unit_id, _name, _depth in units}
    return units + [(u.id, u.name, 0) for u in task.coordinating_units if u.id not in known]


def _edit_page(task: Task, values: dict, status: int = 200, *, errors=None, message=None,
               meanwhile=None):
    bad_ro = {ro for ro, names in SIX_RO.items() if any(n in (errors or {}) for n in names)}
    return render_template(
        "admin/task_edit.html", task=task, values=values, errors=errors or {},
        message=message, meanwhile=meanwhile or [], bad_ro=bad_ro, SIX_RO=SIX_RO,
        RO_LABELS=RO_LABELS, FIELD_LABELS=FIELD_LABELS, units=_units(task)), status


@bp.route("/<int:task_id>/edit", methods=["GET", "POST"])
@requires(*ADMINS)
def edit(task_id: int):
    """Every "6 rõ" field of the task, with the version it was read at."""
    task = _task(task_id)
    if request.method == "GET":
        return _edit_page(task, _form_values(task))
    typed = _posted(request.form)
    kept = {**request.form.to_dict(), "coordinating_unit_ids": typed["coordinating_unit_ids"]}
    try:
        changes = update_task(current_user, task, typed,
                              expected_version=request.form.get("version", ""),
                              note=request.form.get("note"))
    except (InvalidInput, Conflict, Forbidden) as exc:
        db.session.rollback()
        task = _task(task_id)
        if isinstance(exc, Conflict) and "version" in exc.fields:
            # Their input stays; the form now carries the version shown beside it, so
            # that saving again is a choice made knowing what changed.
            kept["version"] = task.version
            return _edit_page(task, kept, 409, message=stale_on_edit(),
                              meanwhile=_saved_meanwhile(task, typed))
        return _edit_page(task, kept, exc.status, errors=exc.fields, message=exc.message)
    db.session.commit()
    flash(_("The changes to %(code)s are saved; the unit is told.", code=task.code)
          if changes else _("Nothing was changed."), "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id))


def _stale_to_page(exc):
    if isinstance(exc, Conflict) and "version" in exc.fields:
        return Conflict(stale_on_page(), exc.fields)
    return exc


def _given(form) -> dict:
    """The fields the form sent, as typed (one left out is not changed)."""
    return {field.short_name: field.data for field in form
            if field.short_name != "csrf_token" and field.name in request.form}


@bp.route("/<int:task_id>/reassign", methods=["POST"])
@requires(*ADMINS)
def reassign(task_id: int):
    task = _task(task_id)
    form = ReassignForm(prefix="reassign")
    if not form.validate_on_submit():
        abort(400)
    old = task.lead_unit.name
    try:
        reassign_task(current_user, task, _given(form),
                      expected_version=request.form.get("version", ""))
    except (InvalidInput, Conflict, Forbidden) as exc:
        return refused(task, "reassign", form, _stale_to_page(exc))
    db.session.commit()
    if task.lead_unit.name != old:
        flash(_("%(code)s now led by %(unit)s; both units are told.", code=task.code,
                unit=task.lead_unit.name), "success")
    else:
        flash(_("The accountable owner of %(code)s is now %(owner)s.", code=task.code,
                owner=task.owner_name), "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id))


@bp.route("/<int:task_id>/cancel", methods=["POST"])
@requires(*ADMINS)
def cancel(task_id: int):
    task = _task(task_id)
    form = CancelForm(prefix="cancel")
    if not form.validate_on_submit():
        abort(400)
    try:
        cancel_task(current_user, task, note=form.note.data,
                    expected_version=request.form.get("version", ""))
    except (InvalidInput, Conflict, Forbidden) as exc:
        return refused(task, "cancel", form, _stale_to_page(exc))
    db.session.commit()
    flash(_("%(code)s is cancelled; the unit is told.", code=task.code), "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id))
