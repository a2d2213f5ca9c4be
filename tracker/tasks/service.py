"""The one write path for tasks: web forms, the API and the CLI all call these."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from tracker import signals
from tracker.audit.service import record, snapshot
from tracker.auth.models import Role, User
from tracker.errors import Forbidden, InvalidInput
from tracker.extensions import db
from tracker.fence import stamp
from tracker.inputs import text
from tracker.rules.vietnamese import nfc
from tracker.scope import can_comment, can_see_unit, require_role
from tracker.tasks.colour import refresh_colour
from tracker.tasks.models import Comment, Status, Task
from tracker.tasks.schemas import TaskInputSchema, unit_id_field
from tracker.tasks.sixro import FIELD_LABELS, RO_LABELS, missing_ro
from tracker.units.models import Unit

_schema = TaskInputSchema()
_UNIT_ID = unit_id_field()


def lock_task(task: Task) -> Task:
    """Re-read `task` under its row lock (FOR NO KEY UPDATE, as progress updates lock it),
    so that a change — its colour above all — starts from the latest committed state and
    no other writer can slip in before the commit. Call it after `stamp()`."""
    locked = db.session.scalars(
        select(Task).where(Task.id == task.id).with_for_update(key_share=True, of=Task)
        .execution_options(populate_existing=True)).one()  # loading it refreshes `task`
    assert locked is task
    return task


def _messages(value) -> list[str]:
    """marshmallow's messages for one field, those of a list's items included."""
    if isinstance(value, dict):
        return [m for inner in value.values() for m in _messages(inner)]
    if isinstance(value, list | tuple):
        return [m for inner in value for m in _messages(inner)]
    return [str(value)]


def parse_task_input(raw: dict, *, bulk: bool = False) -> dict:
    """Text in NFC (whatever door it came in by: a form, JSON, an imported file), types
    (dates, numbers) and the "6 rõ" together, so that one answer names every
    field at fault; raises InvalidInput. With `bulk`, the lead unit is not part of the
    input: each unit chosen leads its own task."""
    cleaned = {k: (nfc(v.strip()) or None) if isinstance(v, str) else v for k, v in raw.items()}
    if cleaned.get("priority") is None:
        cleaned.pop("priority", None)  # left blank: the default, normal
    if bulk:
        cleaned.pop("lead_unit_id", None)
    fields: dict[str, list[str]] = {}
    try:
        data = _schema.load(cleaned)
    except ValidationError as exc:
        for key, value in exc.messages_dict.items():
            fields[key] = _messages(value)
        data = None
    missing = missing_ro(cleaned)
    if bulk:
        missing = {ro: [n for n in names if n != "lead_unit_id"] for ro, names in missing.items()}
        missing = {ro: names for ro, names in missing.items() if names}
    for ro, names in missing.items():
        for name in names:
            fields[name] = [_("Missing %(ro)s", ro=RO_LABELS[ro])]
    if missing:
        parts = [
            f"{RO_LABELS[ro]}: {', '.join(str(FIELD_LABELS[n]) for n in names)}"
            for ro, names in missing.items()
        ]
        raise InvalidInput(
            _("The task does not meet the \"6 rõ\". Missing: %(parts)s", parts="; ".join(parts)),
            fields,
        )
    if data is None:
        raise InvalidInput(_("Some fields are not valid."), fields)
    if data["deadline"] < data["start_date"]:
        raise InvalidInput(
            _("The deadline cannot be before the start date."),
            {"deadline": [_("The deadline cannot be before the start date.")]},
        )
    return data


def units_in_scope(actor: User, data: dict,
                    kept: frozenset[int] = frozenset()) -> tuple[Unit, list[Unit]]:
    """The lead and coordinating units of `data`, each in the actor's scope — but those
    in `kept`, which the task already has (an edit keeps them whoever set them)."""
    lead = db.session.get(Unit, data["lead_unit_id"])
    if lead is None or (lead.id not in kept and not can_see_unit(actor, lead)):
        raise InvalidInput(
            _("The lead unit is not one you manage."),
            {"lead_unit_id": [_("Unknown unit or outside your scope.")]},
        )
    if not lead.active:
        raise InvalidInput(_("The lead unit is retired."),
                           {"lead_unit_id": [_("This unit is retired.")]})
    coordinating = []
    for unit_id in dict.fromkeys(data.get("coordinating_unit_ids") or []):
        unit = db.session.get(Unit, unit_id)
        if unit is None or (unit.id not in kept and not can_see_unit(actor, unit)):
            raise InvalidInput(
                _("A coordinating unit is not one you manage."),
                {"coordinating_unit_ids": [_("Unknown unit or outside your scope.")]},
            )
        if not unit.active:
            raise InvalidInput(_("A coordinating unit is retired."),
                               {"coordinating_unit_ids": [_("This unit is retired.")]})
        if unit.id != lead.id:
            coordinating.append(unit)
    return lead, coordinating


def create_task(actor: User, raw: dict, *, now: datetime | None = None) -> Task:
    """Assign a task. Only an admin, only to units in their subtree, only with "6 rõ".
    It is stamped by the server (`stamp`) unless `now` places it (the demo, tests)."""
    require_role(actor, Role.ADMIN)
    now = stamp(now)
    data = parse_task_input(raw)
    lead, coordinating = units_in_scope(actor, data)
    code = data.get("code")
    if code and db.session.scalar(select(Task.id).where(Task.code == code)):
        raise InvalidInput(_("This code is already used."), {"code": [_("Already used.")]})

    task = Task(
        code=code or f"tmp-{uuid.uuid4().hex}",  # replaced once the id is known
        title=data["title"],
        description=data["description"],
        lead_unit=lead,
        owner_name=data["owner_name"],
        start_date=data["start_date"],
        deadline=data["deadline"],
        original_deadline=data["deadline"],
        leader_in_charge=data["leader_in_charge"],
        expected_output=data["expected_output"],
        assigning_authority=data["assigning_authority"],
        source_doc_number=data["source_doc_number"],
        source_doc_date=data["source_doc_date"],
        field=data.get("field"),
        priority=data["priority"],
        status=Status.NOT_STARTED,
        duty_since=now,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    task.coordinating_units = coordinating
    db.session.add(task)
    db.session.flush()
    if not code:
        task.code = f"NV-{now:%Y}-{task.id:06d}"
    values = {k: v for k, v in data.items() if k != "coordinating_unit_ids"}
    values["code"] = task.code
    values["coordinating_unit_ids"] = ",".join(str(u.id) for u in coordinating)
    record(task, actor, "create", at=now, new=snapshot(values))
    refresh_colour(task, now)
    signals.task_created.send(task, actor=actor, now=now)
    return task


BULK_MAX_UNITS = 5000


def _chosen_units(actor: User, unit_ids, errors: dict[str, list[str]]) -> list[Unit]:
    """The units of a bulk assignment, each once, in the order chosen; a unit that is
    unknown or outside the actor's scope is named by its place (`unit_ids.2`)."""
    if not isinstance(unit_ids, list | tuple) or not unit_ids:
        errors["unit_ids"] = [_("Choose at least one unit.")]
        return []
    if len(unit_ids) > BULK_MAX_UNITS:
        errors["unit_ids"] = [_("At most %(n)s units.", n=BULK_MAX_UNITS)]
        return []
    units: dict[int, Unit] = {}
    for index, unit_id in enumerate(unit_ids):
        try:
            unit = db.session.get(Unit, _UNIT_ID.deserialize(unit_id))
        except ValidationError:
            unit = None
        if unit is None or not can_see_unit(actor, unit):
            errors[f"unit_ids.{index}"] = [_("Unknown unit or outside your scope.")]
        elif not unit.active:
            errors[f"unit_ids.{index}"] = [_("This unit is retired.")]
        else:
            units.setdefault(unit.id, unit)
    return list(units.values())


def bulk_assign(actor: User, raw: dict, unit_ids, *,
                now: datetime | None = None) -> list[Task]:
    """One directive, one task per chosen unit (e.g. all 54 communes of a province), each
    tracked on its own. All or nothing: any refusal leaves no task behind, and the one
    answer names every unit and field at fault. `raw`'s own lead unit, if any, is ignored."""
    require_role(actor, Role.ADMIN)
    now = stamp(now)
    errors: dict[str, list[str]] = {}
    units = _chosen_units(actor, unit_ids, errors)
    messages = [_("Choose at least one unit.") if "unit_ids" in errors
                else _("Some units are unknown or outside your scope.")] if errors else []
    if raw.get("code"):
        errors["code"] = [_("Leave empty for a bulk assignment.")]
        messages.append(_("Codes are given one per task; leave the code empty."))
    try:
        parse_task_input(raw, bulk=True)
    except InvalidInput as exc:
        errors.update(exc.fields)
        messages.insert(0, exc.message)
    if errors:
        raise InvalidInput(" ".join(str(m) for m in messages), errors)
    return [create_task(actor, {**raw, "lead_unit_id": unit.id}, now=now) for unit in units]


COMMENT_MAX = 5000
COMMENT_KINDS = ("comment", "acknowledge")


def add_comment(actor: User, task: Task, body: str, *, now: datetime | None = None,
                kind: str = "comment"):
    """A comment by anyone who works on the task (viewers only read); an acknowledgement
    (ghi nhận) is a supervisor's note on a red item."""
    if not can_comment(actor, task, kind):
        raise Forbidden(_("You cannot comment on this task."))
    errors: dict[str, list[str]] = {}
    body = text(body, "body", errors, max_len=COMMENT_MAX, required=True)
    if kind not in COMMENT_KINDS:
        errors["kind"] = [_("Not a valid value.")]
    if errors:
        raise InvalidInput(_("Write the comment.") if not body else _("Some fields are not valid."),
                           errors)
    now = stamp(now)
    comment = Comment(task_id=task.id, author_id=actor.id, at=now, kind=kind, body=body)
    db.session.add(comment)
    db.session.flush()
    record(task, actor, kind, at=now, note=body)
    signals.comment_added.send(task, actor=actor, now=now, comment=comment)
    return comment
