"""Admin pages: assign one task with the "6 rõ" checked field by field, or one directive
to many units at once (bulk assignment). (Nested under `admin`; admins only.)"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.reports.live import children_of, descendants
from tracker.scope import ADMINS, get_unit, requires
from tracker.search import SEARCH_MAX
from tracker.tasks.service import bulk_assign, create_task
from tracker.tasks.sixro import FIELD_LABELS, RO_LABELS, SIX_RO
from tracker.units.models import UnitKind
from tracker.web.helpers import MAX_ID, form_id, local_today, unit_options

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

FIELDS = ("code", "title", "description", "lead_unit_id", "owner_name", "start_date",
          "deadline", "leader_in_charge", "expected_output", "assigning_authority",
          "source_doc_number", "source_doc_date", "field", "priority")


def _raw(form) -> dict:
    """The form as typed, for the service to validate (as it does the API's input)."""
    raw = {name: form.get(name) for name in FIELDS}
    raw["coordinating_unit_ids"] = form.getlist("coordinating_unit_ids")
    return raw


def _by_field(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's errors as the page shows them: a refused unit (`unit_ids.3`) next to
    the list of units."""
    shown: dict[str, list[str]] = {}
    for name, messages in errors.items():
        field = shown.setdefault(name.split(".")[0], [])
        for message in messages:
            if message not in field:
                field.append(message)
    return shown


def _defaults() -> dict:
    return {"start_date": local_today().isoformat(), "priority": "normal",
            "coordinating_unit_ids": []}


def _values(form) -> dict:
    """What to put back into the form after a refusal."""
    values = form.to_dict()
    values["coordinating_unit_ids"] = form.getlist("coordinating_unit_ids")
    return values


def _page(template: str, status: int = 200, **context):
    return render_template(template, SIX_RO=SIX_RO, RO_LABELS=RO_LABELS,
                           FIELD_LABELS=FIELD_LABELS, units=unit_options(current_user),
                           **context), status


def _ro_with_errors(errors: dict) -> set[str]:
    return {ro for ro, names in SIX_RO.items() if any(n in errors for n in names)}


@bp.route("/new", methods=["GET", "POST"])
@requires(*ADMINS)
def task_new():
    if request.method == "GET":
        values = {**_defaults(), "lead_unit_id": request.args.get("lead", "")}
        return _page("admin/task_new.html", values=values, errors={}, message=None,
                     bad_ro=set())
    try:
        task = create_task(current_user, _raw(request.form))
    except InvalidInput as exc:
        db.session.rollback()
        return _page("admin/task_new.html", 422, values=_values(request.form),
                     errors=exc.fields, message=exc.message, bad_ro=_ro_with_errors(exc.fields))
    db.session.commit()
    flash(_("Task %(code)s assigned to %(unit)s.", code=task.code, unit=task.lead_unit.name),
          "success")
    return redirect(url_for("tasks.task_detail", task_id=task.id))


def _bulk_parent():
    """The unit whose children are offered (the admin's own unit unless one is chosen)."""
    under = form_id(request.values.get("under"))
    if under is None:
        return current_user.unit
    if not isinstance(under, int) or not under or under > MAX_ID:
        abort(404)
    return get_unit(current_user, under)


@bp.route("/bulk", methods=["GET", "POST"])
@requires(*ADMINS)
def task_bulk():
    parent = _bulk_parent()
    children = [unit for unit in children_of(parent) if unit.active]  # not the retired
    communes = [u.id for u in descendants(parent, UnitKind.COMMUNE)]
    context = {"parent": parent, "children": children, "commune_count": len(communes)}
    if request.method == "GET":
        return _page("admin/task_bulk.html", values={**_defaults(), "unit_ids": []},
                     errors={}, message=None, bad_ro=set(), **context)
    target = request.form.get("target")
    unit_ids = communes if target == "all_communes" else request.form.getlist("unit_ids")
    try:
        tasks = bulk_assign(current_user, _raw(request.form), unit_ids)
    except InvalidInput as exc:
        db.session.rollback()
        values = {**_values(request.form), "unit_ids": request.form.getlist("unit_ids")}
        fields = _by_field(exc.fields)
        return _page("admin/task_bulk.html", 422, values=values, errors=fields,
                     message=exc.message, bad_ro=_ro_with_errors(fields), **context)
    db.session.commit()
    flash(_("%(n)s tasks assigned, one per unit.", n=len(tasks)), "success")
    return redirect(url_for("tasks.task_list", q=tasks[0].title[:SEARCH_MAX]))
