"""Recording days off and make-up working days: the only write path for the calendar."""

from __future__ import annotations

from datetime import date, datetime

from tracker.auth.models import Role, User
from tracker.cutoff.models import CalendarDay, DayKind
from tracker.cutoff.recolour import recolour_all
from tracker.extensions import db
from tracker.scope import require_role


def set_day(actor: User | None, day: date, kind: str, note: str, *, now: datetime) -> None:
    if actor is not None:
        require_role(actor, Role.ADMIN)
    row = db.session.get(CalendarDay, day) or CalendarDay(day=day)
    row.kind = DayKind(kind)
    row.note = note or ""
    row.created_by_id = actor.id if actor else None
    row.created_at = now
    db.session.add(row)
    db.session.flush()
    recolour_all(now)  # the warning window counts working days


def clear_day(actor: User | None, day: date, *, now: datetime) -> None:
    if actor is not None:
        require_role(actor, Role.ADMIN)
    row = db.session.get(CalendarDay, day)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        recolour_all(now)
