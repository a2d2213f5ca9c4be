"""The one write path for tasks: web forms, the API and the CLI all call these."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from tracker.audit.service import record, snapshot
from tracker.auth.models import Role, User
from tracker.cutoff.recolour import refresh_colour
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.scope import can_see_unit, require_role
from tracker.tasks.models import Status, Task
from tracker.tasks.schemas import TaskInputSchema
from tracker.tasks.sixro import FIELD_LABELS, RO_LABELS, missing_ro
from tracker.units.models import Unit

_schema = TaskInputSchema()


def parse_task_input(raw: dict) -> dict:
    """Types (dates, numbers) and the "6 rõ" together, so that one answer names every
    field at fault; raises InvalidInput."""
    cleaned = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in raw.items()}
    fields: dict[str, list[str]] = {}
    try:
        data = _schema.load(cleaned)
    except ValidationError as exc:
        for key, value in exc.messages_dict.items():
            fields[key] = [str(m) for m in (value if isinstance(value, list) else [value])]
        data = None
    missing = missing_ro(cleaned)
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


def _units_in_scope(actor: User, data: dict) -> tuple[Unit, list[Unit]]:
    lead = db.session.get(Unit, data["lead_unit_id"])
    if lead is None or not can_see_unit(actor, lead):
        raise InvalidInput(
            _("The lead unit is not one you manage."),
            {"lead_unit_id": [_("Unknown unit or outside your scope.")]},
        )
    coordinating = []
    for unit_id in dict.fromkeys(data.get("coordinating_unit_ids") or []):
        unit = db.session.get(Unit, unit_id)
        if unit is None or not can_see_unit(actor, unit):
            raise InvalidInput(
                _("A coordinating unit is not one you manage."),
                {"coordinating_unit_ids": [_("Unknown unit or outside your scope.")]},
            )
        if unit.id != lead.id:
            coordinating.append(unit)
    return lead, coordinating


def create_task(actor: User, raw: dict, *, now: datetime) -> Task:
    """Assign a task. Only an admin, only to units in their subtree, only with "6 rõ"."""
    require_role(actor, Role.ADMIN)
    data = parse_task_input(raw)
    lead, coordinating = _units_in_scope(actor, data)
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
    return task
