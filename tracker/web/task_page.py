"""The task page (one task with its updates, evidence, comments, extension requests,
colour history and audit trail), rendered for the task pages and for the supervisor's
actions on it, with a refused action's errors next to its form."""

from __future__ import annotations

from types import SimpleNamespace

from flask import (
    flash,
    render_template,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from tracker import clock
from tracker.audit.models import AuditEntry
from tracker.auth.models import User
from tracker.cutoff.models import TaskColourChange
from tracker.errors import InvalidInput, TrackerError
from tracker.evidence.models import Evidence, Purpose
from tracker.extensions import db
from tracker.forecast.service import likely_among
from tracker.forecast.wording import warning_line
from tracker.kiennghi.models import Recommendation
from tracker.labels import dmy
from tracker.rules.store import load_calendar
from tracker.scope import (
    can_comment,
    can_manage_task,
    can_raise,
    can_report_on,
    can_supervise,
    get_task,
    visible_recommendations,
)
from tracker.tasks.models import (
    Comment,
    ExtensionRequest,
    ExtensionStatus,
    Status,
    Task,
)
from tracker.tasks.requests import request_states
from tracker.tasks.wording import describe
from tracker.updates.models import ProgressUpdate
from tracker.web.helpers import unit_options
from tracker.web.task_forms import action_forms, apply_errors

EXTENSION_STATUS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


def _names(user_ids) -> dict[int, User]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def suggested_nudge(task: Task) -> str:
    """The nudge box's first text, ready to send and free to edit: what the unit should
    do now, with the day and the time it is due by."""
    if task.colour_reason == "overdue":
        return _("%(code)s is overdue since %(deadline)s. Please submit the completion with "
                 "its product, or request an extension giving the reason.", code=task.code,
                 deadline=dmy(task.deadline))
    calendar = load_calendar()
    day = calendar.reporting_day(clock.now())
    return _("Please post the progress update on %(code)s before %(time)s on %(day)s.",
             code=task.code, time=calendar.cutoff_time.strftime("%H:%M"), day=dmy(day))


def render_detail(task: Task, forms: dict | None = None, status: int = 200):
    """The task page: its "6 rõ", updates, evidence, comments, extension requests, colour
    history and audit trail, with the action forms the user's role allows. `forms` replaces
    some of the empty forms (e.g. one with errors after a refused POST)."""
    updates = db.session.scalars(
        select(ProgressUpdate).where(ProgressUpdate.task_id == task.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc()).limit(200)
    ).all()
    audit = describe(db.session.scalars(
        select(AuditEntry).where(AuditEntry.task_id == task.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(500)
    ))
    comments = db.session.scalars(
        select(Comment).where(Comment.task_id == task.id)
        .order_by(Comment.at.desc(), Comment.id.desc()).limit(200)
    ).all()
    extensions = db.session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.task_id == task.id)
        .order_by(ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    ).all()
    history = db.session.scalars(
        select(TaskColourChange).where(TaskColourChange.task_id == task.id)
        .order_by(TaskColourChange.day.desc()).limit(120)
    ).all()
    evidence = db.session.scalars(
        select(Evidence).where(Evidence.task_id == task.id)
        .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())
    ).all()
    by_update: dict[int, list[Evidence]] = {}
    for item in evidence:
        if item.update_id:
            by_update.setdefault(item.update_id, []).append(item)
    people = _names([c.author_id for c in comments]
                    + [e.requested_by_id for e in extensions]
                    + [e.decided_by_id for e in extensions])
    reporter = can_report_on(current_user, task)
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    supervisor = can_supervise(current_user, task)
    # What the user may do here (a namespace: `allowed.update` in a template must not
    # find dict.update).
    allowed = SimpleNamespace(
        update=reporter and task.is_open,
        submit=reporter and task.is_open,
        extend=reporter and task.status not in (Status.DONE, Status.CANCELLED)
        and pending is None,
        supervise=supervisor,
        comment=can_comment(current_user, task),
        manage=can_manage_task(current_user, task),
        raise_kn=can_raise(current_user, task) and task.is_open,
    )
    allowed.change = allowed.manage and task.status not in (Status.DONE, Status.CANCELLED)
    all_forms = action_forms()
    all_forms.update(forms or {})
    if supervisor and "nudge" not in (forms or {}):
        all_forms["nudge"].message.data = suggested_nudge(task)
    warning = likely_among([task.id], clock.now()).get(task.id)
    return render_template(
        "tasks/detail.html", task=task, warning=warning_line(warning) if warning else None,
        updates=updates, audit=audit, comments=comments,
        extensions=extensions, pending_extension=pending, history=history,
        completion_evidence=[e for e in evidence if e.purpose == Purpose.COMPLETION],
        evidence_by_update=by_update, people=people, allowed=allowed, forms=all_forms,
        recommendations=db.session.scalars(visible_recommendations(current_user).where(
            Recommendation.task_id == task.id).order_by(Recommendation.id)).all(),
        form=all_forms["update"], can_report=allowed.update,
        EXTENSION_STATUS=EXTENSION_STATUS,
        state=request_states([task])[task.id],
        manage_units=unit_options(current_user) if allowed.change else [],
    ), status


def refused(task: Task, name: str, form, exc: TrackerError):
    """Answer a refused action on the task page: field errors next to the fields (422);
    a conflict or other refusal as a message on the page."""
    db.session.rollback()
    task = get_task(current_user, task.id)
    if isinstance(exc, InvalidInput):
        for message in apply_errors(form, exc.fields):
            flash(message, "error")
    flash(exc.message, "error")
    return render_detail(task, {name: form}, exc.status)
