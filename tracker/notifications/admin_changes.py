"""Who hears of what an admin changed on a task (receivers connected by
`events.connect`): the lead unit's members of an edit (what changed, the new dates) and of
a cancellation (the reason); on a reassignment, the new unit's members (theirs now, what
is owed) and the old unit's (no longer theirs — with no link, as they no longer see it).
Never the actor; in the deployment's language, as every notification."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from tracker.auth.models import User
from tracker.labels import PRIORITY_LABELS, dmy
from tracker.notifications.quoting import quote as _quote
from tracker.notifications.service import add_notifications, members_of
from tracker.tasks.models import Task
from tracker.tasks.sixro import FIELD_LABELS
from tracker.units.models import Unit

DATES = ("start_date", "deadline", "source_doc_date")
SHORT = ("title", "owner_name", "leader_in_charge", "field")  # repeated with their value


def _tell(unit_id: int, actor: User, kind: str, now: datetime, message,
          task_id: int | None) -> int:
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")):
        text = message()
    users = members_of([unit_id]).get(unit_id, [])
    return add_notifications([
        {"user_id": u, "kind": kind, "task_id": task_id, "message": text, "created_at": now}
        for u in sorted(set(users)) if u != actor.id])


def _reason(note: str | None) -> str:
    return " " + _("Reason: %(reason)s", reason=_quote(note)) if note else ""


def describe(changes: dict[str, tuple]) -> str:
    """The changed fields as users name them, with the new value where it is short."""
    parts = []
    for name, (_old, new) in changes.items():
        label = str(FIELD_LABELS.get(name, name))
        if name in DATES:
            parts.append(f"{label}: {dmy(new)}")
        elif name in SHORT and new:
            parts.append(f"{label}: {_quote(new)}")
        elif name == "priority":
            parts.append(f"{label}: {PRIORITY_LABELS.get(str(new), new)}")
        else:
            parts.append(label)
    return "; ".join(parts)


def on_edited(task: Task, *, actor: User, now: datetime, changes: dict, note=None,
              **_kw) -> None:
    _tell(task.lead_unit_id, actor, "edited", now, lambda: _(
        "%(code)s: an admin changed the task — %(changes)s. Read the task page and plan "
        "the work accordingly.", code=task.code, changes=describe(changes)) + _reason(note),
        task.id)


def on_reassigned(task: Task, *, actor: User, now: datetime, old_unit: Unit,
                  changes: dict, note=None, **_kw) -> None:
    _tell(task.lead_unit_id, actor, "reassigned", now, lambda: _(
        "%(code)s: your unit now leads this task (it was led by %(old)s); accountable "
        "owner: %(owner)s, deadline %(deadline)s. Post a progress update every working "
        "day.", code=task.code, old=old_unit.name, owner=task.owner_name,
        deadline=dmy(task.deadline)) + _reason(note), task.id)
    _tell(old_unit.id, actor, "reassigned", now, lambda: _(
        "%(code)s “%(title)s” was given to %(unit)s; your unit no longer reports on it.",
        code=task.code, title=_quote(task.title), unit=task.lead_unit.name)
        + _reason(note), None)


def on_cancelled(task: Task, *, actor: User, now: datetime, note: str, **_kw) -> None:
    _tell(task.lead_unit_id, actor, "cancelled", now, lambda: _(
        "%(code)s: the task was cancelled on %(day)s. No more updates are needed.",
        code=task.code, day=dmy(now)) + _reason(note), task.id)
