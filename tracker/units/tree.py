"""Reading and growing the unit tree."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select

from tracker.extensions import db
from tracker.units.models import Unit, UnitKind


def path_within(path, top_path) -> ColumnElement[bool]:
    """SQL twin of `Unit.is_within`: the unit whose path is `path` lies in the subtree
    whose top has `top_path` (a string, or a bind parameter), as one indexed prefix range."""
    return path.startswith(top_path, autoescape=isinstance(top_path, str))


def subtree_ids(unit: Unit) -> Select:
    """A SELECT of the ids of `unit` and every unit below it."""
    return select(Unit.id).where(path_within(Unit.path, unit.path))


def subtree(unit: Unit) -> Select:
    return select(Unit).where(path_within(Unit.path, unit.path))


def add_unit(
    *,
    code: str,
    name: str,
    kind: UnitKind,
    parent: Unit | None = None,
    division_type: str | None = None,
    codename: str | None = None,
    short_name: str | None = None,
) -> Unit:
    """Insert a unit under `parent` and set its path (flushes to learn the id)."""
    unit = Unit(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        division_type=division_type,
        codename=codename,
        short_name=short_name,
        depth=(parent.depth + 1) if parent else 0,
    )
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def nation() -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.kind == UnitKind.NATION))
