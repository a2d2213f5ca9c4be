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
    """Set (primary key, values…) rows of one table, a batch at a time: on PostgreSQL one
    UPDATE … FROM unnest(arrays) per batch, sent at once (nothing held in Python);
    elsewhere collected and applied by one executemany in `apply`.

    On PostgreSQL the batch's rows are first locked in key order, as every other writer
    of many tasks locks them (the batch updates): the UPDATE alone would lock them in
    whatever order its plan meets them, and a writer holding one row while waiting for
    another could then deadlock with the cutoff and have it rolled back."""

    def __init__(self, table: Table, key: str, columns: Sequence[str]):
        self.table, self.key, self.columns = table, key, tuple(columns)
        self.count = 0
        self._pending: list[tuple] = []
        self._postgres = _copy_cursor() is not None
        if self._postgres:
            names = (key, *self.columns)
            dialect = db.session.connection().dialect
            arrays = ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]"
                               for c in names)
            assignments = ", ".join(f"{_quote(c)} = b.{_quote(c)}" for c in self.columns)
            self._lock_sql = (f"SELECT 1 FROM {_quote(table.name)} WHERE {_quote(key)} = "
                              f"ANY(%s) ORDER BY {_quote(key)} FOR NO KEY UPDATE")
            self._sql = (f"UPDATE {_quote(table.name)} AS t SET {assignments} "
                         f"FROM unnest({arrays}) AS b({', '.join(map(_quote, names))}) "
                         f"WHERE t.{_quote(key)} = b.{_quote(key)}")

    def add(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        self.count += len(rows)
        if not self._postgres:
            self._pending.extend(rows)
            return
        columns = [list(column) for column in zip(*rows, strict=True)]
        with _copy_cursor() as cursor:
            cursor.execute(self._lock_sql, [columns[0]])
            cursor.execute(self._sql, columns)

    def apply(self) -> int:
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


def analyze(*tables: Table) -> None:
    """Refresh PostgreSQL's statistics of tables just filled in bulk, so that the first
    reports after a cutoff are planned for the rows it wrote (autovacuum would come a
    minute later). Nothing to do elsewhere."""
    cursor = _copy_cursor()
    if cursor is None:
        return
    with cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {_quote(table.name)}")
