"""Posting a progress update: the daily duty of a unit on each open task."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from tracker.audit.service import record, record_changes
from tracker.auth.models import User
from tracker.cutoff.context import load_calendar
from tracker.cutoff.recolour import refresh_colour
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.scope import can_report_on
from tracker.tasks.models import OPEN_STATUSES, Status, Task
from tracker.tasks.schemas import INT_MESSAGES, MESSAGES
from tracker.updates.models import ProgressUpdate


def _http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValidationError(_("Must be an http:// or https:// link."))


_LONG = validate.Length(max=5000, error=_l("At most {max} characters."))


class UpdateInputSchema(Schema):
    progress = fields.Integer(
        required=True, strict=False, error_messages=INT_MESSAGES,
        validate=validate.Range(min=0, max=100, error=_l("Enter a number from 0 to 100.")),
    )
    work_done = fields.String(required=True, error_messages=MESSAGES, validate=[
        validate.Length(min=1, error=_l("Required.")), _LONG])
    obstacles = fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                              validate=_LONG)
    next_steps = fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                               validate=_LONG)
    evidence_url = fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                                 validate=[validate.Length(max=1000), _http_url])


_schema = UpdateInputSchema()


def parse_update_input(raw: dict) -> dict:
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    for name in ("obstacles", "next_steps", "evidence_url"):
        if cleaned.get(name) == "":
            cleaned[name] = None
    if cleaned.get("work_done") == "":
        cleaned["work_done"] = None
    try:
        return _schema.load(cleaned, unknown="exclude")
    except ValidationError as exc:
        fields_ = {k: [str(m) for m in (v if isinstance(v, list) else [v])]
                   for k, v in exc.messages_dict.items()}
        raise InvalidInput(_("Some fields are not valid."), fields_) from exc


def post_update(actor: User, task: Task, raw: dict, *, now: datetime) -> ProgressUpdate:
    """Record an update stamped `now` (the server's clock) and recolour the task.

    An update after the cutoff is accepted and counts for the next reporting day.
    """
    if not can_report_on(actor, task):
        raise Forbidden(_("Only a member of the lead unit can report on this task."))
    if task.status not in OPEN_STATUSES:
        raise Conflict(_("This task is not open for updates (status: %(s)s).", s=task.status))
    data = parse_update_input(raw)
    update = ProgressUpdate(
        task_id=task.id,
        author_id=actor.id,
        created_at=now,
        reporting_day=load_calendar().reporting_day(now),
        **data,
    )
    db.session.add(update)
    changes = {}
    if task.progress != data["progress"]:
        changes["progress"] = (task.progress, data["progress"])
        task.progress = data["progress"]
    if task.status != Status.IN_PROGRESS:
        changes["status"] = (task.status, Status.IN_PROGRESS)
        task.status = Status.IN_PROGRESS
    task.last_update_at = now
    task.updated_at = now
    task.version += 1
    db.session.flush()
    note = f"update #{update.id}"
    if changes:
        record_changes(task, actor, "progress_update", changes, at=now, note=note)
    else:
        record(task, actor, "progress_update", at=now, note=note)
    refresh_colour(task, now)
    return update
