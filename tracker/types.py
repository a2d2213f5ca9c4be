"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
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
