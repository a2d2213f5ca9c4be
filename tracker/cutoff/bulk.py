"""Writing many rows inside the session's transaction: PostgreSQL's COPY where it is there
(a national cutoff writes millions of rows; one INSERT per row costs a round of parsing and
binding each), a plain executemany elsewhere (SQLite, whose executemany is already cheap).

Rows are tuples in the order of `columns`; the values must already be what the columns
store (aware UTC datetimes, dates, str), since COPY bypasses SQLAlchemy's type processing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, bindparam, insert, update

from tracker.extensions import db


def _copy_cursor():
    """A raw psycopg cursor on the session's connection, or None when COPY is not there."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        return None
    return connection.connection.driver_connection.cursor()


def _quote(name: str) -> str:
    return db.session.connection().dialect.identifier_preparer.quote(name)


def insert_rows(table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert `rows` into `table`; returns how many."""
    cursor = _copy_cursor()
    count = 0
    if cursor is not None:
        sql = f"COPY {_quote(table.name)} ({', '.join(map(_quote, columns))}) FROM STDIN"
        with cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    rows = [dict(zip(columns, row, strict=True)) for row in rows]
    if rows:
        db.session.execute(insert(table), rows)
    return len(rows)


class BulkUpdate:
    """Collect (primary key, values…) for one table and apply them in one statement at
    the end: on PostgreSQL through a temporary table and one UPDATE … FROM, elsewhere by
    executemany. Holds no rows in Python on PostgreSQL (they stream to the server)."""

    def __init__(self, table: Table, key: str, columns: Sequence[str]):
        self.table, self.key, self.columns = table, key, tuple(columns)
        self.count = 0
        self._pending: list[tuple] = []
        self._copy = _copy_cursor()
        self._temp = f"bulk_{table.name}"
        if self._copy is not None:
            types = ", ".join(f"{_quote(c)} {self._type(c)}" for c in (key, *columns))
            self._copy.execute(f"CREATE TEMPORARY TABLE {self._temp} ({types})")

    def _type(self, name: str) -> str:
        return self.table.c[name].type.compile(dialect=db.session.connection().dialect)

    def add(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        self.count += len(rows)
        if self._copy is None:
            self._pending.extend(rows)
            return
        names = ", ".join(map(_quote, (self.key, *self.columns)))
        with self._copy.copy(f"COPY {self._temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def apply(self) -> int:
        if self._copy is None:
            if self._pending:
                key = self.table.c[self.key]
                statement = update(self.table).where(key == bindparam("_key")).values(
                    {c: bindparam(f"_{c}") for c in self.columns})
                db.session.connection().execute(statement, [
                    {"_key": row[0], **{f"_{c}": v for c, v in zip(self.columns, row[1:],
                                                                   strict=True)}}
                    for row in self._pending])
                self._pending = []
            return self.count
        with self._copy as cursor:
            if self.count:
                cursor.execute(f"ANALYZE {self._temp}")
                assignments = ", ".join(f"{_quote(c)} = b.{_quote(c)}" for c in self.columns)
                cursor.execute(
                    f"UPDATE {_quote(self.table.name)} AS t SET {assignments} "
                    f"FROM {self._temp} AS b WHERE t.{_quote(self.key)} = b.{_quote(self.key)}")
            cursor.execute(f"DROP TABLE {self._temp}")
        return self.count
