"""Security events (nhật ký an ninh) of your subtree, for admins: the same filter, scope
and order as the admin page (tracker.audit.security_listing)."""

from __future__ import annotations

from marshmallow import Schema, fields

from tracker.api.base import ApiBlueprint, actor
from tracker.api.schemas import PageArgsSchema, _page_schema
from tracker.audit.security_listing import EventFilter, SecurityEventFilterSchema, events
from tracker.paging import paginate
from tracker.scope import ADMINS, requires

bp = ApiBlueprint("security", __name__,
                  description="Security events of your subtree (admin), newest first.")


class SecurityEventQuerySchema(PageArgsSchema, SecurityEventFilterSchema):
    """Paging, and the filter of the admin page."""


class SecurityEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    username = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor = fields.Function(lambda e: e.actor.username if e.actor else None, allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)


SecurityEventPageSchema = _page_schema("SecurityEventPage", SecurityEventSchema)


@bp.route("/security-events")
@bp.arguments(SecurityEventQuerySchema, location="query")
@bp.response(200, SecurityEventPageSchema)
@requires(*ADMINS)
def event_list(args):
    """Logins and failures, changes of access and credentials, two-factor login, calendar
    and policy changes, report exports — those placed in your subtree (events placed
    nowhere, such as a failed login for an unknown name, for the deployment's admin)."""
    flt = EventFilter.from_loaded(args)
    return paginate(events(actor(), flt), args["page"], args["per_page"])
