"""Throw-away PostgreSQL servers for the tests that need more than one (a primary and its
streaming replica): each in a directory of its own on a port of its own, run by the
`postgres` user with the server binaries of the installed PostgreSQL, torn down after. The
main server on 5432 is never touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def binaries() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:  # the server refuses to run as root
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=120)


class Server:
    """One server: `start`, `stop` (fast or immediate), `url`, `admin()` connections."""

    def __init__(self, bin_dir: Path, data: Path, port: int):
        self.bin, self.data, self.port = bin_dir, data, port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/{database}",
                               autocommit=True, connect_timeout=5)

    def start(self) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                      str(self.data / "server.log"), "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                      "stop"], check=False)

    def wait_caught_up(self, primary: Server, timeout: float = 30) -> None:
        """Until this replica has replayed everything the primary has written."""
        with primary.connect() as p:
            target = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.connect() as r:
            while time.monotonic() < deadline:
                done = r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                 (str(target),)).fetchone()[0]
                if done:
                    return
                time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")


class Pair:
    """A primary and its streaming replica (pg_basebackup -R), in a temporary directory."""

    def __init__(self):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries installed")
        self.root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.primary = Server(self.bin, self.root / "primary", free_port())
        self.replica = Server(self.bin, self.root / "replica", free_port())

    def start(self) -> Pair:
        p = self.primary
        _as_postgres([str(self.bin / "initdb"), "-D", str(p.data), "-U", "postgres",
                      "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        with open(p.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {p.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{p.data}'\nwal_level = replica\n"
                       "max_wal_senders = 5\nhot_standby = on\nfsync = off\n")
        with open(p.data / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        p.start()
        _as_postgres([str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(p.port),
                      "-U", "postgres", "-D", str(self.replica.data), "-R", "-X", "stream"])
        with open(self.replica.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.replica.port}\n"
                       f"unix_socket_directories = '{self.replica.data}'\n")
        self.replica.start()
        return self

    def create_database(self, name: str) -> None:
        with self.primary.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.replica.wait_caught_up(self.primary)

    def close(self) -> None:
        self.replica.stop("immediate")
        self.primary.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
