"""A unit's letterhead for its official reports — the issuing body, the symbol after the
number, the place name, the signer and the recipients (`UnitReportSettings`) — with
defaults drawn from the unit tree, and the one write path that sets them (the admin's
page and the API call `set_report_settings`)."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _

from tracker import clock
from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import User
from tracker.errors import Forbidden, InvalidInput
from tracker.extensions import db
from tracker.inputs import text
from tracker.reports.document import Letterhead
from tracker.reports.models import UnitReportSettings
from tracker.scope import may_configure_reports
from tracker.units.models import Unit, UnitKind

# field → longest text; the recipients are lines (at most RECIPIENT_LINES of LINE_MAX)
FIELDS = {"parent_body": 200, "issuing_body": 200, "symbol": 40, "place": 100,
          "signer_authority": 100, "signer_title": 100, "signer_name": 100}
REQUIRED = ("issuing_body", "symbol", "place", "signer_title")
RECIPIENT_LINES, LINE_MAX = 20, 200
SYMBOL = re.compile(r"[0-9A-ZĐ][0-9A-ZĐ.&-]*")
DEFAULT_RECIPIENTS = ("Lãnh đạo UBND (để báo cáo)",
                      "Các đơn vị trong phạm vi báo cáo (để thực hiện)", "Lưu: VT")


def _place(unit: Unit) -> str:
    """The place name of the date line (địa danh): a province's or a commune's name
    without its kind ("Phường Hạ Long" → "Hạ Long"); a department takes its parent's."""
    if unit.kind == UnitKind.PROVINCE:
        return unit.name
    if unit.kind == UnitKind.COMMUNE:
        kind = (unit.division_type or "").strip()
        if kind and unit.name.lower().startswith(kind.lower() + " "):
            return unit.name[len(kind) + 1:]
        return unit.name
    if unit.parent is not None:
        return _place(unit.parent)
    return "Hà Nội"


def defaults(unit: Unit) -> dict[str, str]:
    """What a unit without settings uses: the People's Committee as the body above and
    its office (Văn phòng, the standing body of the supervision) as the issuer."""
    if unit.kind == UnitKind.PROVINCE:
        parent = f"UBND {(unit.division_type or 'tỉnh')} {unit.name}".upper()
    elif unit.kind == UnitKind.COMMUNE:
        parent = f"UBND {unit.name}".upper()
    else:
        parent = ""
    return {
        "parent_body": parent,
        "issuing_body": "VĂN PHÒNG" if parent else unit.name.upper(),
        "symbol": "BC-VP",
        "place": _place(unit),
        "signer_authority": "",
        "signer_title": "CHÁNH VĂN PHÒNG" if parent else "THỦ TRƯỞNG ĐƠN VỊ",
        "signer_name": "",
        "recipients": "\n".join(DEFAULT_RECIPIENTS),
    }


def current(unit: Unit) -> dict:
    """The unit's settings as stored, else its defaults; "customised" says which."""
    row = db.session.get(UnitReportSettings, unit.id)
    if row is None:
        return {**defaults(unit), "customised": False}
    return {**{name: getattr(row, name) for name in (*FIELDS, "recipients")},
            "customised": True}


def letterhead_for(unit: Unit) -> Letterhead:
    values = current(unit)
    return Letterhead(
        **{name: values[name] for name in FIELDS},
        recipients=tuple(line for line in values["recipients"].split("\n") if line))


def _recipients(value, errors: dict[str, list[str]]) -> str:
    """The recipients as typed in a text area (one a line) or as a list of strings."""
    if isinstance(value, list | tuple):
        if not all(isinstance(line, str) for line in value):
            errors["recipients"] = [_("Not valid text.")]
            return ""
        value = "\n".join(value)
    raw = text(value, "recipients", errors, max_len=RECIPIENT_LINES * (LINE_MAX + 2))
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    if "recipients" in errors:
        return ""
    if len(lines) > RECIPIENT_LINES or any(len(line) > LINE_MAX for line in lines):
        errors["recipients"] = [_("At most %(n)s lines of %(m)s characters.",
                                  n=RECIPIENT_LINES, m=LINE_MAX)]
    return "\n".join(lines)


def set_report_settings(actor: User, unit: Unit, raw: dict, *,
                        now: datetime | None = None) -> UnitReportSettings:
    """Set `unit`'s letterhead from `raw` (a form's strings or the API's JSON): every
    field of `FIELDS` and "recipients"; blank optional fields stay blank."""
    if not may_configure_reports(actor, unit):
        raise Forbidden(_("Only an admin of this unit's subtree can change its reports."))
    if not isinstance(raw, dict):
        raise InvalidInput(_("The report settings were not saved."), {})
    now = now or clock.now()
    errors: dict[str, list[str]] = {}
    values = {name: text(raw.get(name), name, errors, max_len=limit,
                         required=name in REQUIRED) for name, limit in FIELDS.items()}
    values["symbol"] = values["symbol"].upper()
    if values["symbol"] and "symbol" not in errors and not SYMBOL.fullmatch(values["symbol"]):
        errors["symbol"] = [_("Capital letters, digits and hyphens, e.g. BC-VP.")]
    values["recipients"] = _recipients(raw.get("recipients"), errors)
    if errors:
        raise InvalidInput(_("The report settings were not saved."), errors)
    row = db.session.get(UnitReportSettings, unit.id) or UnitReportSettings(unit_id=unit.id)
    changed = sorted(name for name, value in values.items() if getattr(row, name) != value)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = now, actor.id
    db.session.add(row)
    record_security(SecurityEventKind.REPORT_SETTINGS_CHANGED, at=now, actor=actor,
                    unit=unit, detail=f"unit {unit.id}: {', '.join(changed) or 'unchanged'}")
    db.session.flush()
    return row
