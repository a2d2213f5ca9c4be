"""Writing the audit trail: the only way rows get into it."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum

from tracker.audit.models import AuditEntry
from tracker.bulk import insert_rows
from tracker.extensions import db

_COLUMNS = ("task_id", "actor_id", "at", "action", "field", "old_value", "new_value", "note")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def record(task, actor, action: str, *, at: datetime, field: str | None = None,
           old=None, new=None, note: str | None = None) -> AuditEntry:
    entry = AuditEntry(
        task_id=task.id if task is not None else None,
        actor_id=actor.id if actor is not None else None,
        at=at,
        action=action,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        note=note,
    )
    db.session.add(entry)
    return entry


def record_changes(task, actor, action: str, changes: dict[str, tuple], *, at: datetime,
                   note: str | None = None) -> None:
    """One entry per changed field: `changes` maps field → (old, new)."""
    for field, (old, new) in changes.items():
        record(task, actor, action, at=at, field=field, old=old, new=new, note=note)


def change_rows(task_id: int, actor_id: int | None, action: str, changes: dict[str, tuple], *,
                at: datetime, note: str | None = None) -> list[dict]:
    """The entries `record_changes` would add (or `record`'s one entry when nothing
    changed), as rows for `append_rows`."""
    if not changes:
        return [{"task_id": task_id, "actor_id": actor_id, "at": at, "action": action,
                 "field": None, "old_value": None, "new_value": None, "note": note}]
    return [{"task_id": task_id, "actor_id": actor_id, "at": at, "action": action,
             "field": field, "old_value": _text(old), "new_value": _text(new), "note": note}
            for field, (old, new) in changes.items()]


def append_rows(rows: list[dict]) -> None:
    """Write many entries at once, without ORM objects (the set-based paths), through the
    `tracker.bulk` seam (COPY on PostgreSQL when there are many)."""
    insert_rows(AuditEntry.__table__, _COLUMNS, (tuple(row[c] for c in _COLUMNS)
                                                 for row in rows))


def snapshot(values: dict) -> str:
    return json.dumps({k: _text(v) for k, v in values.items()}, ensure_ascii=False, sort_keys=True)


def record_recommendation(recommendation, actor, action: str, *, at: datetime,
                          field: str | None = None, old=None, new=None,
                          note: str | None = None) -> AuditEntry:
    """An entry of a kiến nghị's trail (tracker.kiennghi): the same table and the same
    append-only rule as a task's."""
    entry = AuditEntry(recommendation_id=recommendation.id,
                       actor_id=actor.id if actor is not None else None, at=at,
                       action=action, field=field, old_value=_text(old), new_value=_text(new),
                       note=note)
    db.session.add(entry)
    return entry
