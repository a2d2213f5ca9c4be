"""Column types shared by the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import DateTime, Select, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

# Ids are 32-bit integers on every backend: a larger id in a URL or a form names no row
# (and would overflow PostgreSQL's integer), so it is answered as "not found".
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text. Either way Python sees an
    aware UTC datetime, and a naive one is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _IdListType(TypeDecorator):
    """An `id_list`'s value: PostgreSQL's integer array as a list, SQLite's JSON array
    parsed into one."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value, dialect) -> list[int]:
        if value is None:
            return []
        return json.loads(value) if isinstance(value, str) else list(value)


class _IdList(ColumnElement):
    """See `id_list`."""

    inherit_cache = True
    _traverse_internals = [("ids", InternalTraversal.dp_clauseelement)]
    type = _IdListType()

    def __init__(self, ids: Select):
        only, = ids.selected_columns
        self.ids = ids.with_only_columns(only.label("id"), maintain_column_froms=True) \
            .scalar_subquery()


def id_list(ids: Select) -> ColumnElement[list[int]]:
    """The ids that `ids` (a SELECT of one column, correlated to the enclosing row) finds, in
    its order, as one value of each row: `ARRAY(SELECT …)` on PostgreSQL, the SELECT's ids
    gathered by `json_group_array` on SQLite. Python sees a list of ints (empty when none).
    A page of rows reads each row's list in its own statement, rather than by one more.
    tests/test_types.py proves both forms equal to a plain SELECT of the ids."""
    return _IdList(ids)


@compiles(_IdList)
def _sqlite_id_list(element, compiler, **kw):
    return f"(SELECT json_group_array(ids.id) FROM {compiler.process(element.ids, **kw)} AS ids)"


@compiles(_IdList, "postgresql")
def _postgresql_id_list(element, compiler, **kw):
    return f"ARRAY{compiler.process(element.ids, **kw)}"
