"""A supervisor's inbox of decisions (hộp việc chờ xử lý): the completions waiting for
confirmation and the extension requests waiting for a decision, on the tasks they
supervise (`scope.supervised_tasks`), oldest first — for the page, its count in the
header, and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func

from tracker.auth.models import User
from tracker.extensions import db
from tracker.scope import supervised_tasks, supervised_unit_ids
from tracker.tasks import counts
from tracker.tasks.models import OPEN_STATUSES, ExtensionRequest, ExtensionStatus, Status, Task

LIMIT = 100  # of each kind on one page, the oldest first


@dataclass(frozen=True)
class Waiting:
    """One decision waiting: a completion (`request` None) or an extension request."""

    kind: str  # "completion" or "extension"
    task: Task
    since: datetime  # submitted or requested at
    request: ExtensionRequest | None = None


def _completions(user: User):
    return supervised_tasks(user).where(Task.status == Status.SUBMITTED)


def _extensions(user: User):
    # A request on a task finished meanwhile waits for nobody.
    return (supervised_tasks(user)
            .join(ExtensionRequest, ExtensionRequest.task_id == Task.id)
            .where(ExtensionRequest.status == ExtensionStatus.PENDING,
                   Task.status.in_((*OPEN_STATUSES, Status.SUBMITTED))))


def waiting_counts(user: User) -> dict[str, int]:
    """How many completions and extension requests wait for `user`'s decision. The
    completions are the submitted tasks the user supervises, summed from the units' kept
    counts (`tracker.tasks.counts`, proved equal to the tasks by `tracker counts check`):
    every page's header shows this figure."""
    completions = counts.of_status(Status.SUBMITTED, supervised_unit_ids(user))
    extensions = db.session.scalar(_extensions(user).with_only_columns(func.count()))
    return {"completion": completions, "extension": extensions,
            "total": completions + extensions}


def waiting_decisions(user: User, limit: int = LIMIT) -> dict[str, list[Waiting]]:
    """The oldest `limit` completions and extension requests waiting, each oldest first."""
    tasks = db.session.scalars(
        _completions(user).order_by(Task.submitted_at, Task.id).limit(limit)).all()
    requests = db.session.execute(
        _extensions(user).with_only_columns(ExtensionRequest, Task)
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id).limit(limit)).all()
    return {
        "completion": [Waiting("completion", t, t.submitted_at) for t in tasks],
        "extension": [Waiting("extension", t, r.requested_at, r) for r, t in requests],
    }
