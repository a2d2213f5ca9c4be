"""The API's resources as marshmallow schemas: the one definition that validates input,
shapes output and generates the OpenAPI document.

Input that a service validates itself (a task's "6 rõ", a progress update) is described by
the service's own schema (`TaskInputSchema`, `UpdateInputSchema`), extended here only with
the bounds a database needs (32-bit ids, dates the calendar can handle).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from tracker.api.base import FIRST_DATE, LAST_DATE, MAX_ID
from tracker.api.dumping import QuickDump
from tracker.auth.models import Role
from tracker.auth.passwords import MIN_LENGTH as PASSWORD_MIN
from tracker.auth.service import (
    EMAIL_MAX,
    EMAIL_RE,
    FULL_NAME_MAX,
    PHONE_MAX,
    PHONE_RE,
    USERNAME_RE,
)
from tracker.paging import MAX_PAGE, MAX_PER_PAGE, PER_PAGE
from tracker.search import search_field
from tracker.tasks.listing import TaskFilterSchema
from tracker.tasks.models import Priority, Status
from tracker.tasks.schemas import TaskInputSchema
from tracker.units.models import UnitKind

COLOURS = ("green", "yellow", "red")
UNIT_COLOURS = (*COLOURS, "none")  # a unit with no task counted (tracker.rules.units)
STATUSES = tuple(s.value for s in Status)


def _in_date_window(value) -> None:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValidationError(f"Must be between {FIRST_DATE} and {LAST_DATE}.")


def _id(**kw) -> fields.Integer:
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kw)


def _date(**kw) -> fields.Date:
    meta = {"description": f"YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}"}
    return fields.Date(validate=_in_date_window, metadata=meta, **kw)


def _one_of(values, **kw) -> fields.String:
    return fields.String(validate=validate.OneOf(list(values)), **kw)


def _text(**kw) -> fields.String:
    return fields.String(allow_none=True, **kw)


class ErrorSchema(Schema):
    """Every 4xx and 5xx answer."""

    code = fields.String(required=True, metadata={"description": "e.g. invalid, not_found"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", required=True, keys=fields.String(),
                          values=fields.List(fields.String()),
                          metadata={"description": "The offending fields, e.g. "
                                                   '{"items.2.progress": ["…"]}'})


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(1, MAX_PER_PAGE))


def _page_schema(name: str, item: type[Schema]) -> type[Schema]:
    return QuickDump.from_dict({
        "items": fields.List(fields.Nested(item)),
        "page": fields.Integer(), "per_page": fields.Integer(),
        "total": fields.Integer(), "pages": fields.Integer(),
        "total_exact": fields.Boolean(metadata={"description": (
            "False when the list holds more than were counted (tracker.paging: 10,000 "
            "tasks, 1,000 matches of a search, or up to this page's end): `total` is then a "
            "lower bound, and `pages` reaches one page past this one.")}),
    }, name=name)


# --- units and users ------------------------------------------------------------------


class UnitBriefSchema(QuickDump):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class UnitSchema(UnitBriefSchema):
    kind = _one_of(k.value for k in UnitKind)
    division_type = _text()
    short_name = _text()
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()
    active = fields.Boolean()


class UnitDetailSchema(UnitSchema):
    children = fields.List(fields.Nested(UnitSchema))


class UnitQuerySchema(Schema):
    parent_id = _id(metadata={"description": "Only the children of this unit."})
    kind = _one_of(k.value for k in UnitKind)
    q = search_field("Text in the unit's name or code")


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    email = _text()
    phone = _text()
    role = _one_of(r.value for r in Role)
    unit_id = fields.Integer()
    unit = fields.Nested(UnitBriefSchema)
    active = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class UserCreateSchema(Schema):
    """A new account, as `tracker.auth.service.create_user` checks it (the API documents
    it here; the service validates, as for the admin page)."""

    username = fields.String(required=True, validate=validate.Regexp(USERNAME_RE))
    password = fields.String(load_only=True, validate=validate.Length(PASSWORD_MIN, 1024),
                             metadata={"description": "Left out for a user who logs in only "
                                       "with single sign-on (when configured); refused when "
                                       "the deployment turned local passwords off."})
    role = _one_of((r.value for r in Role), required=True)
    unit_id = _id(required=True)
    full_name = fields.String(load_default="", validate=validate.Length(max=FULL_NAME_MAX))
    email = fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(max=EMAIL_MAX), validate.Regexp(EMAIL_RE)],
        metadata={"description": "With a dot in its domain: x@y is refused."})
    phone = fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(max=PHONE_MAX), validate.Regexp(PHONE_RE)],
        metadata={"description": "8 to 15 digits; spaces, dots, dashes, brackets and a "
                                 "leading + allowed."})


class UserContactSchema(Schema):
    """Contact details, as `tracker.auth.service.change_contact` checks them: only the
    fields sent change; null or "" removes an e-mail or a phone."""

    full_name = fields.String(validate=validate.Length(max=FULL_NAME_MAX))
    email = fields.String(allow_none=True, validate=[
        validate.Length(max=EMAIL_MAX), validate.Regexp(EMAIL_RE)])
    phone = fields.String(allow_none=True, validate=[
        validate.Length(max=PHONE_MAX), validate.Regexp(PHONE_RE)])


class TokenSchema(Schema):
    """A personal API token as its owner and their admins see it (never the token)."""

    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class PasswordChangeSchema(Schema):
    """Your own new password, as `tracker.auth.service.change_own_password` checks it."""

    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True, metadata={
        "description": "At least 8 characters (12 for an admin), at most 1,024; not a "
                       "common password; not containing the username."})
    end_other_sessions = fields.Boolean(load_default=False, metadata={
        "description": "End every web session of yours."})


class PasswordChangedSchema(Schema):
    sessions_ended = fields.Integer()


class UserQuerySchema(PageArgsSchema):
    unit_id = _id(metadata={"description": "Users of this unit's subtree."})
    role = _one_of(r.value for r in Role)
    active = fields.Boolean()
    q = search_field("Text in the username, full name, e-mail or home unit's name")


UserPageSchema = _page_schema("UserPage", UserSchema)


# --- tasks ------------------------------------------------------------------------------


class TaskSchema(QuickDump):
    """A task as the API answers it (dumped by `QuickDump`: a page holds 100)."""

    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    description = fields.String()
    lead_unit_id = fields.Integer()
    lead_unit = fields.Nested(UnitBriefSchema)
    coordinating_unit_ids = fields.List(fields.Integer())
    owner_name = fields.String()
    start_date = fields.Date()
    deadline = fields.Date()
    original_deadline = fields.Date()
    leader_in_charge = fields.String()
    expected_output = fields.String()
    assigning_authority = fields.String()
    source_doc_number = fields.String()
    source_doc_date = fields.Date()
    field = _text()
    priority = _one_of(p.value for p in Priority)
    progress = fields.Integer()
    result = _text()
    status = _one_of(STATUSES)
    colour = _one_of(COLOURS, allow_none=True)
    colour_reason = _text()
    colour_days = fields.Integer()
    last_update_at = fields.DateTime(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer(metadata={"description": "Also the ETag; send it as If-Match."})


class TaskBodySchema(TaskInputSchema):
    """A task as an admin assigns it ("6 rõ": every rõ's fields are needed; the answer to
    an incomplete task names each missing one). The service's own schema: it validates."""


class BulkAssignSchema(TaskBodySchema):
    """One directive for many units: one task per unit, all or nothing."""

    class Meta:
        exclude = ("lead_unit_id", "code")
        unknown = EXCLUDE

    unit_ids = fields.List(_id(), required=True, validate=validate.Length(1, 5000))


class TaskPatchSchema(TaskBodySchema):
    """The fields an admin may change; send only those that change, with If-Match."""

    class Meta:
        exclude = ("code",)
        unknown = EXCLUDE


class ReassignSchema(Schema):
    """Another lead unit and/or accountable owner, and why (optional)."""

    lead_unit_id = fields.Integer(metadata={"description": "The new lead unit (in your scope)."})
    owner_name = fields.String(validate=validate.Length(max=200))
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=5000),
                         metadata={"description": "Why (optional)."})


class TaskQuerySchema(PageArgsSchema, TaskFilterSchema):
    """Paging, and the task list's filter as the web page has it (tracker.tasks.listing)."""


TaskPageSchema = _page_schema("TaskPage", TaskSchema)


class BulkResultSchema(Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(TaskSchema))


class NoteSchema(Schema):
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=5000))


class RequiredNoteSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(max=5000),
                         metadata={"description": "Why (required)."})


class SubmitSchema(Schema):
    result = fields.String(required=True, validate=validate.Length(max=20000),
                           metadata={"description": "The product of the task."})
