"""The SQL twins of `tracker.rules.vietnamese`: a name sorted in Vietnamese order, and a
folded column matched by a search.

- `by_name(column)` is `column COLLATE "vi-x-icu"` on PostgreSQL (ICU's CLDR `vi`
  collation, which PostgreSQL built with ICU has) and `column COLLATE vi` on SQLite, where
  `register_sqlite` gives every connection a collation of that name whose order is
  `vietnamese.sort_key` (tracker.database calls it on connect). The collation is only named
  in queries, never in the schema, so the database file opens without it.
- `keep_search_text(model, fields)` keeps a model's stored folded column
  (`vietnamese.fold_fields` of its searchable fields) on every ORM write.
- `folded_contains(column, q)` matches a stored folded column (`vietnamese.fold_fields`)
  against `q` folded the same way, as a literal substring (LIKE's `%` and `_` in `q` match
  only themselves): on PostgreSQL a trigram index (pg_trgm) answers it.

tests/rules/test_vietnamese_twins.py proves each agrees with its Python form on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import event, inspect, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.sql.visitors import InternalTraversal

from tracker.rules.vietnamese import fold, fold_fields, sort_key

POSTGRESQL_COLLATION = "vi-x-icu"
SQLITE_COLLATION = "vi"
LIKE_ESCAPE = "\\"


class _VietnameseOrder(ColumnElement):
    """A column compared in Vietnamese order (see the module's docstring)."""

    inherit_cache = True
    # The column is part of the statement's cache key: two columns, two statements.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(_VietnameseOrder)
def _sqlite_order(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} COLLATE {SQLITE_COLLATION}"


@compiles(_VietnameseOrder, "postgresql")
def _postgresql_order(element, compiler, **kw):
    return f'{compiler.process(element.column, **kw)} COLLATE "{POSTGRESQL_COLLATION}"'


def by_name(column) -> ColumnElement:
    """`column` to sort by in Vietnamese order: `order_by(by_name(Unit.name), Unit.id)`."""
    return _VietnameseOrder(column)


def _compare(a: str, b: str) -> int:
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def register_sqlite(dbapi_connection) -> None:
    """Give a SQLite connection the `vi` collation."""
    dbapi_connection.create_collation(SQLITE_COLLATION, _compare)


def like_pattern(q: str) -> str | None:
    """`q` folded, as a LIKE pattern matching it anywhere; None when nothing is left to
    search for (blank, or only diacritics and spaces)."""
    folded = fold(q)
    if not folded:
        return None
    escaped = (folded.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def folded_contains(column: ColumnClause, q: str) -> ColumnElement[bool]:
    """The rows whose folded `column` contains `q` folded; every row when `q` folds to
    nothing."""
    pattern = like_pattern(q)
    if pattern is None:
        return true()
    return column.like(pattern, escape=LIKE_ESCAPE)


def keep_search_text(model, fields: tuple[str, ...], column: str = "search_text") -> None:
    """Keep `model`'s stored folded column equal to `fold_fields` of `fields` on every ORM
    insert and on every update that changes one of them, whichever service writes."""

    def refresh(_mapper, _connection, target) -> None:
        state = inspect(target)
        if state.persistent and not any(state.attrs[f].history.has_changes() for f in fields):
            return
        setattr(target, column, fold_fields(*(getattr(target, f) for f in fields)))

    event.listen(model, "before_insert", refresh)
    event.listen(model, "before_update", refresh)
