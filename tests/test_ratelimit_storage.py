"""The rate counts: in the database by default (shared by every worker and host; the
hosts themselves are in tests/test_shared_state.py), and, in-process, without a thread (a
process must be able to stop under a faked monotonic clock) yet still counting, expiring
and sweeping."""

from __future__ import annotations

import threading

import limits.storage.memory
import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import text

from tracker.extensions import db, limiter
from tracker.ratelimit import DatabaseStorage, QuietMemoryStorage


def test_the_app_counts_in_the_database_by_default(app):
    assert isinstance(limiter.storage, DatabaseStorage)


def test_the_database_storage_counts_expires_and_clears(app, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr("tracker.ratelimit.time.time", lambda: now[0])
    window = FixedWindowRateLimiter(DatabaseStorage("tracker-db://"))
    five = parse("5/minute")
    assert [window.hit(five, "addr") for _ in range(6)] == [True] * 5 + [False]
    other = FixedWindowRateLimiter(DatabaseStorage("tracker-db://"))  # another process
    assert not other.hit(five, "addr")
    stats = other.get_window_stats(five, "addr")
    assert stats.remaining == 0 and stats.reset_time == 1_000_060.0
    now[0] += 61  # the window has passed: counted again from zero
    assert window.hit(five, "addr")
    assert other.get_window_stats(five, "addr").remaining == 4
    other.clear(five, "addr")
    assert window.get_window_stats(five, "addr").remaining == 5
    long_key = "x" * 500
    assert window.hit(five, long_key) and window.get_window_stats(five, long_key).remaining == 4


def test_a_count_waits_for_no_wal_flush_on_postgresql(app):
    # Every API request counts itself in a transaction of its own; logged, each count was
    # a second flush to disk beside the update's own (migration b6d4f2a8c1e3). Unlogged,
    # its commit does not wait for one.
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps its counts in a file of their own")
    persistence = db.session.scalar(text(
        "SELECT relpersistence FROM pg_class WHERE relname = 'rate_counts'"))
    assert persistence == "u"  # unlogged
    # Counting still works on it (and the table is the one the limiter writes).
    storage = DatabaseStorage("tracker-db://")
    assert [storage.incr("unlogged-probe", 60) for _ in range(3)] == [1, 2, 3]
    db.session.rollback()
    assert db.session.scalar(text(
        "SELECT count FROM rate_counts WHERE rate_key = 'unlogged-probe'")) == 3


def test_counting_starts_no_thread_and_limits_still_hold(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(limits.storage.memory.time, "time", lambda: now[0])
    storage = QuietMemoryStorage("tracker-memory://")
    storage.timer.join(5)  # MemoryStorage.__init__ starts it; cancelled, it ends at once
    assert not storage.timer.is_alive()
    before = {t.ident for t in threading.enumerate()}
    window = FixedWindowRateLimiter(storage)
    five = parse("5/minute")
    assert [window.hit(five, "addr") for _ in range(6)] == [True] * 5 + [False]
    assert {t.ident for t in threading.enumerate() if t.is_alive()} <= before
    now[0] += 61  # the window has passed: counted again from zero
    assert window.hit(five, "addr")
    now[0] += 120  # a sweep drops what expired
    window.hit(parse("1/second"), "other")
    assert "addr" not in str(list(storage.storage))


def test_the_private_method_replaced_still_exists_in_limits():
    # tracker.ratelimit overrides it; a new limits release that renames it would bring
    # the timer thread back without this test failing otherwise.
    assert hasattr(limits.storage.memory.MemoryStorage, "_MemoryStorage__schedule_expiry")
    assert hasattr(limits.storage.memory.MemoryStorage, "_MemoryStorage__expire_events")


def test_a_count_survives_the_loss_of_its_pooled_connection(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's backends can be ended from outside")
    storage = DatabaseStorage("tracker-db://")
    window = FixedWindowRateLimiter(storage)
    five = parse("5/minute")
    assert window.hit(five, "addr")
    with db.engine.begin() as conn:  # a server restart, a failover: the backend is gone
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND pid <> pg_backend_pid()"))
    assert window.hit(five, "addr")  # counted again on a new connection
    assert window.get_window_stats(five, "addr").remaining == 3
