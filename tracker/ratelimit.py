"""Where Flask-Limiter counts request rates in one process: limits' in-memory storage,
without its timer thread (`TRACKER_RATELIMIT_STORAGE_URI` default `tracker-memory://`).

limits' `MemoryStorage` drops expired counts from a `threading.Timer` it re-arms on every
count. That thread is not a daemon, so the interpreter waits for it at exit — and under a
faked monotonic clock (libfaketime, how the 16:00 moment is tested and benchmarked) its
0.01 s wait never ends: no gunicorn worker, scheduler or command could stop. Here the
sweep runs inline instead, at most every `SWEEP_SECONDS`, in the request that counts; reads
already ignore expired counts (`MemoryStorage.get`). This subclass reaches one private
method of limits (its timer's scheduling): limits is pinned in requirements/constraints.txt
and tests/test_ratelimit_storage.py checks that the method still exists and that no
thread is started."""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 10.0


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
