"""Reading the unit tree: a unit and everything below it."""

from __future__ import annotations

from sqlalchemy import Select, select

from tracker.units.models import Unit


def subtree_ids(unit: Unit) -> Select:
    """A SELECT of the ids of `unit` and every unit below it."""
    return select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))


def subtree(unit: Unit) -> Select:
    return select(Unit).where(Unit.path.startswith(unit.path, autoescape=True))
