"""Admin pages: a unit's official reports — its letterhead (issuing body, symbol, place,
signer, recipients) and the certificate its PDF reports are signed with. (Nested under
`admin`; admins of the unit's subtree only: the services ask tracker.scope.)"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.reports.letterhead import FIELDS, REQUIRED, current, set_report_settings
from tracker.reports.signing import (
    MAX_PKCS12_BYTES,
    add_signing_key,
    remove_signing_key,
    signing_key,
)
from tracker.scope import ADMINS, get_unit, requires
from tracker.units.models import Unit
from tracker.web.helpers import MAX_ID

bp = Blueprint("reports", __name__, url_prefix="/units/<int:unit_id>")


def _unit(unit_id: int) -> Unit:
    if unit_id > MAX_ID:
        abort(404)
    return get_unit(current_user, unit_id)


def _page(unit: Unit, *, values: dict | None = None, errors: dict | None = None,
          message: str | None = None, key_errors: dict | None = None, status: int = 200):
    stored = current(unit)
    return render_template(
        "admin/report_settings.html", unit=unit, values=values or stored,
        customised=stored["customised"], errors=errors or {}, message=message,
        key=signing_key(unit), key_errors=key_errors or {}, required=REQUIRED,
        limits=FIELDS, max_kb=MAX_PKCS12_BYTES // 1024,
        cutoff=current_app.config["TRACKER_CUTOFF_TIME"]), status


def _done(unit: Unit, message: str):
    """A change made: committed, said, and back to the page."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.reports.report_settings", unit_id=unit.id))


@bp.route("/report-settings")
@requires(*ADMINS)
def report_settings(unit_id: int):
    return _page(_unit(unit_id))


@bp.route("/report-settings", methods=["POST"])
@requires(*ADMINS)
def report_settings_save(unit_id: int):
    unit = _unit(unit_id)
    submitted = {name: request.form.get(name, "") for name in (*FIELDS, "recipients")}
    try:
        set_report_settings(current_user, unit, submitted)
    except InvalidInput as exc:
        db.session.rollback()
        return _page(unit, values=submitted, errors=exc.fields, message=exc.message,
                     status=422)
    return _done(unit, _("The report letterhead of %(unit)s was saved.", unit=unit.name))


@bp.route("/signing-key", methods=["POST"])
@requires(*ADMINS)
def signing_key_upload(unit_id: int):
    unit = _unit(unit_id)
    upload = request.files.get("pkcs12")
    data = upload.read(MAX_PKCS12_BYTES + 1) if upload else b""
    try:
        add_signing_key(current_user, unit, data, request.form.get("passphrase", ""))
    except InvalidInput as exc:
        db.session.rollback()
        return _page(unit, key_errors=exc.fields, message=exc.message, status=422)
    return _done(unit, _("The signing certificate of %(unit)s was saved.", unit=unit.name))


@bp.route("/signing-key/delete", methods=["POST"])
@requires(*ADMINS)
def signing_key_delete(unit_id: int):
    unit = _unit(unit_id)
    remove_signing_key(current_user, unit)
    return _done(unit, _("The signing certificate of %(unit)s was removed.", unit=unit.name))
