"""Evidence files added on their own (the API's upload): a file backing one of your
progress updates, or the product (sản phẩm) of the task's completion. The file itself is
checked and stored by `tracker.evidence.service.attach_file`, the one write path for
evidence files, as when it comes with the update or the completion form."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from tracker.auth.models import User
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.evidence.models import TASK_PURPOSES, Evidence, Purpose
from tracker.evidence.service import attach_file
from tracker.extensions import db
from tracker.scope import can_report_on
from tracker.tasks.models import Status, Task
from tracker.types import MAX_ID
from tracker.updates.models import ProgressUpdate

CLOSED = (Status.DONE, Status.CANCELLED)


def attach_evidence(actor: User, task: Task, upload, *, purpose, update_id,
                    now: datetime) -> Evidence:
    """Keep `upload` (a werkzeug FileStorage, or None) as evidence of `task`: of one of the
    actor's own updates of it (`purpose` "update" with `update_id`), or of its completion
    (`purpose` "completion"). Only a member of the lead unit adds evidence, and only while
    the task is neither done nor cancelled; every field at fault is named."""
    if not can_report_on(actor, task):
        raise Forbidden(_("Only a member of the lead unit can add evidence to this task."))
    errors: dict[str, list[str]] = {}
    if purpose not in {p.value for p in TASK_PURPOSES}:
        errors["purpose"] = [_("Choose update or completion.")]
    if update_id is not None and (type(update_id) is not int or not 0 < update_id <= MAX_ID):
        errors["update_id"] = [_("Not a valid update.")]
    elif purpose == Purpose.UPDATE and update_id is None:
        errors["update_id"] = [_("Name the update the file backs.")]
    elif purpose == Purpose.COMPLETION and update_id is not None:
        errors["update_id"] = [_("A completion's product belongs to no update.")]
    elif purpose == Purpose.UPDATE:
        update = db.session.get(ProgressUpdate, update_id)
        if update is None or update.task_id != task.id or update.author_id != actor.id:
            errors["update_id"] = [_("Not one of your updates of this task.")]
    if upload is None or not upload.filename:
        errors["file"] = [_("Choose a file.")]
    if errors:
        raise InvalidInput(_("The file was not added."), errors)
    if task.status in CLOSED:
        raise Conflict(_("This task is closed (status: %(s)s): no evidence can be added.",
                         s=task.status))
    return attach_file(actor, task, upload, now=now, purpose=Purpose(purpose),
                       update_id=update_id, field="file")
