"""Marshmallow schemas for task input: types here, the "6 rõ" rule in `sixro`."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from tracker.tasks.models import Priority

MESSAGES = {
    "invalid": _l("Not a valid value."),
    "required": _l("Required."),
    "null": _l("Required."),
}
DATE_MESSAGES = {**MESSAGES, "invalid": _l("Not a valid date (dd/mm/yyyy).")}
INT_MESSAGES = {**MESSAGES, "invalid": _l("Enter a whole number.")}


def _text(max_len: int) -> fields.String:
    return fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                         validate=validate.Length(
                             max=max_len, error=_l("At most {max} characters.")))


# Dates far outside any plan's life are typing mistakes (and overflow date arithmetic).
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def _date() -> fields.Date:
    return fields.Date(load_default=None, allow_none=True, error_messages=DATE_MESSAGES,
                       validate=validate.Range(min=EARLIEST, max=LATEST,
                                               error=_l("Not a plausible date.")))


class TaskInputSchema(Schema):
    """A task as an admin assigns it. Every field may be missing at this level, so that
    the "6 rõ" check can name every missing one at once."""

    class Meta:
        unknown = EXCLUDE

    code = _text(64)
    title = _text(500)
    description = _text(20000)
    lead_unit_id = fields.Integer(load_default=None, allow_none=True, strict=False,
                                  error_messages=INT_MESSAGES)
    owner_name = _text(200)
    coordinating_unit_ids = fields.List(fields.Integer(error_messages=INT_MESSAGES),
                                        load_default=list, error_messages=MESSAGES)
    start_date = _date()
    deadline = _date()
    leader_in_charge = _text(200)
    expected_output = _text(5000)
    assigning_authority = _text(300)
    source_doc_number = _text(100)
    source_doc_date = _date()
    field = _text(200)
    priority = fields.Enum(Priority, by_value=True, load_default=Priority.NORMAL,
                           error_messages={**MESSAGES,
                                           "unknown": _l("Choose normal, high or urgent.")})
