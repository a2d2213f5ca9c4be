"""Where Flask-Limiter counts request rates.

**`tracker-db://` (the default): in the database**, so that every worker of every web host
counts against one budget — a limit counted on host A counts on host B
(docs/deployment.md, "Shared state"). One statement per limited request, in autocommit on
a pooled connection of its own (never inside the request's transaction, whose row locks
would make a user's concurrent requests queue behind one another): an upsert that starts
a fresh window when the old one has expired, returning the count and the window's end;
the headers' read of the same count (`get`, `get_expiry`) reuses it from the request's
`g`.
The window is measured with this host's clock (`time.time()`, as limits' own storages
do; the hosts keep theirs in step). On PostgreSQL the table is UNLOGGED: no WAL, so its
commits wait for no disk flush, and a crash empties it — a lost count is harmless. On
SQLite (one host) the counts are kept in a database file of their own beside the main one
(`<file>-ratelimit`), shared by the host's workers: every SQLite transaction takes the
main file's one write lock (tracker.database), and a count made beside a request's own
transaction would wait for it.

**`tracker-memory://`: in this process only** (tests, a one-worker demo): limits'
in-memory storage without its timer thread. limits' `MemoryStorage` drops expired counts
from a `threading.Timer` it re-arms on every count. That thread is not a daemon, so the
interpreter waits for it at exit — and under a faked monotonic clock (libfaketime, how the
16:00 moment is tested and benchmarked) its 0.01 s wait never ends: no gunicorn worker,
scheduler or command could stop. Here the sweep runs inline instead, at most every
`SWEEP_SECONDS`, in the request that counts; reads already ignore expired counts
(`MemoryStorage.get`). This subclass reaches one private method of limits (its timer's
scheduling): limits is pinned in requirements/constraints.txt and
tests/test_ratelimit_storage.py checks that the method still exists and that no thread
is started."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, has_app_context
from limits.storage import MemoryStorage, Storage
from sqlalchemy import (
    Connection,
    Engine,
    Float,
    String,
    create_engine,
    delete,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CreateIndex, CreateTable

from tracker.deadlines import RushStatement
from tracker.extensions import db

SWEEP_SECONDS = 10.0
PRUNE_SECONDS = 600.0  # how often a process deletes the windows long expired
KEY_LENGTH = 200


class RateCount(db.Model):
    """One rate-limit window: how many requests `rate_key` made before `expires_at`
    (seconds since the epoch). UNLOGGED on PostgreSQL (migration b6d4f2a8c1e3): a count
    commits without waiting for a WAL flush, and a crash recovery empties the table."""

    __tablename__ = "rate_counts"

    rate_key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


# Both databases: INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite 3.35+).
_INCR = RushStatement(text("""
    INSERT INTO rate_counts (rate_key, count, expires_at) VALUES (:key, :amount, :expires)
    ON CONFLICT (rate_key) DO UPDATE SET
      count = CASE WHEN rate_counts.expires_at <= :now THEN excluded.count
                   ELSE rate_counts.count + excluded.count END,
      expires_at = CASE WHEN rate_counts.expires_at <= :now THEN excluded.expires_at
                        ELSE rate_counts.expires_at END
    RETURNING count, expires_at
"""))  # before every API request of the 16:00 rush
_SEEN = "tracker_rate_counts"  # g: {key: (count, expires_at)} counted in this request


def _count(conn: Connection, key: str, amount: int, now: float,
           expires: float) -> tuple[int, float]:
    return tuple(_INCR.run(conn, {"key": key, "amount": amount, "now": now,
                                  "expires": expires}))


def _key(key: str) -> str:
    if len(key) <= KEY_LENGTH:
        return key
    return key[:KEY_LENGTH - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """limits' storage interface (fixed windows, Flask-Limiter's default strategy) over the
    `rate_counts` table of the app's database."""

    STORAGE_SCHEME = ["tracker-db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._pruned = time.time()
        self._beside: dict[str, Engine] = {}  # SQLite: the file beside the main one

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def _engine(self) -> Engine:
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return engine
        path = f"{engine.url.database or ':memory:'}-ratelimit"
        beside = self._beside.get(path)
        if beside is None:
            beside = create_engine(f"sqlite:///{path}" if not path.startswith(":memory:")
                                   else "sqlite://", connect_args={"timeout": 10})
            with beside.begin() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                conn.execute(CreateTable(RateCount.__table__, if_not_exists=True))
                for index in RateCount.__table__.indexes:
                    conn.execute(CreateIndex(index, if_not_exists=True))
            self._beside[path] = beside
        return beside

    @contextmanager
    def _counting(self) -> Iterator[Connection]:
        """A connection in autocommit (each statement its own transaction: no BEGIN or
        COMMIT to wait for), taken from the pool for the one count and given back. The
        pool's checkout proves it alive within the connect limit (tracker.deadlines), so a
        frozen database costs a count that limit and a 503, never a hung thread; a
        connection kept across requests would have no such check (and, per thread, would
        double the connections a host holds)."""
        with self._engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        for attempt in range(2):
            try:
                with self._counting() as conn:
                    count, expires_at = _count(conn, _key(key), amount, now, now + expiry)
                    if now - self._pruned >= PRUNE_SECONDS:
                        self._pruned = now
                        conn.execute(delete(RateCount).where(RateCount.expires_at < now - 60))
                break
            except DBAPIError as exc:  # a kept connection the server dropped: once more
                if attempt or not exc.connection_invalidated:
                    raise
        if has_app_context():
            g.setdefault(_SEEN, {})[key] = (count, expires_at)
        return count

    def _read(self, key: str) -> tuple[int, float]:
        now = time.time()
        seen = g.get(_SEEN, {}).get(key) if has_app_context() else None
        if seen is None:
            with self._counting() as conn:
                seen = conn.execute(select(RateCount.count, RateCount.expires_at)
                                    .where(RateCount.rate_key == _key(key))).first()
        if seen is None or seen[1] <= now:
            return 0, now
        return seen[0], seen[1]

    def get(self, key: str) -> int:
        return self._read(key)[0]

    def get_expiry(self, key: str) -> float:
        return self._read(key)[1]

    def check(self) -> bool:
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self._engine().begin() as conn:
            return conn.execute(delete(RateCount)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(RateCount).where(RateCount.rate_key == _key(key)))
        if has_app_context():
            g.get(_SEEN, {}).pop(key, None)


class QuietMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["tracker-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # started by MemoryStorage.__init__; ends at once
        self._swept = time.time()

    def _MemoryStorage__schedule_expiry(self) -> None:  # limits' own (mangled) name
        now = time.time()
        if now - self._swept >= SWEEP_SECONDS:
            self._swept = now
            self._MemoryStorage__expire_events()
