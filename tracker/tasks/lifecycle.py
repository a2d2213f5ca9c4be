"""Completion and cancellation: submit → confirm (done) or return (back to work).

The completion time of a task is when its unit *submitted* the completion that a
supervisor then confirmed, so a slow confirmation never makes a unit late. Every change is
stamped by the server (`stamp`, unless `now` places it) and made on the task re-read under
its row lock (`lock_task`), before its state is checked.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import signals
from tracker.audit.service import record, record_changes
from tracker.auth.models import User
from tracker.dates import LATEST, parse_date
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.inputs import one_text, text
from tracker.scope import can_manage_task, can_report_on, can_supervise
from tracker.tasks.colour import refresh_colour
from tracker.tasks.editing import check_version
from tracker.tasks.facts import facts_now, record_if_changed
from tracker.tasks.models import (
    OPEN_STATUSES,
    ExtensionRequest,
    ExtensionStatus,
    Status,
    Task,
)
from tracker.tasks.service import lock_task

RESULT_MAX = 20000
NOTE_MAX = 5000  # a note on a decision, a reason for an extension


def _change(task: Task, actor: User, action: str, now: datetime, note: str | None,
            **values) -> None:
    changes = {k: (getattr(task, k), v) for k, v in values.items() if getattr(task, k) != v}
    before = facts_now(task)
    for key, value in values.items():
        setattr(task, key, value)
    record_if_changed(task.id, before, facts_now(task), now)
    task.updated_at = now
    task.version += 1
    if changes:
        record_changes(task, actor, action, changes, at=now, note=note)
    else:
        record(task, actor, action, at=now, note=note)
    refresh_colour(task, now)


def submit_completion(actor: User, task: Task, *, result: str,
                      now: datetime | None = None) -> None:
    """The lead unit reports the task complete, with its product (result/evidence)."""
    now = stamp(now)
    lock_task(task)
    if not can_report_on(actor, task):
        raise Forbidden(_("Only a member of the lead unit can submit this task."))
    if task.status not in OPEN_STATUSES:
        raise Conflict(_("Only an open task can be submitted."))
    result = one_text(result, "result", max_len=RESULT_MAX, required=True,
                      message=_("Describe the product of the task."))
    _change(task, actor, "submit", now, None, status=Status.SUBMITTED, submitted_at=now,
            result=result, progress=100)
    db.session.flush()
    signals.completion_submitted.send(task, actor=actor, now=now)


def confirm_completion(actor: User, task: Task, *, now: datetime | None = None,
                       note: str | None = None):
    now = stamp(now)
    lock_task(task)
    if not can_supervise(actor, task):
        raise Forbidden(_("Only a supervisor of this unit can confirm the completion."))
    if task.status != Status.SUBMITTED:
        raise Conflict(_("Only a task awaiting confirmation can be confirmed."))
    note = one_text(note, "note", max_len=NOTE_MAX, message=_("Some fields are not valid."))
    _change(task, actor, "confirm", now, note or None, status=Status.DONE, confirmed_at=now,
            confirmed_by_id=actor.id)
    db.session.flush()
    signals.completion_confirmed.send(task, actor=actor, now=now, note=note or None)


def return_completion(actor: User, task: Task, *, note: str,
                      now: datetime | None = None) -> None:
    """Send a submitted task back: it resumes with its deadline and its daily duties."""
    now = stamp(now)
    lock_task(task)
    if not can_supervise(actor, task):
        raise Forbidden(_("Only a supervisor of this unit can return the completion."))
    if task.status != Status.SUBMITTED:
        raise Conflict(_("Only a task awaiting confirmation can be returned."))
    note = one_text(note, "note", max_len=NOTE_MAX, required=True,
                    message=_("Say why the task is returned."))
    _change(task, actor, "return", now, note, status=Status.RETURNED,
            submitted_at=None, duty_since=now)
    db.session.flush()
    signals.completion_returned.send(task, actor=actor, now=now, note=note)


def cancel_task(actor: User, task: Task, *, note: str, now: datetime | None = None,
                expected_version=None) -> None:
    """An admin of the lead unit ends an unfinished task, saying why; the unit is told.
    With `expected_version` (the version the admin read), a task changed meanwhile is not
    cancelled (409)."""
    now = stamp(now)
    lock_task(task)
    if not can_manage_task(actor, task):
        raise Forbidden(_("Only an admin of this unit can cancel the task."))
    check_version(task, expected_version)
    if task.status in (Status.DONE, Status.CANCELLED):
        raise Conflict(_("A finished task cannot be cancelled."))
    note = one_text(note, "note", max_len=NOTE_MAX, required=True,
                    message=_("Say why the task is cancelled."))
    _change(task, actor, "cancel", now, note, status=Status.CANCELLED,
            cancelled_at=now)
    db.session.flush()
    signals.task_cancelled.send(task, actor=actor, now=now, note=note)


def request_extension(actor: User, task: Task, *, new_deadline, reason: str,
                      now: datetime | None = None) -> ExtensionRequest:
    """The lead unit asks for a later deadline (a date, or as typed: dd/mm/yyyy or
    yyyy-mm-dd), with a reason."""
    now = stamp(now)
    lock_task(task)
    if not can_report_on(actor, task):
        raise Forbidden(_("Only a member of the lead unit can request an extension."))
    if task.status in (Status.DONE, Status.CANCELLED):
        raise Conflict(_("A finished task cannot be extended."))
    errors: dict[str, list[str]] = {}
    typed, new_deadline = new_deadline, parse_date(new_deadline)
    blank = typed is None or (isinstance(typed, str) and not typed.strip())
    if new_deadline is None and not blank:
        errors["requested_deadline"] = [_("Enter the date as dd/mm/yyyy.")]
    elif new_deadline is None or new_deadline <= task.deadline or new_deadline > LATEST:
        errors["requested_deadline"] = [_("Must be later than the current deadline.")]
    reason = text(reason, "reason", errors, max_len=NOTE_MAX, required=True)
    if errors:
        raise InvalidInput(_("The extension request is not complete."), errors)
    pending = db.session.scalar(select(ExtensionRequest.id).where(
        ExtensionRequest.task_id == task.id,
        ExtensionRequest.status == ExtensionStatus.PENDING))
    if pending:
        raise Conflict(_("An extension request for this task is already pending."))
    request = ExtensionRequest(task_id=task.id, requested_by_id=actor.id, requested_at=now,
                               current_deadline=task.deadline,
                               requested_deadline=new_deadline, reason=reason)
    db.session.add(request)
    db.session.flush()
    # Not the "deadline" field: nothing changes until a supervisor approves.
    record(task, actor, "extension_request", at=now, field="requested_deadline",
           old=task.deadline, new=new_deadline, note=reason)
    signals.extension_requested.send(task, actor=actor, now=now, request=request)
    return request


def decide_extension(actor: User, request: ExtensionRequest, *, approve: bool,
                     note: str | None, now: datetime | None = None) -> None:
    """A supervisor approves (the deadline moves) or rejects an extension request."""
    now = stamp(now)
    task = lock_task(db.session.get(Task, request.task_id))
    db.session.refresh(request)  # decided meanwhile? (deciders hold the task's lock)
    if not can_supervise(actor, task):
        raise Forbidden(_("Only a supervisor of this unit can decide on the extension."))
    if request.status != ExtensionStatus.PENDING:
        raise Conflict(_("This request has already been decided."))
    note = one_text(note, "note", max_len=NOTE_MAX, required=not approve,
                    message=_("Some fields are not valid.") if approve
                    else _("Say why the extension is rejected."))
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    request.decided_by_id = actor.id
    request.decided_at = now
    request.decision_note = note or None
    if approve:
        _change(task, actor, "extension_approved", now, request.decision_note,
                deadline=request.requested_deadline)
    else:
        record(task, actor, "extension_rejected", at=now, note=request.decision_note)
    db.session.flush()
    signals.extension_decided.send(task, actor=actor, now=now, request=request)
