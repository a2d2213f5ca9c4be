"""The work on a task after it is assigned: completion (submit → confirm or return),
cancellation, deadline extensions, comments and nudges (đôn đốc)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.api.base import (
    MAX_ID,
    ApiBlueprint,
    actor,
    commit,
    etag,
    json_object,
    load_task,
    lock_task,
    unit_in_scope,
)
from tracker.api.schemas import (
    NoteSchema,
    RequiredNoteSchema,
    SubmitSchema,
    TaskSchema,
)
from tracker.api.tasks import ETAG_HEADER, TASK, body
from tracker.api.work_schemas import (
    CommentInputSchema,
    CommentSchema,
    ExtensionInputSchema,
    ExtensionPageSchema,
    ExtensionQuerySchema,
    ExtensionSchema,
    InboxSchema,
    NudgeResultSchema,
    NudgeSchema,
)
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.fence import stamp
from tracker.notifications.service import nudge
from tracker.paging import paginate
from tracker.scope import SUPERVISORS, requires, visible_tasks
from tracker.tasks import lifecycle
from tracker.tasks.inbox import waiting_counts, waiting_decisions
from tracker.tasks.models import Comment, ExtensionRequest, Task
from tracker.tasks.service import add_comment
from tracker.units.tree import subtree_ids

bp = ApiBlueprint("workflow", __name__,
                  description="Completion, cancellation, extensions, comments and nudges.")

EXTENSION = f"/extensions/<int(max={MAX_ID}):extension_id>"


# --- completion and cancellation --------------------------------------------------------


@bp.route(f"{TASK}/submit", methods=["POST"])
@bp.doc(requestBody=body(SubmitSchema))
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
def task_submit(task_id: int):
    """The lead unit reports the task complete with its product (member)."""
    raw = json_object()
    task = lock_task(task_id)
    lifecycle.submit_completion(actor(), task, result=raw.get("result"))
    commit()
    return task, etag(task)


@bp.route(f"{TASK}/confirm", methods=["POST"])
@bp.doc(requestBody=body(NoteSchema, required=False))
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
def task_confirm(task_id: int):
    """Confirm a submitted completion: the task is done (supervisor)."""
    raw = json_object()
    task = lock_task(task_id)
    lifecycle.confirm_completion(actor(), task, note=raw.get("note"))
    commit()
    return task, etag(task)


@bp.route(f"{TASK}/return", methods=["POST"])
@bp.doc(requestBody=body(RequiredNoteSchema))
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
def task_return(task_id: int):
    """Send a submitted task back to work, saying why (supervisor)."""
    raw = json_object()
    task = lock_task(task_id)
    lifecycle.return_completion(actor(), task, note=raw.get("note"))
    commit()
    return task, etag(task)


@bp.route(f"{TASK}/cancel", methods=["POST"])
@bp.doc(requestBody=body(RequiredNoteSchema))
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
def task_cancel(task_id: int):
    """Cancel a task, saying why (admin of the lead unit)."""
    raw = json_object()
    task = lock_task(task_id)
    lifecycle.cancel_task(actor(), task, note=raw.get("note"))
    commit()
    return task, etag(task)


# --- extensions -------------------------------------------------------------------------


@bp.route(f"{TASK}/extensions")
@bp.response(200, ExtensionSchema(many=True))
def task_extensions(task_id: int):
    task = load_task(task_id)
    return db.session.scalars(select(ExtensionRequest).where(
        ExtensionRequest.task_id == task.id).order_by(ExtensionRequest.id)).all()


@bp.route(f"{TASK}/extensions", methods=["POST"])
@bp.doc(requestBody=body(ExtensionInputSchema))
@bp.response(201, ExtensionSchema)
def task_request_extension(task_id: int):
    """Ask for a later deadline, with a reason (member of the lead unit)."""
    raw = json_object()
    task = lock_task(task_id)
    request = lifecycle.request_extension(actor(), task,
                                          new_deadline=raw.get("requested_deadline"),
                                          reason=raw.get("reason"))
    commit()
    return request


@bp.route("/extensions")
@bp.arguments(ExtensionQuerySchema, location="query")
@bp.response(200, ExtensionPageSchema)
def extension_list(args):
    """Extension requests on tasks in your scope (e.g. ?status=pending), by id."""
    task_ids = visible_tasks(actor()).with_only_columns(Task.id)
    if "unit_id" in args:
        unit = unit_in_scope(args["unit_id"], "unit_id")
        task_ids = task_ids.where(Task.lead_unit_id.in_(subtree_ids(unit)))
    query = select(ExtensionRequest).where(ExtensionRequest.task_id.in_(task_ids))
    if "status" in args:
        query = query.where(ExtensionRequest.status == args["status"])
    return paginate(query.order_by(ExtensionRequest.id), args["page"], args["per_page"])


@bp.route("/inbox")
@bp.response(200, InboxSchema)
@requires(*SUPERVISORS)
def inbox():
    """What waits for your decision in your scope (supervisor, admin): completions to
    confirm or return and extension requests to approve or reject, each oldest first (at
    most 100 of each; `counts` has them all) — the web inbox's list."""
    user = actor()
    waiting = waiting_decisions(user)
    return {"counts": waiting_counts(user), "completions": waiting["completion"],
            "extensions": waiting["extension"]}


def _decide(extension_id: int, *, approve: bool, note: str | None) -> ExtensionRequest:
    request = db.session.get(ExtensionRequest, extension_id)
    if request is None:
        raise NotFound(_("extension request not found"))
    lock_task(request.task_id, if_match="ignore")  # in scope (else 404), one decision at once
    db.session.refresh(request)
    lifecycle.decide_extension(actor(), request, approve=approve, note=note)
    commit()
    return request


@bp.route(f"{EXTENSION}/approve", methods=["POST"])
@bp.doc(requestBody=body(NoteSchema, required=False))
@bp.response(200, ExtensionSchema)
def extension_approve(extension_id: int):
    """Approve: the task's deadline moves; the original stays in its history (supervisor)."""
    return _decide(extension_id, approve=True, note=json_object().get("note"))


@bp.route(f"{EXTENSION}/reject", methods=["POST"])
@bp.doc(requestBody=body(RequiredNoteSchema))
@bp.response(200, ExtensionSchema)
def extension_reject(extension_id: int):
    """Reject, saying why (supervisor)."""
    return _decide(extension_id, approve=False, note=json_object().get("note"))


# --- comments and nudges ----------------------------------------------------------------


@bp.route(f"{TASK}/comments")
@bp.response(200, CommentSchema(many=True))
def task_comments(task_id: int):
    task = load_task(task_id)
    return db.session.scalars(select(Comment).where(Comment.task_id == task.id)
                              .order_by(Comment.at, Comment.id)).all()


@bp.route(f"{TASK}/comments", methods=["POST"])
@bp.doc(requestBody=body(CommentInputSchema))
@bp.response(201, CommentSchema)
def task_comment(task_id: int):
    """Comment (anyone who works on the task), or acknowledge a red item with a note
    (kind=acknowledge, supervisor)."""
    raw = json_object()
    task = load_task(task_id)
    comment = add_comment(actor(), task, raw.get("body"), kind=raw.get("kind", "comment"))
    commit()
    return comment


@bp.route(f"{TASK}/nudge", methods=["POST"])
@bp.doc(requestBody=body(NudgeSchema))
@bp.response(200, NudgeResultSchema)
def task_nudge(task_id: int):
    """Urge the lead unit (đôn đốc): its members are notified (supervisor)."""
    raw = json_object()
    task = load_task(task_id)
    notified = nudge(actor(), task, raw.get("message"), now=stamp())
    commit()
    return {"notified": notified}
