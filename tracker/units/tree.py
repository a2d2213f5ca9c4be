"""Reading the unit tree: a unit and everything below it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, any_, func, select

from tracker.extensions import db
from tracker.types import MAX_ID
from tracker.units.models import Unit


def path_within(path, top_path) -> ColumnElement[bool]:
    """SQL twin of `Unit.is_within`: the unit whose path is `path` lies in the subtree
    whose top has `top_path` (a string, or a bind parameter), as one indexed prefix range."""
    return path.startswith(top_path, autoescape=isinstance(top_path, str))


def among(column, ids: Select) -> ColumnElement[bool]:
    """`column IN (ids)`, written on PostgreSQL as `column = ANY(ARRAY(ids))`: the same set,
    but an index condition, which two such conditions joined by OR can both use (a bitmap
    OR) where `IN (subquery)` is only a filter on every row."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(func.array(ids.scalar_subquery()))
    return column.in_(ids)


def subtree_ids(unit: Unit) -> Select:
    """A SELECT of the ids of `unit` and every unit below it."""
    return select(Unit.id).where(path_within(Unit.path, unit.path))


def subtree(unit: Unit) -> Select:
    return select(Unit).where(path_within(Unit.path, unit.path))


def unit_given(value) -> Unit | None:
    """A unit given as a row or as its id — typed in a form, sent in JSON, passed by the
    CLI; None for anything that names no unit (a wrong type is not a 500)."""
    if isinstance(value, Unit) or value is None:
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if type(value) is not int or not 0 < value <= MAX_ID:
        return None
    return db.session.get(Unit, value)
