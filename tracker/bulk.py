"""Writing many rows: the one seam that knows how each database does it best. Every
caller — the progress updates, the audit trail, the cutoff, the colour refresh — states
*what* to write; this module decides *how*.

PostgreSQL: COPY for many new rows (a national cutoff writes millions; one INSERT per row
costs a round of parsing and binding each), one `UPDATE … FROM unnest(arrays)` for many
changed rows. Elsewhere (SQLite): SQLAlchemy's executemany, already cheap there.

Rows are tuples in the order of the columns given; the values must already be what the
columns store (aware UTC datetimes, dates, str), since COPY and the arrays bypass
SQLAlchemy's type processing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from psycopg.rows import namedtuple_row
from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from tracker.extensions import db

# Fewer new rows than this go in one plain INSERT: COPY's extra round trip costs more.
COPY_FROM = 64
# Up to this many rows go as plain parameters (VALUES lists) rather than one array per
# column: the driver dumps arrays element by element, which costs more for a few rows.
SCALARS_UP_TO = 16
# A BulkUpdate written `separately` holds at most this many batches waiting for its thread.
QUEUED = 2


def _postgres(connection=None) -> bool:
    connection = connection or db.session.connection()
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"


def _cursor(connection=None):
    """A raw psycopg cursor on the session's connection (or the one given)."""
    connection = connection or db.session.connection()
    return connection.connection.driver_connection.cursor()


def _quote(name: str) -> str:
    return db.session.connection().dialect.identifier_preparer.quote(name)


_trip: ContextVar[bool] = ContextVar("tracker_bulk_trip", default=False)


@contextmanager
def one_trip():
    """The writes made inside are sent to PostgreSQL together, in one round trip (the
    driver's pipeline mode), and their results awaited once at the end; elsewhere they run
    one after the other. Nothing inside may need another's result."""
    if not _postgres():
        yield
        return
    token = _trip.set(True)
    try:
        with db.session.connection().connection.driver_connection.pipeline():
            yield
    finally:
        _trip.reset(token)


def reserve_ids(table: Table, count: int) -> list[int]:
    """`count` new ids for rows of `table` that will be inserted with them, so that rows
    written in the same trip can name them. PostgreSQL: drawn from the table's sequence.
    SQLite: those after the largest id — safe, since a SQLite writer holds the database's
    one write lock from its first statement (BEGIN IMMEDIATE, tracker.database)."""
    if count <= 0:
        return []
    if _postgres():
        with _cursor() as cursor:
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                           "FROM generate_series(1, %s)", (count,))
            return [row[0] for row in cursor.fetchall()]
    last = db.session.connection().execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(last + 1, last + 1 + count))


def insert_rows(table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert `rows` into `table` in the session's transaction; returns how many."""
    if not _postgres():
        dicts = [dict(zip(columns, row, strict=True)) for row in rows]
        if dicts:
            db.session.connection().execute(insert(table), dicts)
        return len(dicts)
    rows = iter(rows)
    first = [row for _n, row in zip(range(COPY_FROM), rows, strict=False)]
    if len(first) < COPY_FROM or _trip.get():  # COPY cannot join a pipeline
        first += list(rows)
        if first:
            with _cursor() as cursor:
                if len(first) <= SCALARS_UP_TO:
                    cursor.execute(_insert_values_sql(table, tuple(columns), len(first)),
                                   [value for row in first for value in row])
                else:
                    cursor.execute(_insert_sql(table, tuple(columns)),
                                   [list(column) for column in zip(*first, strict=True)])
        return len(first)
    sql = f"COPY {_quote(table.name)} ({', '.join(map(_quote, columns))}) FROM STDIN"
    count = 0
    with _cursor() as cursor, cursor.copy(sql) as copy:
        for batch in (first, rows):
            for row in batch:
                copy.write_row(row)
                count += 1
    return count


def all_rows(statement, connection=None, *, named: bool = True) -> list:
    """Every row of a SELECT, as named tuples (or plain ones: `named=False`, cheaper by a
    few microseconds a row), on the session's connection (or the one given). PostgreSQL:
    straight from the driver, without SQLAlchemy's processing of each value (a million rows
    a cutoff; timestamps come back aware already); elsewhere through SQLAlchemy."""
    connection = connection or db.session.connection()
    if not _postgres(connection):
        rows = connection.execute(statement).all()
        return rows if named else [tuple(row) for row in rows]
    compiled = statement.compile(dialect=connection.dialect)
    with _cursor(connection) as cursor:
        if named:
            cursor.row_factory = namedtuple_row
        cursor.execute(str(compiled), compiled.params, binary=True)
        return cursor.fetchall()


def in_ids(column, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN (ids)` for ids already known (a page's), written on PostgreSQL as
    `column = ANY(:ids)` with one array parameter: the statement's text is then the same
    however many ids there are, so the driver parses it once and PostgreSQL plans it once,
    where a hundred parameters each time defeat both caches (psycopg keeps statements of
    at most 50 parameters)."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer), unique=True))
    return column.in_(list(ids))


def _array_types(table: Table, names: Sequence[str]) -> str:
    dialect = db.session.connection().dialect
    return ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in names)


@lru_cache(maxsize=64)
def _insert_sql(table: Table, columns: tuple[str, ...]) -> str:
    """PostgreSQL: insert the rows given as one array per column (built once per shape)."""
    names = ", ".join(map(_quote, columns))
    return (f"INSERT INTO {_quote(table.name)} ({names}) "
            f"SELECT * FROM unnest({_array_types(table, columns)})")


@lru_cache(maxsize=256)
def _insert_values_sql(table: Table, columns: tuple[str, ...], count: int) -> str:
    row = f"({', '.join(['%s'] * len(columns))})"
    return (f"INSERT INTO {_quote(table.name)} ({', '.join(map(_quote, columns))}) "
            f"VALUES {', '.join([row] * count)}")


class BulkUpdate:
    """Set (key, [guard,] values…) rows of one table, a batch (`add`) at a time.

    - `guard`: a column whose value, given after the key, the row must still have — a row
      changed since it was read is left alone (its writer stored its own values).
    - `lock`: lock each batch's rows in key order first (PostgreSQL), as every writer of
      several tasks locks them; the UPDATE alone would lock them in whatever order its plan
      meets them, and a writer holding one row while waiting for another could deadlock.
    - `separately`: PostgreSQL only — write on a connection and a thread of its own, each
      batch committed at once, so that no lock is held beyond a batch (the cutoff's colour
      refresh must not hold writers up) and the caller goes on reading and judging while
      the server writes (`add` returns once the batch is queued; at most `QUEUED` wait). A
      batch that fails is raised by the next `add` or by `apply`. Elsewhere the batches
      join the session's transaction (SQLite has one writer at a time anyway).

    On PostgreSQL each batch is one `UPDATE … FROM unnest(arrays)`, sent at once; elsewhere
    the rows are collected and `apply` writes them with one executemany.
    """

    def __init__(self, table: Table, key: str, columns: Sequence[str], *,
                 guard: str | None = None, lock: bool = True, separately: bool = False):
        self.table, self.key, self.guard = table, key, guard
        self.columns = tuple(columns)
        self.count = 0
        self._pending: list[tuple] = []
        self._postgres = _postgres()
        self._connection = None
        self._lock_sql = None
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        if not self._postgres:
            return
        self._dialect = db.session.connection().dialect
        self._lock_sql, self._sql = _update_sql(table, key, self.columns, guard, lock)
        if separately:
            self._connection = db.engine.connect()
            self._queue = queue.Queue(maxsize=QUEUED)
            self._thread = threading.Thread(target=self._write_queued, daemon=True,
                                            name=f"bulk-update-{table.name}")
            self._thread.start()

    def add(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        self._raise_failure()
        self.count += len(rows)
        if not self._postgres:
            self._pending.extend(rows)
            return
        columns = [list(column) for column in zip(*rows, strict=True)]
        if self._queue is None:
            with _cursor() as cursor:
                self._send(cursor, columns)
            return
        self._queue.put(columns)

    def _write_queued(self) -> None:
        """The writer thread: each queued batch in a transaction of its own, in order; after
        a failure the rest are dropped (the caller is told and gives up)."""
        while (columns := self._queue.get()) is not None:
            try:
                if self._failure is None:
                    with self._connection.begin(), _cursor(self._connection) as cursor:
                        self._send(cursor, columns)
            except BaseException as exc:  # handed to the caller's thread
                self._failure = exc
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _send(self, cursor, columns) -> None:
        if self._lock_sql:
            cursor.execute(self._lock_sql, [columns[0]])
        count = len(columns[0])
        if count <= SCALARS_UP_TO:
            cursor.execute(_update_values_sql(self.table, self.key, self.columns, self.guard,
                                              count, self._dialect),
                           [value for row in zip(*columns, strict=True) for value in row])
        else:
            cursor.execute(self._sql, columns)

    def apply(self) -> int:
        """Write what is pending (elsewhere than PostgreSQL; on PostgreSQL, wait for the
        queued batches); returns the rows given."""
        try:
            if self._pending:
                self._apply_pending()
            if self._queue is not None:
                self._queue.join()
                self._raise_failure()
        finally:
            self.close()
        return self.count

    def _apply_pending(self) -> None:
        key = self.table.c[self.key]
        condition = key == bindparam("_key")
        if self.guard:
            condition &= self.table.c[self.guard] == bindparam("_guard")
        statement = update(self.table).where(condition).values(
            {c: bindparam(f"_{c}") for c in self.columns})
        offset = 2 if self.guard else 1
        params = []
        for row in self._pending:
            values = {"_key": row[0], **{f"_{c}": v for c, v in zip(
                self.columns, row[offset:], strict=True)}}
            if self.guard:
                values["_guard"] = row[1]
            params.append(values)
        db.session.connection().execute(statement, params)
        self._pending = []

    def close(self) -> None:
        """Stop the writer thread (after the batches already queued) and release the
        connection. Batches not applied are not undone: each was committed on its own."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@lru_cache(maxsize=64)
def _update_sql(table: Table, key: str, columns: tuple[str, ...], guard: str | None,
                lock: bool) -> tuple[str | None, str]:
    """PostgreSQL's lock and UPDATE … FROM unnest statements for a BulkUpdate (built once)."""
    names = (key, *((guard,) if guard else ()), *columns)
    arrays = _array_types(table, names)
    assignments = ", ".join(f"{_quote(c)} = b.{_quote(c)}" for c in columns)
    where = f"t.{_quote(key)} = b.{_quote(key)}"
    if guard:
        where += f" AND t.{_quote(guard)} = b.{_quote(guard)}"
    lock_sql = (f"SELECT 1 FROM {_quote(table.name)} WHERE {_quote(key)} = ANY(%s) "
                f"ORDER BY {_quote(key)} FOR NO KEY UPDATE") if lock else None
    return lock_sql, (f"UPDATE {_quote(table.name)} AS t SET {assignments} "
                      f"FROM unnest({arrays}) AS b({', '.join(map(_quote, names))}) "
                      f"WHERE {where}")


@lru_cache(maxsize=256)
def _update_values_sql(table: Table, key: str, columns: tuple[str, ...], guard: str | None,
                       count: int, dialect) -> str:
    """BulkUpdate's statement for a few rows, each as typed parameters in a VALUES list."""
    names = (key, *((guard,) if guard else ()), *columns)
    quote = dialect.identifier_preparer.quote  # (called from a writer thread: no session)
    typed = ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}" for c in names)
    assignments = ", ".join(f"{quote(c)} = b.{quote(c)}" for c in columns)
    where = f"t.{quote(key)} = b.{quote(key)}"
    if guard:
        where += f" AND t.{quote(guard)} = b.{quote(guard)}"
    return (f"UPDATE {quote(table.name)} AS t SET {assignments} FROM (VALUES "
            f"{', '.join([f'({typed})'] * count)}) AS b({', '.join(map(quote, names))}) "
            f"WHERE {where}")


def analyze(*tables: Table) -> None:
    """Refresh PostgreSQL's statistics of tables just filled in bulk, so that the first
    reports after a cutoff are planned for the rows it wrote (autovacuum would come a
    minute later). Nothing to do elsewhere."""
    if not _postgres():
        return
    with _cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {_quote(table.name)}")


def sort_memory(amount: str) -> None:
    """Give this transaction's sorts and hashes `amount` of memory on PostgreSQL (its
    `work_mem`, e.g. "64MB"), for a statement that must hash or sort a national day's rows
    at once rather than spill them to disk or probe an index row by row. Nothing elsewhere."""
    if _postgres():
        if not amount[:-2].isdigit() or amount[-2:] not in ("kB", "MB"):
            raise ValueError(amount)
        db.session.execute(text(f"SET LOCAL work_mem = '{amount}'"))
