"""Marshmallow schemas for task input: types here, the "6 rõ" rule in `sixro`."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from tracker.tasks.models import Priority


def _text(max_len: int) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=max_len))


class TaskInputSchema(Schema):
    """A task as an admin assigns it. Every field may be missing at this level, so that
    the "6 rõ" check can name every missing one at once."""

    class Meta:
        unknown = EXCLUDE

    code = _text(64)
    title = _text(500)
    description = _text(20000)
    lead_unit_id = fields.Integer(load_default=None, allow_none=True, strict=False)
    owner_name = _text(200)
    coordinating_unit_ids = fields.List(fields.Integer(), load_default=list)
    start_date = fields.Date(load_default=None, allow_none=True)
    deadline = fields.Date(load_default=None, allow_none=True)
    leader_in_charge = _text(200)
    expected_output = _text(5000)
    assigning_authority = _text(300)
    source_doc_number = _text(100)
    source_doc_date = fields.Date(load_default=None, allow_none=True)
    field = _text(200)
    priority = fields.Enum(Priority, by_value=True, load_default=Priority.NORMAL)
