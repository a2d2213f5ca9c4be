"""Tasks: list with filters, read, assign (one or in bulk), edit and reassign with If-Match,
audit trail."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import clock
from tracker.api.base import (
    MAX_ID,
    ApiBlueprint,
    actor,
    commit,
    etag,
    json_object,
    load_task,
    lock_task,
)
from tracker.api.schemas import (
    BulkAssignSchema,
    BulkResultSchema,
    ReassignSchema,
    TaskBodySchema,
    TaskPageSchema,
    TaskPatchSchema,
    TaskQuerySchema,
    TaskSchema,
)
from tracker.api.work_schemas import (
    AuditEntrySchema,
)
from tracker.audit.models import AuditEntry
from tracker.downloads import attachment
from tracker.errors import Forbidden
from tracker.extensions import db
from tracker.paging import LIST_COUNTED
from tracker.replica import may_lag
from tracker.scope import ADMINS, can_manage_task, requires, visible_tasks
from tracker.tasks.editing import reassign_task, update_task
from tracker.tasks.export import export_filename, tasks_xlsx
from tracker.tasks.listing import TaskFilter, TaskFilterSchema, by_id, task_page
from tracker.tasks.service import bulk_assign, create_task
from tracker.tasks.wording import describe
from tracker.xlsx import MIME as XLSX

bp = ApiBlueprint("tasks", __name__,
                  description="Tasks (nhiệm vụ): assign, list, read, edit.")

TASK = f"/tasks/<int(max={MAX_ID}):task_id>"
ETAG_HEADER = {"ETag": {"description": "The task's version; send it back as If-Match.",
                        "schema": {"type": "string"}}}
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "The ETag of the task as you last read it."}


def body(schema, *, required: bool = True) -> dict:
    """An OpenAPI request body: `schema` documents it; the service validates it."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


@bp.route("/tasks")
@bp.arguments(TaskQuerySchema, location="query")
@bp.response(200, TaskPageSchema)
def task_list(args):
    """Tasks in your scope, ordered by id, one page at a time. The filter is the task
    list page's (tracker.tasks.listing). The list, a search (`q`) too, is counted up to
    10,000 tasks, or this page's end: past that, `total_exact` is false and `total` a lower
    bound."""
    chosen = TaskFilter.from_loaded(actor(), args)
    # A search is counted as far as a list (the pages count 1,000 matches): in the order of
    # ids a commune's tasks lie in one stretch, so the matches of a commune's name do too,
    # and walking the ids until a page of them is found read half the country (0.3 s at
    # 3.3 M tasks). Counted whole, they are read as a set and sorted (`task_page`).
    return task_page(chosen.apply(visible_tasks(actor())), by_id,
                     narrow=chosen.narrow(actor()), page=args["page"],
                     per_page=args["per_page"], coordinating=True, count_at_most=LIST_COUNTED)


@bp.route("/tasks/export.xlsx")
@bp.arguments(TaskFilterSchema, location="query")
@bp.doc(responses={200: {"description": "The workbook.", "content": {
    XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
@may_lag
def task_list_export(args):
    """The tasks in your scope that the list's filter finds, as an XLSX workbook in the
    columns of the import template (Vietnamese headers, typed dates), which the import
    reads back. Recorded as a report exported."""
    chosen = TaskFilter.from_loaded(actor(), args)
    at = clock.now()
    data = tasks_xlsx(actor(), chosen, at=at)
    commit()
    return attachment(data, export_filename(at), XLSX)


@bp.route("/tasks", methods=["POST"])
@bp.doc(requestBody=body(TaskBodySchema))
@bp.response(201, TaskSchema, headers=ETAG_HEADER)
@requires(*ADMINS)
def task_create():
    """Assign a task (admin). It must meet the "6 rõ"; the answer names every missing one."""
    task = create_task(actor(), json_object())
    commit()
    return task, etag(task)


@bp.route("/tasks/bulk", methods=["POST"])
@bp.doc(requestBody=body(BulkAssignSchema))
@bp.response(201, BulkResultSchema)
@requires(*ADMINS)
def task_bulk_assign():
    """One directive, one task per unit (e.g. every commune of a province); all or nothing.
    The answer to a refusal names every bad unit (`unit_ids.<index>`) and field at once."""
    raw = json_object()
    tasks = bulk_assign(actor(), raw, raw.get("unit_ids"))
    commit()
    return {"count": len(tasks), "items": tasks}


@bp.route(TASK)
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
def task_detail(task_id: int):
    task = load_task(task_id)
    return task, etag(task)


@bp.route(TASK, methods=["PATCH"])
@bp.doc(requestBody=body(TaskPatchSchema), parameters=[IF_MATCH])
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
@bp.alt_response(412, response="PRECONDITION_FAILED",
                 description="If-Match is not the task's current ETag.")
@bp.alt_response(428, response="PRECONDITION_REQUIRED", description="If-Match is missing.")
def task_patch(task_id: int):
    """Change any "6 rõ" field (admin of the lead unit), the lead unit and the coordinating
    units included (a new unit must be in your scope); send the ETag you read as If-Match
    — a task changed since answers 412 and nothing is written. The original deadline and
    every change stay in the audit trail; the lead unit is told (on a new lead unit, the
    old one too)."""
    task = load_task(task_id)
    if not can_manage_task(actor(), task):
        raise Forbidden(_("Only an admin of this unit can change the task."))
    raw = json_object()
    task = lock_task(task_id, if_match="required")
    update_task(actor(), task, raw, expected_version=task.version)
    commit()
    return task, etag(task)


@bp.route(f"{TASK}/reassign", methods=["POST"])
@bp.doc(requestBody=body(ReassignSchema), parameters=[{**IF_MATCH, "required": False}])
@bp.response(200, TaskSchema, headers=ETAG_HEADER)
@bp.alt_response(412, response="PRECONDITION_FAILED",
                 description="If-Match is not the task's current ETag.")
@requires(*ADMINS)
def task_reassign(task_id: int):
    """Give the task to another lead unit (in your scope) and/or accountable owner, saying
    why if you wish (admin of the lead unit). The new unit owes its first update from now;
    both units are told. With If-Match, a task changed since answers 412."""
    raw = json_object()
    task = lock_task(task_id)
    reassign_task(actor(), task, raw)
    commit()
    return task, etag(task)


AUDIT_COLUMNS = ("id", "task_id", "actor_id", "at", "action", "field", "old_value",
                 "new_value", "note")


@bp.route(f"{TASK}/audit")
@bp.response(200, AuditEntrySchema(many=True))
def task_audit(task_id: int):
    """Every change to the task: who, when, what, old → new (oldest first)."""
    task = load_task(task_id)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.task_id == task.id)
        .order_by(AuditEntry.at, AuditEntry.id)).all()
    return [{**{name: getattr(entry, name) for name in AUDIT_COLUMNS}, "actor": entry.actor,
             "words": words} for entry, words in zip(entries, describe(entries), strict=True)]
