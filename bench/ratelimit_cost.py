"""The CPU one rate-limit count costs (tracker.ratelimit), in this process and in the
PostgreSQL backend, against the in-process storage: a limited request's `incr` and the
headers' `get` and `get_expiry`, each in its own request context, on an empty database
made for the purpose and dropped after (docs/deployment.md, "What it costs").

    .venv/bin/python bench/ratelimit_cost.py
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.getcwd())

import psycopg

SERVER = "postgresql://postgres@127.0.0.1:5432"
TICK = os.sysconf("SC_CLK_TCK")
N = 3000


def backend_cpu(admin, name: str) -> float:
    total = 0.0
    for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                (name,)).fetchall():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def main() -> None:
    name = f"trk_ratecost_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            measure(admin, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(admin, name: str) -> None:
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db
    from tracker.ratelimit import DatabaseStorage, QuietMemoryStorage

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1"
                                                 f":5432/{name}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        for label, storage in (("memory", QuietMemoryStorage("tracker-memory://")),
                               ("database", DatabaseStorage("tracker-db://"))):
            with app.test_request_context():
                for i in range(50):  # warm: connections, prepared statements
                    storage.incr(f"warm{i % 7}", 60)
            cpu, app_cpu = backend_cpu(admin, name), time.process_time()
            for i in range(N):
                key = f"LIMITER/token:{i % 50}/api/600/1/minute"
                with app.test_request_context():
                    storage.incr(key, 60)
                    storage.get(key)
                    storage.get_expiry(key)
            app_ms = 1000 * (time.process_time() - app_cpu) / N
            db_ms = 1000 * (backend_cpu(admin, name) - cpu) / N
            print(f"{label}: app {app_ms:.3f} ms, backends {db_ms:.3f} ms per request")
        db.engine.dispose()


if __name__ == "__main__":
    main()
