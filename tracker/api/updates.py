"""Progress updates: the daily duty before the 16:00 cutoff, one task at a time or a whole
unit's tasks in one all-or-nothing request."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import clock
from tracker.api.base import (
    MAX_ID,
    ApiBlueprint,
    actor,
    commit,
    load_task,
    lock_task,
    lock_tasks,
)
from tracker.api.schemas import BatchResultSchema, BatchSchema, ProgressUpdateSchema
from tracker.api.tasks import TASK
from tracker.auth.models import Role
from tracker.errors import InvalidInput, NotFound, TrackerError
from tracker.extensions import db
from tracker.scope import get_task, get_unit, require_role
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import UpdateInputSchema, post_update

bp = ApiBlueprint("updates", __name__,
                  description="Progress updates (báo cáo tiến độ), due before each cutoff.")


@bp.route(f"{TASK}/updates")
@bp.response(200, ProgressUpdateSchema(many=True))
def update_list(task_id: int):
    """The task's updates, newest first."""
    task = load_task(task_id)
    return db.session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())).all()


@bp.route(f"{TASK}/updates", methods=["POST"])
@bp.arguments(UpdateInputSchema)
@bp.response(201, ProgressUpdateSchema)
def update_post(args, task_id: int):
    """Post an update (member of the lead unit). It is stamped with the server's time; after
    the cutoff it counts for the next reporting day."""
    task = lock_task(task_id)
    update = post_update(actor(), task, args, now=clock.now())
    commit()
    return update


@bp.route(f"/units/<int(max={MAX_ID}):unit_id>/updates", methods=["POST"])
@bp.arguments(BatchSchema)
@bp.response(201, BatchResultSchema)
def update_batch(args, unit_id: int):
    """Updates for many tasks of one unit at once: all are recorded, or — if any item is
    refused — none, and the answer names each refused item (`items.<index>.<field>`)."""
    user = actor()
    require_role(user, Role.MEMBER)
    unit = get_unit(user, unit_id)
    now = clock.now()
    errors: dict[str, list[str]] = {}
    updates = []
    lock_tasks(item["task_id"] for item in args["items"])
    for index, item in enumerate(args["items"]):
        raw = {k: v for k, v in item.items() if k != "task_id"}
        try:
            try:
                task = get_task(user, item["task_id"])
            except NotFound as exc:
                raise InvalidInput(exc.message, {"task_id": [exc.message]}) from exc
            if task.lead_unit_id != unit.id:
                raise InvalidInput(_("Not a task of this unit."),
                                   {"task_id": [_("Not a task of this unit.")]})
            updates.append(post_update(user, task, raw, now=now))
        except TrackerError as exc:
            for field, messages in (exc.fields or {"": [exc.message]}).items():
                errors[f"items.{index}.{field}" if field else f"items.{index}"] = messages
    if errors:
        db.session.rollback()
        raise InvalidInput(_("%(n)s of %(total)s updates were refused; none was recorded.",
                             n=len({k.split(".")[1] for k in errors}),
                             total=len(args["items"])), errors)
    commit()
    return {"count": len(updates), "items": updates}
