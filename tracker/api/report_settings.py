"""Each unit's letterhead for its official reports (Decree 30/2020/NĐ-CP): the issuing
body, the symbol, the place, the signer and the recipients — read and set by an admin of
the unit's subtree, through the service the admin's page uses."""

from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields

from tracker.api.base import MAX_ID, ApiBlueprint, actor, commit, json_object
from tracker.errors import Forbidden
from tracker.reports.letterhead import current, set_report_settings
from tracker.reports.signing import signing_key
from tracker.scope import ADMINS, get_unit, may_configure_reports, requires
from tracker.units.models import Unit

bp = ApiBlueprint("report-settings", __name__,
                  description="Each unit's letterhead and signer of its official reports.")

SETTINGS = f"/units/<int(max={MAX_ID}):unit_id>/report-settings"


class CertificateSchema(Schema):
    subject = fields.String()
    fingerprint = fields.String(metadata={"description": "SHA-256, hex."})
    not_after = fields.DateTime()
    uploaded_at = fields.DateTime()


class ReportSettingsSchema(Schema):
    parent_body = fields.String(metadata={"description": "Cơ quan chủ quản; may be blank."})
    issuing_body = fields.String(required=True, metadata={"description": "Cơ quan ban hành."})
    symbol = fields.String(required=True, metadata={"description": "Ký hiệu, e.g. BC-VP."})
    place = fields.String(required=True, metadata={"description": "Địa danh of the date."})
    signer_authority = fields.String(metadata={"description": "e.g. KT. CHỦ TỊCH."})
    signer_title = fields.String(required=True)
    signer_name = fields.String()
    recipients = fields.List(fields.String(), metadata={"description": "Nơi nhận, a line each."})
    customised = fields.Boolean(dump_only=True, metadata={
        "description": "false: the unit has never saved its own and uses these defaults."})
    signing_certificate = fields.Nested(CertificateSchema, dump_only=True, allow_none=True,
                                        metadata={"description": "Uploaded on the admin page."})


def _unit(unit_id: int) -> Unit:
    unit = get_unit(actor(), unit_id)
    if not may_configure_reports(actor(), unit):
        raise Forbidden(_("Only an admin of this unit's subtree can change its reports."))
    return unit


def _dump(unit: Unit) -> dict:
    values = current(unit)
    return {**values, "recipients": [line for line in values["recipients"].split("\n") if line],
            "signing_certificate": signing_key(unit)}


@bp.route(SETTINGS)
@bp.response(200, ReportSettingsSchema)
@requires(*ADMINS)
def report_settings(unit_id: int):
    """The unit's letterhead, or the defaults it uses until one is saved (admin)."""
    return _dump(_unit(unit_id))


@bp.route(SETTINGS, methods=["PUT"])
@bp.doc(requestBody={"required": True,
                     "content": {"application/json": {"schema": ReportSettingsSchema}}})
@bp.response(200, ReportSettingsSchema)
@requires(*ADMINS)
def report_settings_put(unit_id: int):
    """Set the whole letterhead (admin of the unit's subtree); 422 names the fields."""
    unit = _unit(unit_id)
    set_report_settings(actor(), unit, json_object())
    commit()
    return _dump(unit)
