"""The API's schemas of the work on a task: progress updates (one and in batches), extension
requests, comments and nudges, the audit trail, the supervisor's inbox. The shared pieces —
errors, paging, the field helpers, tasks, units and users — are in `tracker.api.schemas`."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from tracker.api.base import MAX_ID
from tracker.api.schemas import (
    PageArgsSchema,
    UnitBriefSchema,
    UserSchema,
    _date,
    _id,
    _one_of,
    _page_schema,
    _text,
)
from tracker.rules.store import load_calendar
from tracker.tasks.models import ExtensionStatus
from tracker.updates.service import UpdateInputSchema, quick_load


class ProgressUpdateSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    author_id = fields.Integer()
    author = fields.Pluck(UserSchema, "username")
    created_at = fields.DateTime()
    reporting_day = fields.Method("_reporting_day", metadata={
        "type": "string", "format": "date",
        "description": "The working day whose 16:00 cutoff this update counts for, by "
                       "today's calendar (it follows a day off or make-up day added "
                       "later, as the cutoff does)."})
    progress = fields.Integer()
    work_done = fields.String()
    obstacles = _text()
    next_steps = _text()
    evidence_url = _text()

    def _reporting_day(self, update) -> str:
        created_at = update["created_at"] if isinstance(update, dict) else update.created_at
        return load_calendar().reporting_day(created_at).isoformat()


class BatchItemSchema(UpdateInputSchema):
    task_id = _id(required=True)


class BatchItems(fields.List):
    """The batch's items: the plain ones loaded by `quick_load` (as the schema would),
    the others by `BatchItemSchema` (which names their errors)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            return super()._deserialize(value, attr, data, **kwargs)
        result, errors = [], {}
        for index, raw in enumerate(value):
            task_id = raw.get("task_id") if type(raw) is dict else None
            loaded = quick_load(raw, _TASK_ID) if type(task_id) is int \
                and 1 <= task_id <= MAX_ID else None
            if loaded is not None:
                loaded["task_id"] = task_id
                result.append(loaded)
                continue
            try:
                result.append(self.inner.deserialize(raw, **kwargs))
            except ValidationError as error:
                errors[index] = error.messages
        if errors:
            raise ValidationError(errors)
        return result


_TASK_ID = frozenset({"task_id"})


class BatchSchema(Schema):
    items = BatchItems(fields.Nested(BatchItemSchema), required=True,
                       validate=validate.Length(1, 1000))


class BatchResultSchema(Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(ProgressUpdateSchema))


class ExtensionSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    requested_by_id = fields.Integer()
    requested_at = fields.DateTime()
    current_deadline = fields.Date()
    requested_deadline = fields.Date()
    reason = fields.String()
    status = _one_of(s.value for s in ExtensionStatus)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = _text()


class ExtensionInputSchema(Schema):
    requested_deadline = _date(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=5000))


class ExtensionQuerySchema(PageArgsSchema):
    status = _one_of(s.value for s in ExtensionStatus)
    unit_id = _id(metadata={"description": "Requests on tasks led in this unit's subtree."})


ExtensionPageSchema = _page_schema("ExtensionPage", ExtensionSchema)


class CommentSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    author_id = fields.Integer()
    at = fields.DateTime()
    kind = _one_of(("comment", "acknowledge"))
    body = fields.String()


class CommentInputSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(max=5000))
    kind = _one_of(("comment", "acknowledge"), load_default="comment", metadata={
        "description": "acknowledge: a supervisor's note on a red item (ghi nhận)."})


class NudgeSchema(Schema):
    message = fields.String(required=True, validate=validate.Length(max=2000))


class NudgeResultSchema(Schema):
    notified = fields.Integer(metadata={"description": "Members of the unit notified."})


class AuditChangeSchema(Schema):
    label = fields.String(metadata={"description": "The field as the forms label it."})
    old = fields.String()
    new = fields.String()


class AuditWordsSchema(Schema):
    at = fields.String(metadata={"description": "dd/mm/yyyy HH:MM:SS, ICT."})
    who = fields.String()
    action = fields.String(metadata={"description": "The action as a verb."})
    changes = fields.List(fields.Nested(AuditChangeSchema))
    note = fields.String()


class AuditEntrySchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor = fields.Pluck(UserSchema, "username", allow_none=True)
    at = fields.DateTime()
    action = fields.String()
    field = _text()
    old_value = _text()
    new_value = _text()
    note = _text()
    words = fields.Nested(AuditWordsSchema, metadata={
        "description": "The entry as the task page and the CSV say it (Vietnamese): "
                       "tracker.tasks.wording."})


class InboxTaskSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    lead_unit = fields.Nested(UnitBriefSchema)
    deadline = fields.Date()
    status = fields.String()


class WaitingSchema(Schema):
    """One decision waiting: a completion (extension null) or an extension request."""

    kind = _one_of(("completion", "extension"))
    since = fields.DateTime(metadata={"description": "submitted or requested at"})
    task = fields.Nested(InboxTaskSchema)
    extension = fields.Nested(ExtensionSchema, attribute="request", allow_none=True)


class InboxSchema(Schema):
    """The inbox of decisions: counts, and the oldest waiting of each kind, oldest first."""

    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    completions = fields.List(fields.Nested(WaitingSchema))
    extensions = fields.List(fields.Nested(WaitingSchema))
