"""Admin pages: the unit tree, one level at a time, and its departments (sở, ngành) —
added under the nation or a province, renamed, retired and reactivated. (The tree's page is
`admin.units`; the changes are nested under `admin` as `admin.departments`; admins only.)"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.departments.service import add_department, rename_department, set_department_active
from tracker.errors import Conflict, InvalidInput
from tracker.extensions import db
from tracker.reports.live import children_of, rollup
from tracker.rules.units import unit_colour
from tracker.scope import ADMINS, get_unit, may_add_department, may_manage_department, requires
from tracker.units.models import Unit
from tracker.web.helpers import KIND_LABELS, breadcrumb

bp = Blueprint("departments", __name__, url_prefix="/units")


def tree_page(unit: Unit, *, status: int = 200, errors: dict | None = None,
              values: dict | None = None, message: str | None = None):
    """The unit with each unit directly below it and their subtree counts; the forms that
    change departments where the admin may use them."""
    totals = rollup(unit, with_users=True)
    children = [(child, totals[child.id]) for child in children_of(unit)]
    may_manage = may_manage_department(current_user, unit)
    if values is None:  # the rename form shows the name; the form adding one is empty
        values = {"name": unit.name} if may_manage else {}
    return render_template(
        "admin/units.html", unit=unit, counts=totals[unit.id], children=children,
        trail=breadcrumb(current_user, unit), colour_of=unit_colour, KIND_LABELS=KIND_LABELS,
        may_add=may_add_department(current_user, unit), may_manage=may_manage,
        errors=errors or {}, values=values, message=message), status


@bp.route("/<int:unit_id>/departments", methods=["POST"])
@requires(*ADMINS)
def add(unit_id: int):
    """Add a department under this unit (the nation or a province of the admin's scope)."""
    parent = get_unit(current_user, unit_id)
    try:
        unit = add_department(current_user, parent=parent, name=request.form.get("name"),
                              code=request.form.get("code"))
    except InvalidInput as exc:
        db.session.rollback()
        return tree_page(get_unit(current_user, unit_id), status=422, errors=exc.fields,
                         values=request.form.to_dict(), message=exc.message)
    db.session.commit()
    flash(_("Department %(name)s added (code %(code)s).", name=unit.name, code=unit.code),
          "success")
    return redirect(url_for("admin.units", unit_id=unit.id))


@bp.route("/<int:unit_id>/name", methods=["POST"])
@requires(*ADMINS)
def rename(unit_id: int):
    unit = get_unit(current_user, unit_id)
    try:
        changed = rename_department(current_user, unit, request.form.get("name"))
    except InvalidInput as exc:
        db.session.rollback()
        return tree_page(get_unit(current_user, unit_id), status=422, errors=exc.fields,
                         values=request.form.to_dict(), message=exc.message)
    db.session.commit()
    if changed:
        flash(_("The department is now named %(name)s.", name=unit.name), "success")
    return redirect(url_for("admin.units", unit_id=unit.id))


@bp.route("/<int:unit_id>/active", methods=["POST"])
@requires(*ADMINS)
def set_active(unit_id: int):
    """Retire (refused while it has open tasks or active users, named) or reactivate."""
    unit = get_unit(current_user, unit_id)
    active = request.form.get("active") == "1"
    try:
        set_department_active(current_user, unit, active)
    except Conflict as exc:
        db.session.rollback()
        return tree_page(get_unit(current_user, unit_id), status=exc.status,
                         message=exc.message)
    db.session.commit()
    flash(_("%(name)s is active again.", name=unit.name) if active else
          _("%(name)s is retired: it takes no new task or user.", name=unit.name), "success")
    return redirect(url_for("admin.units", unit_id=unit.id))
