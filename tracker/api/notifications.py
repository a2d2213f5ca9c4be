"""Your own notifications (thông báo): the list, newest first and paged, and marking them
read — one or all — through `tracker.notifications.reading`, as the notifications page."""

from __future__ import annotations

from marshmallow import Schema, fields

from tracker import clock
from tracker.api.base import MAX_ID, ApiBlueprint, commit, identity
from tracker.api.schemas import PageArgsSchema, _page_schema
from tracker.notifications import reading
from tracker.notifications.kinds import kind_label
from tracker.paging import paginate

bp = ApiBlueprint("notifications", __name__,
                  description="Your notifications: reminders, nudges, decisions, requests.")

NOTIFICATION = f"/notifications/<int(max={MAX_ID}):notification_id>"


class NotificationQuerySchema(PageArgsSchema):
    unread = fields.Boolean(load_default=False, metadata={
        "description": "Only those not yet read."})


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={
        "description": "reminder, nudge, red, report, confirmed, returned, "
                       "extension_approved, extension_rejected, submitted, "
                       "extension_requested, comment, edited, reassigned, cancelled …"})
    kind_label = fields.Function(lambda n: str(kind_label(n.kind)))
    task_id = fields.Integer(allow_none=True)
    recommendation_id = fields.Integer(allow_none=True, metadata={
        "description": "The kiến nghị it is about (GET /recommendations/{id})."})
    message = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


NotificationPageSchema = _page_schema("NotificationPage", NotificationSchema)


class MarkedSchema(Schema):
    marked = fields.Integer(metadata={"description": "How many were unread."})
    unread = fields.Integer(metadata={"description": "How many are unread now."})


@bp.route("/notifications")
@bp.arguments(NotificationQuerySchema, location="query")
@bp.response(200, NotificationPageSchema)
def notification_list(args):
    """Your notifications, newest first (any role)."""
    query = reading.notifications_of(identity().user_id, unread_only=args["unread"])
    return paginate(query, args["page"], args["per_page"])


@bp.route(f"{NOTIFICATION}/read", methods=["POST"])
@bp.response(200, NotificationSchema)
def notification_read(notification_id: int):
    """Mark one of your notifications read (404 for anyone else's); marking it again
    keeps the first time."""
    item = reading.mark_read(identity().user_id, notification_id, now=clock.now())
    commit()
    return item


@bp.route("/notifications/read", methods=["POST"])
@bp.response(200, MarkedSchema)
def notification_read_all():
    """Mark all your notifications read, as the page's button does."""
    user_id = identity().user_id
    marked = reading.mark_all_read(user_id, now=clock.now())
    commit()
    return {"marked": marked, "unread": reading.unread_count(user_id)}
