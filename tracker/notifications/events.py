"""Who hears of what happens to a task (SPEC §7, "every decision reaches whoever waits
for it"): the receivers of `tracker.signals`, connected once by `connect`.

- to the members of the lead unit: a completion confirmed or returned (with the reason),
  an extension approved (the new deadline) or rejected (with the reason), a supervisor's
  comment — and nudges (`service.nudge`);
- to everyone who may supervise the task (`scope.supervisors_of`): a completion
  submitted, an extension requested, a comment from the unit;
- what an admin changed (`admin_changes`): an edit and a cancellation to the lead unit's
  members, a reassignment to the members of the new unit and of the old one.

Never to the actor. Each message names the task and says what to do next; it is stored in
the deployment's language (Vietnamese by default), whoever acted in whichever language.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from tracker import signals
from tracker.auth.models import User
from tracker.extensions import db
from tracker.labels import dmy
from tracker.notifications import admin_changes, mail, push
from tracker.notifications import recommendations as kn
from tracker.notifications.quoting import quote as _quote
from tracker.notifications.service import add_notifications, members_of
from tracker.scope import can_report_on, supervisors_of
from tracker.tasks.models import Comment, ExtensionRequest, Task


def _notify(user_ids, actor: User, task: Task, kind: str, now: datetime, message) -> int:
    """`message` is a function returning the text, called in the deployment's language."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        text = message()
    return add_notifications([
        {"user_id": u, "kind": kind, "task_id": task.id, "message": text, "created_at": now}
        for u in sorted(set(user_ids)) if u != actor.id])


def _unit_members(task: Task) -> list[int]:
    return members_of([task.lead_unit_id]).get(task.lead_unit_id, [])


def _supervisors(task: Task) -> list[int]:
    return list(db.session.scalars(supervisors_of(task).with_only_columns(User.id)))


# --- to the lead unit ---------------------------------------------------------------------


def on_confirmed(task: Task, *, actor: User, now: datetime, note: str | None = None,
                 **_kw) -> None:
    _notify(_unit_members(task), actor, task, "confirmed", now, lambda: _(
        "%(code)s: the completion was confirmed on %(day)s. The task is done; no more "
        "updates are needed.", code=task.code, day=dmy(task.confirmed_at or now))
        + (" " + _("Note: %(note)s", note=_quote(note)) if note else ""))


def on_returned(task: Task, *, actor: User, now: datetime, note: str, **_kw) -> None:
    _notify(_unit_members(task), actor, task, "returned", now, lambda: _(
        "%(code)s: completion returned: %(reason)s. Continue the work and post progress "
        "updates daily.", code=task.code, reason=_quote(note, before_full_stop=True)))


def on_extension_decided(task: Task, *, actor: User, now: datetime,
                         request: ExtensionRequest, **_kw) -> None:
    if request.status == "approved":
        kind = "extension_approved"

        def message():
            text = _("%(code)s: extension approved, the new deadline is %(deadline)s. Plan "
                     "the remaining work to finish by then.", code=task.code,
                     deadline=dmy(request.requested_deadline))
            if request.decision_note:
                text += " " + _("Note: %(note)s", note=_quote(request.decision_note))
            return text
    else:
        kind = "extension_rejected"

        def message():
            return _("%(code)s: the extension to %(requested)s was rejected: %(reason)s. "
                     "The deadline stays %(deadline)s; finish the task by then.",
                     code=task.code, requested=dmy(request.requested_deadline),
                     reason=_quote(request.decision_note, before_full_stop=True),
                     deadline=dmy(task.deadline))
    _notify(_unit_members(task), actor, task, kind, now, message)


# --- to the supervisors -------------------------------------------------------------------


def on_submitted(task: Task, *, actor: User, now: datetime, **_kw) -> None:
    _notify(_supervisors(task), actor, task, "submitted", now, lambda: _(
        "%(code)s: %(unit)s submitted the completion. Check the product, then confirm or "
        "return it.", code=task.code, unit=task.lead_unit.name))


def on_extension_requested(task: Task, *, actor: User, now: datetime,
                           request: ExtensionRequest, **_kw) -> None:
    _notify(_supervisors(task), actor, task, "extension_requested", now, lambda: _(
        "%(code)s: %(unit)s asks to move the deadline from %(current)s to %(requested)s: "
        "%(reason)s. Approve or reject the request.", code=task.code,
        unit=task.lead_unit.name, current=dmy(request.current_deadline),
        requested=dmy(request.requested_deadline),
        reason=_quote(request.reason, before_full_stop=True)))


# --- comments: from the unit to its supervisors, from a supervisor to the unit -----------


def on_comment(task: Task, *, actor: User, now: datetime, comment: Comment, **_kw) -> None:
    who = actor.full_name or actor.username

    def message():
        return _("%(code)s: %(who)s commented: “%(body)s”. Read it and answer on the task "
                 "page.", code=task.code, who=who, body=_quote(comment.body))
    if can_report_on(actor, task):
        _notify(_supervisors(task), actor, task, "comment", now, message)
    else:
        _notify(_unit_members(task), actor, task, "comment", now, message)


RECEIVERS = (
    (signals.completion_confirmed, on_confirmed),
    (signals.completion_returned, on_returned),
    (signals.extension_decided, on_extension_decided),
    (signals.completion_submitted, on_submitted),
    (signals.extension_requested, on_extension_requested),
    (signals.comment_added, on_comment),
    (signals.task_edited, admin_changes.on_edited),
    (signals.task_reassigned, admin_changes.on_reassigned),
    (signals.task_cancelled, admin_changes.on_cancelled),
    (signals.recommendation_raised, kn.on_raised),
    (signals.recommendation_routed, kn.on_routed),
    (signals.recommendation_answered, kn.on_answered),
    (signals.recommendation_judged, kn.on_judged),
    (signals.recommendation_overdue, kn.on_overdue),
)


def connect() -> None:
    """Subscribe the notifications to the task signals (idempotent: blinker keeps one
    connection per receiver), and send the e-mail and the pushes right after each commit."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver)
    mail.install()
    push.install()

