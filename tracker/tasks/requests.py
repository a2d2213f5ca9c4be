"""Where each of a unit's requests on a task stands, as the unit sees it (issue 13): a
completion waiting for confirmation or returned (with the reason), an extension request
pending or rejected (with the reason) — for /today and the task page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.tasks.models import ExtensionRequest, ExtensionStatus, Status, Task


@dataclass
class RequestState:
    returned_at: datetime | None = None  # the task is back with its unit since
    return_note: str | None = None
    extension: ExtensionRequest | None = None  # the latest request, pending or rejected

    @property
    def extension_pending(self) -> bool:
        return self.extension is not None and self.extension.status == ExtensionStatus.PENDING

    @property
    def extension_rejected(self) -> bool:
        return self.extension is not None and \
            self.extension.status == ExtensionStatus.REJECTED


def request_states(tasks: list[Task]) -> dict[int, RequestState]:
    """The state of each task's requests, for the tasks given (two queries in all)."""
    states = {task.id: RequestState() for task in tasks}
    returned = [t.id for t in tasks if t.status == Status.RETURNED]
    if returned:
        # The return is the audit trail's "return" entry, with the reason as its note.
        for entry in db.session.execute(
            select(AuditEntry.task_id, AuditEntry.at, AuditEntry.note)
            .where(AuditEntry.task_id.in_(returned), AuditEntry.action == "return")
            .order_by(AuditEntry.at, AuditEntry.id)
        ):
            states[entry.task_id].returned_at = entry.at  # the latest wins
            states[entry.task_id].return_note = entry.note
    open_ids = [t.id for t in tasks if t.status not in (Status.DONE, Status.CANCELLED)]
    if open_ids:
        for request in db.session.scalars(
            select(ExtensionRequest).where(ExtensionRequest.task_id.in_(open_ids))
            .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
        ):
            latest = request.status != ExtensionStatus.APPROVED
            states[request.task_id].extension = request if latest else None
    return states
