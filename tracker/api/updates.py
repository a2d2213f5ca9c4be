"""Progress updates: the daily duty before the 16:00 cutoff, one task at a time or a whole
unit's tasks in one all-or-nothing request."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from tracker.api.base import (
    MAX_ID,
    ApiBlueprint,
    actor,
    check_if_match,
    identity,
    load_task,
)
from tracker.api.idempotency import DOC, answer_once
from tracker.api.tasks import TASK
from tracker.api.work_schemas import (
    BatchResultSchema,
    BatchSchema,
    ProgressUpdateSchema,
)
from tracker.errors import InvalidInput, NotFound
from tracker.extensions import db
from tracker.scope import MEMBERS, get_unit, requires
from tracker.updates.models import ProgressUpdate
from tracker.updates.service import Refused, UpdateInputSchema, post_updates

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


def _json(update: dict) -> dict:
    """An update as ProgressUpdateSchema dumps it, built directly (the hot path)."""
    return {**update, "created_at": update["created_at"].isoformat(),
            "reporting_day": update["reporting_day"].isoformat()}


@bp.route(f"{TASK}/updates", methods=["POST"])
@bp.arguments(UpdateInputSchema)
@bp.response(201, ProgressUpdateSchema)
@bp.doc(**DOC)
def update_post(args, task_id: int):
    """Post an update (member of the lead unit). It is stamped with the server's time; after
    the cutoff it counts for the next reporting day (`reporting_day` says which). Send an
    `Idempotency-Key` to retry safely: a retry gets the first answer, its stamp and day."""
    if not 0 < task_id <= MAX_ID:
        raise NotFound(_("task not found"))

    def write() -> dict:
        try:
            [update] = post_updates(identity(), [(task_id, args)], data_loaded=True,
                                    check_version=check_if_match)
        except Refused as exc:
            raise exc.errors[0] from None
        return _json(update)

    return answer_once(201, write)


@bp.route(f"/units/<int(max={MAX_ID}):unit_id>/updates", methods=["POST"])
@bp.arguments(BatchSchema)
@bp.response(201, BatchResultSchema)
@bp.doc(**DOC)
@requires(*MEMBERS)
def update_batch(args, unit_id: int):
    """Updates for many tasks of one unit at once: all are recorded, or — if any item is
    refused — none, and the answer names each refused item (`items.<index>.<field>`).
    With an `Idempotency-Key`, a retry gets the first answer and records nothing."""
    unit = get_unit(actor(), unit_id)
    items = [(item.pop("task_id"), item) for item in args["items"]]
    return answer_once(201, lambda: _post_batch(unit.id, items))


def _post_batch(unit_id: int, items: list[tuple[int, dict]]) -> dict:
    try:
        updates = post_updates(identity(), items, unit_id=unit_id, data_loaded=True)
    except Refused as exc:
        db.session.rollback()
        errors: dict[str, list[str]] = {}
        for index, error in exc.errors.items():
            fields = error.fields or {"": [error.message]}
            if isinstance(error, NotFound):
                fields = {"task_id": [error.message]}
            for field, messages in fields.items():
                errors[f"items.{index}.{field}" if field else f"items.{index}"] = messages
        raise InvalidInput(_("%(n)s of %(total)s updates were refused; none was recorded.",
                             n=len(exc.errors), total=len(items)), errors) from None
    return {"count": len(updates), "items": [_json(u) for u in updates]}
