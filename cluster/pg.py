"""Throw-away PostgreSQL servers: each in a directory of its own, on an address and port of
its own, run by the `postgres` user with the installed server's binaries — optionally inside
a network namespace (`prefix`, e.g. ["ip", "netns", "exec", "trk-db1"]). A primary and its
streaming replica (`pg_basebackup -R`) are a `Pair`. The machine's main server is never
touched. Used by tests/test_read_replica.py and by the cluster test (cluster/run.py).
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


def as_postgres(args: list[str], *, prefix: tuple[str, ...] = (),
                check: bool = True) -> subprocess.CompletedProcess:
    """Run a server binary as the `postgres` user (the server refuses to run as root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run([*prefix, *args], check=check, capture_output=True, text=True,
                          timeout=120)


class Server:
    """One server: `start`, `stop` (fast or immediate), `url`, `connect`."""

    def __init__(self, bin_dir: Path, data: Path, port: int, host: str = "127.0.0.1",
                 prefix: tuple[str, ...] = ()):
        self.bin, self.data, self.port, self.host, self.prefix = bin_dir, data, port, host, prefix

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A connection from this process (in the root namespace: only for servers on
        127.0.0.1; a namespaced server is reached through `psql` in its namespace)."""
        return psycopg.connect(self.url(database, "postgresql"), autocommit=True,
                               connect_timeout=5)

    def configure(self, lines: str) -> None:
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '{self.host}'\n"
                       f"unix_socket_directories = '{self.data}'\n{lines}")

    def start(self) -> None:
        as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                     str(self.data / "server.log"), "-w", "-t", "60", "start"],
                    prefix=self.prefix)

    def stop(self, mode: str = "fast") -> None:
        as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                     "stop"], prefix=self.prefix, check=False)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """One statement through psql on the server's own socket (any namespace)."""
        out = as_postgres([str(self.bin / "psql"), "-h", str(self.data), "-p", str(self.port),
                           "-U", "postgres", "-d", database, "-Atqc", statement],
                          prefix=self.prefix)
        return out.stdout.strip()

    def wait_caught_up(self, primary: Server, timeout: float = 30) -> None:
        """Until this replica has replayed everything the primary has written."""
        target = primary.sql("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")


class Pair:
    """A primary and its streaming replica, in a temporary directory."""

    def __init__(self, primary_at: tuple[str, tuple[str, ...]] = ("127.0.0.1", ()),
                 replica_at: tuple[str, tuple[str, ...]] = ("127.0.0.1", ()),
                 subnet: str = "127.0.0.1/32"):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries installed")
        self.root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.subnet = subnet
        self.primary = Server(self.bin, self.root / "primary", free_port(), *primary_at)
        self.replica = Server(self.bin, self.root / "replica", free_port(), *replica_at)

    def start(self) -> Pair:
        p = self.primary
        as_postgres([str(self.bin / "initdb"), "-D", str(p.data), "-U", "postgres",
                     "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        p.configure("wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
                    "fsync = off\nmax_connections = 200\n")
        with open(p.data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all postgres {self.subnet} trust\n"
                      f"host replication postgres {self.subnet} trust\n")
        p.start()
        as_postgres([str(self.bin / "pg_basebackup"), "-h", p.host, "-p", str(p.port),
                     "-U", "postgres", "-D", str(self.replica.data), "-R", "-X", "stream"],
                    prefix=self.replica.prefix)
        self.replica.configure("")
        self.replica.start()
        return self

    def create_database(self, name: str) -> None:
        self.primary.sql(f'CREATE DATABASE "{name}"')
        self.replica.wait_caught_up(self.primary)

    def close(self) -> None:
        self.replica.stop("immediate")
        self.primary.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
