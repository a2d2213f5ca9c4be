"""The in-process rate counts start no thread (a process must be able to stop under a
faked monotonic clock), and still count, expire and sweep."""

from __future__ import annotations

import threading

import limits.storage.memory
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from tracker.extensions import limiter
from tracker.ratelimit import QuietMemoryStorage


def test_the_app_counts_in_the_quiet_storage(app):
    assert isinstance(limiter.storage, QuietMemoryStorage)


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
