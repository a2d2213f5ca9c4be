"""Marshmallow schemas for task input: types here, the "6 rõ" rule in `sixro`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from tracker.dates import EARLIEST, LATEST, TypedDate
from tracker.inputs import storable
from tracker.tasks.models import Priority
from tracker.types import MAX_ID

MESSAGES = {
    "invalid": _l("Not a valid value."),
    "required": _l("Required."),
    "null": _l("Required."),
}
DATE_MESSAGES = {**MESSAGES, "invalid": _l("Not a valid date (dd/mm/yyyy).")}
INT_MESSAGES = {**MESSAGES, "invalid": _l("Enter a whole number.")}


def _text(max_len: int) -> fields.String:
    return fields.String(load_default=None, allow_none=True, error_messages=MESSAGES,
                         validate=[validate.Length(
                             max=max_len, error=_l("At most {max} characters.")), storable])


def _date() -> fields.Date:
    """A date typed as dd/mm/yyyy or sent as yyyy-mm-dd, within a plan's possible life."""
    return TypedDate(load_default=None, allow_none=True, error_messages=DATE_MESSAGES,
                     validate=validate.Range(min=EARLIEST, max=LATEST,
                                             error=_l("Not a plausible date.")))


# A unit's id: a 32-bit row id (a larger number names no row and overflows PostgreSQL's
# integer, so it is refused here rather than by the database).
_ID_RANGE = validate.Range(min=1, max=MAX_ID, error=_l("Unknown unit or outside your scope."))


def unit_id_field(**kw) -> fields.Integer:
    return fields.Integer(strict=False, error_messages=INT_MESSAGES, validate=_ID_RANGE, **kw)


class TaskInputSchema(Schema):
    """A task as an admin assigns it. Every field may be missing at this level, so that
    the "6 rõ" check can name every missing one at once."""

    class Meta:
        unknown = EXCLUDE

    code = _text(64)
    title = _text(500)
    description = _text(20000)
    lead_unit_id = unit_id_field(load_default=None, allow_none=True)
    owner_name = _text(200)
    coordinating_unit_ids = fields.List(
        unit_id_field(), load_default=list, error_messages=MESSAGES,
        validate=validate.Length(max=500, error=_l("At most {max} units.")))
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
