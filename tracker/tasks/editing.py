"""An admin changes a task: edits any of its "6 rõ" fields, or reassigns its lead unit or
owner (giao lại). One write path for the edit page, the reassign form and the API's PATCH
and reassign: each checks the version the editor read (an optimistic lock: a second
editor is refused, nothing is overwritten), audits every field old → new and announces
the change (`signals.task_edited`, `signals.task_reassigned`)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from tracker import signals
from tracker.audit.service import record_changes
from tracker.auth.models import User
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.inputs import text
from tracker.scope import can_manage_task
from tracker.tasks.colour import refresh_colour
from tracker.tasks.facts import facts_now, record_if_changed
from tracker.tasks.models import Status, Task
from tracker.tasks.service import lock_task, parse_task_input, units_in_scope
from tracker.types import MAX_ID

EDITABLE = ("title", "description", "lead_unit_id", "owner_name", "coordinating_unit_ids",
            "start_date", "deadline", "leader_in_charge", "expected_output",
            "assigning_authority", "source_doc_number", "source_doc_date", "field",
            "priority")
REASSIGNABLE = ("lead_unit_id", "owner_name")
NOTE_MAX = 5000
FINISHED = (Status.DONE, Status.CANCELLED)


def stale_message() -> str:
    return _("The task was changed by someone else; reload it and try again.")


def check_version(task: Task, expected) -> None:
    """The editor read the task at version `expected` (a number, or as a form sends it);
    if it has changed since, Conflict (409) — the caller's change is not made. None
    checks nothing (the API checks its If-Match header itself)."""
    if expected is None:
        return
    if isinstance(expected, str):
        expected = expected.strip()
        if not (expected.isascii() and expected.isdigit() and 0 < len(expected) < 11):
            raise InvalidInput(_("Reload the task and try again."),
                               {"version": [_("Required.") if not expected
                                            else _("Not a valid value.")]})
        expected = int(expected)
    if not isinstance(expected, int) or isinstance(expected, bool) or expected > MAX_ID:
        raise InvalidInput(_("Reload the task and try again."),
                           {"version": [_("Not a valid value.")]})
    if expected != task.version:
        raise Conflict(stale_message(), {"version": [str(task.version)]})


def _as_input(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _current(task: Task) -> dict:
    current = {name: getattr(task, name) for name in EDITABLE
               if name != "coordinating_unit_ids"}
    current["coordinating_unit_ids"] = sorted(u.id for u in task.coordinating_units)
    return current


def _ids(units) -> str:
    return ",".join(str(u.id) for u in units)


def update_task(actor: User, task: Task, raw: dict, *, now: datetime | None = None,
                expected_version=None, note=None, action: str = "edit") -> dict[str, tuple]:
    """Change the task's fields given in `raw` (admin of the lead unit). With
    `expected_version`, a stale edit is refused (409) instead of silently overwriting
    someone else's change. The result must still meet the "6 rõ"; a new lead unit or
    coordinating unit must be in the actor's scope. A new lead unit owes its first update
    from its assignment (its duty starts now, as on a new task). The original deadline
    stays as it was. `note` (optional) says why. Returns the changes, field → (old, new)."""
    if not can_manage_task(actor, task):
        raise Forbidden(_("Only an admin of this unit can change the task."))
    now = stamp(now)
    lock_task(task)
    check_version(task, expected_version)
    errors = {name: [_("Not editable.")] for name in sorted(set(raw) - set(EDITABLE))}
    note = text(note, "note", errors, max_len=NOTE_MAX) or None
    current = _current(task)
    try:
        data = parse_task_input({**{k: _as_input(v) for k, v in current.items()},
                                 **{k: v for k, v in raw.items() if k in EDITABLE}})
    except InvalidInput as exc:
        raise InvalidInput(exc.message if not errors else _("Some fields are not valid."),
                           {**errors, **exc.fields}) from None
    if errors:
        raise InvalidInput(_("These fields cannot be changed here.") if "note" not in errors
                           else _("Some fields are not valid."), errors)
    kept = frozenset([task.lead_unit_id, *current["coordinating_unit_ids"]])
    lead, coordinating = units_in_scope(actor, data, kept)
    data["coordinating_unit_ids"] = sorted(u.id for u in coordinating)
    # The coordinating units change too when one of them becomes the lead.
    changes = {name: (current[name], data[name]) for name in EDITABLE
               if (name in raw or name == "coordinating_unit_ids")
               and data[name] != current[name]}
    if "lead_unit_id" in changes and task.status in FINISHED:
        raise Conflict(_("A finished task cannot be moved to another unit."),
                       {"lead_unit_id": [_("The task is finished.")]})
    if not changes:
        return {}
    old_lead, old_coordinating = task.lead_unit, list(task.coordinating_units)
    before = facts_now(task)
    for name, (_old, new) in changes.items():
        if name == "lead_unit_id":
            task.lead_unit = lead
            task.duty_since = now
        elif name == "coordinating_unit_ids":
            task.coordinating_units = coordinating
        else:
            setattr(task, name, new)
    record_if_changed(task.id, before, facts_now(task), now)
    task.version += 1
    task.updated_at = now
    # The trail keeps units by id, as the task's creation does; it names them when read
    # (tracker.tasks.wording), so a renamed unit reads by its name of today.
    audited = dict(changes)
    if "lead_unit_id" in audited:
        audited["lead_unit_id"] = (old_lead.id, lead.id)
    if "coordinating_unit_ids" in audited:
        audited["coordinating_unit_ids"] = (_ids(old_coordinating) or None,
                                            _ids(coordinating) or None)
    record_changes(task, actor, action, audited, at=now, note=note)
    refresh_colour(task, now)
    db.session.flush()
    if "lead_unit_id" in changes:
        signals.task_reassigned.send(task, actor=actor, now=now, old_unit=old_lead,
                                     changes=changes, note=note)
    else:
        signals.task_edited.send(task, actor=actor, now=now, changes=changes, note=note)
    return changes


def reassign_task(actor: User, task: Task, raw: dict, *, now: datetime | None = None,
                  expected_version=None) -> dict[str, tuple]:
    """Give the task to another lead unit and/or accountable owner (giao lại), with an
    optional note saying why (`raw`: lead_unit_id, owner_name, note). The old and the new
    unit are told. A change of neither is refused, naming both fields."""
    fields = {name: raw[name] for name in REASSIGNABLE if name in raw}
    changes = update_task(actor, task, fields, now=now, expected_version=expected_version,
                          note=raw.get("note"), action="reassign")
    if not changes:
        message = _("Choose another lead unit or another accountable owner.")
        raise InvalidInput(message, {name: [message] for name in REASSIGNABLE})
    return changes
