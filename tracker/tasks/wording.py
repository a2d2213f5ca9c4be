"""The audit trail in words (nhật ký thay đổi): each entry as users read it, for the task
page, the audit CSV and any other listing of it.

An entry keeps facts in codes (`action`, `field`, values as ISO text, UTC times): this is
the one place that says them as the UI does — actions as verbs ("Tạo nhiệm vụ", "Trả lại
hoàn thành"), fields by the labels the forms use (`tracker.tasks.sixro.FIELD_LABELS`),
statuses and priorities by `tracker.labels`, dates as dd/mm/yyyy and times in ICT, units
and people by name. An action or a field it does not know is shown as stored, never
dropped (tests/test_audit_wording.py proves every one the code writes has its words).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.auth.models import User
from tracker.extensions import db
from tracker.labels import PRIORITY_LABELS, STATUS_LABELS, dmy, ict
from tracker.tasks.sixro import FIELD_LABELS
from tracker.units.models import Unit

ACTION_LABELS = {
    "create": _l("Created the task"),
    "edit": _l("Edited the task"),
    "progress_update": _l("Posted a progress update"),
    "submit": _l("Submitted the completion"),
    "confirm": _l("Confirmed the completion"),
    "return": _l("Returned the completion"),
    "cancel": _l("Cancelled the task"),
    "reassign": _l("Reassigned the task"),
    "extension_request": _l("Requested an extension"),
    "extension_approved": _l("Approved the extension"),
    "extension_rejected": _l("Rejected the extension"),
    "comment": _l("Commented"),
    "acknowledge": _l("Acknowledged the red task"),
    "nudge": _l("Nudged the unit"),
    "evidence": _l("Added evidence"),
    "policy": _l("Changed the colour policy"),
}

# The task's form fields are labelled as the forms label them; the rest are the fields
# the lifecycle, the updates and the policy write.
AUDIT_FIELD_LABELS = {
    **FIELD_LABELS,
    "status": _l("Status"),
    "progress": _l("Progress"),
    "result": _l("Product / result"),
    "submitted_at": _l("Submitted at"),
    "confirmed_at": _l("Confirmed at"),
    "confirmed_by_id": _l("Confirmed by"),
    "cancelled_at": _l("Cancelled at"),
    "duty_since": _l("Daily updates owed from"),
    "requested_deadline": _l("New deadline"),
    "warning_working_days": _l("Warning window (working days before the deadline)"),
    "missed_days_to_red": _l("Consecutive missed reporting days that turn a task red"),
}

DATE_FIELDS = frozenset({"start_date", "deadline", "source_doc_date", "requested_deadline"})
TIME_FIELDS = frozenset({"submitted_at", "confirmed_at", "cancelled_at", "duty_since"})
UNIT_FIELDS = frozenset({"lead_unit_id", "coordinating_unit_ids"})
USER_FIELDS = frozenset({"confirmed_by_id"})
_UPDATE_NOTE = re.compile(r"update #(\d+)")


@dataclass(frozen=True)
class Change:
    """One field's change in words: its label, the value before and after ("" for none)."""

    label: str
    old: str
    new: str

    def __str__(self) -> str:
        if not self.old:
            return f"{self.label}: {self.new or '–'}"
        return f"{self.label}: {self.old} → {self.new or '–'}"


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as users read it."""

    at: str  # dd/mm/yyyy HH:MM:SS, ICT
    who: str
    action: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def field_label(name: str) -> str:
    label = AUDIT_FIELD_LABELS.get(name)
    return str(label) if label is not None else name


class _Names:
    """The units' and people's names an entry's values refer to, read once per listing."""

    def __init__(self, entries) -> None:
        units: set[int] = set()
        users: set[int] = set()
        for entry in entries:
            for name, value in _fields(entry):
                if name in UNIT_FIELDS:
                    units.update(_ids(value))
                elif name in USER_FIELDS:
                    users.update(_ids(value))
        self.units = dict(db.session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(units))).all()) if units else {}
        self.users = {u.id: person(u) for u in db.session.scalars(
            select(User).where(User.id.in_(users)))} if users else {}


def _ids(value: str | None) -> list[int]:
    return [int(part) for part in (value or "").split(",") if part.strip().isdigit()]


def _fields(entry) -> list[tuple[str, str | None]]:
    """(field, value) pairs an entry holds: its one change, or a creation's snapshot."""
    if entry.action == "create" and entry.new_value:
        try:
            return list(json.loads(entry.new_value).items())
        except (ValueError, AttributeError):
            return []
    if entry.field:
        return [(entry.field, entry.old_value), (entry.field, entry.new_value)]
    return []


def person(user: User | None) -> str:
    if user is None:
        return str(_("system"))
    return f"{user.full_name} ({user.username})" if user.full_name else user.username


def value_text(name: str, value: str | None, names: _Names | None = None) -> str:
    """A stored value as the UI shows it; as stored when it cannot be read."""
    if value is None or value == "":
        return ""
    try:
        if name == "status":
            return str(STATUS_LABELS.get(value, value))
        if name == "priority":
            return str(PRIORITY_LABELS.get(value, value))
        if name == "progress":
            return f"{int(value)}%"
        if name in DATE_FIELDS:
            return dmy(date.fromisoformat(value[:10]))
        if name in TIME_FIELDS:
            return ict(datetime.fromisoformat(value))
        if names is not None and name in UNIT_FIELDS:
            return ", ".join(names.units.get(i, str(i)) for i in _ids(value))
        if names is not None and name in USER_FIELDS:
            return ", ".join(names.users.get(i, str(i)) for i in _ids(value))
    except ValueError:
        return value
    return value


def _note(entry) -> str:
    note = entry.note or ""
    match = _UPDATE_NOTE.fullmatch(note) if entry.action == "progress_update" else None
    return _("Update #%(id)s", id=match.group(1)) if match else note


def _changes(entry, names: _Names) -> list[Change]:
    if entry.action == "create":
        return [Change(field_label(name), "", value_text(name, value, names))
                for name, value in _fields(entry) if value not in (None, "")]
    if not entry.field:
        return []
    return [Change(field_label(entry.field), value_text(entry.field, entry.old_value, names),
                   value_text(entry.field, entry.new_value, names))]


def describe(entries: Iterable) -> list[AuditLine]:
    """The entries (AuditEntry rows, their actors loaded) in words, in the given order."""
    entries = list(entries)
    names = _Names(entries)
    return [AuditLine(at=ict(entry.at, seconds=True), who=person(entry.actor),
                      action=action_label(entry.action), changes=_changes(entry, names),
                      note=_note(entry)) for entry in entries]


def csv_rows(entries: Iterable) -> Iterable[list[str]]:
    """The CSV's header and rows: one row per changed field (an entry with none, one row),
    in the same words as the page."""
    yield [_("Time"), _("Who"), _("Action"), _("Changed field"), _("Old value"), _("New value"),
           _("Note")]
    for line in describe(entries):
        for change in line.changes or [None]:
            yield [line.at, line.who, line.action, change.label if change else "",
                   change.old if change else "", change.new if change else "", line.note]
