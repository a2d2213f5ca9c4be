"""Real faults and moving clocks for the tests of the 16:00 moment.

- `RunningClock`: a clock that runs at the speed of real time from a chosen moment, as
  libfaketime's does — for races that need time to pass while threads work.
- `DatabaseOutage`: makes the test database really unreachable and brings it back: on
  PostgreSQL a TCP relay between the app and the server is cut (every connection through it
  dropped, new ones refused); on SQLite another connection takes the database's exclusive
  lock, as a stuck writer would. On PostgreSQL `freeze()`/`thaw()` stops the relay
  forwarding while keeping every connection open, as a server or network that hangs does.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import make_url


class RunningClock:
    """Starts at `moment` and runs with real time (monotonic)."""

    def __init__(self, moment: datetime):
        self.set(moment)

    def set(self, moment: datetime) -> None:
        self._start, self._origin = moment.astimezone(UTC), time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


class _Relay:
    """A TCP relay from a local port to the database server; `cut` drops every connection
    through it and refuses new ones until `mend`."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.up = True
        self.frozen = False
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                if not self.up:  # cut while this connection was being made
                    client.close()
                    server.close()
                    continue
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.frozen:  # held, as a hung server or network would
                    time.sleep(0.02)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):  # the peer may have gone already
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def mend(self) -> None:
        self.up = True

    def freeze(self) -> None:
        self.frozen = True

    def thaw(self) -> None:
        self.frozen = False

    def close(self) -> None:
        self.thaw()
        self.cut()
        self.listener.close()


class DatabaseOutage:
    """`url`: the URL the app under test should use; `down()`/`up()` the outage."""

    def __init__(self, database_url: str):
        parsed = make_url(database_url)
        self._sqlite_path = None
        self._relay = None
        self._holder = None
        if parsed.get_backend_name() == "sqlite":
            self._sqlite_path = parsed.database
            self.url = database_url
        else:
            self._relay = _Relay(parsed.host or "127.0.0.1", parsed.port or 5432)
            self.url = parsed.set(host="127.0.0.1", port=self._relay.port) \
                .render_as_string(hide_password=False)

    def down(self) -> None:
        if self._relay is not None:
            self._relay.cut()
            return
        self._holder = sqlite3.connect(self._sqlite_path, isolation_level=None, timeout=10)
        self._holder.execute("BEGIN EXCLUSIVE")

    def up(self) -> None:
        if self._relay is not None:
            self._relay.mend()
            return
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None

    def freeze(self) -> None:
        """PostgreSQL only: nothing passes any more, but no connection is closed."""
        self._relay.freeze()

    def thaw(self) -> None:
        self._relay.thaw()

    def close(self) -> None:
        self.up()
        if self._relay is not None:
            self._relay.close()
