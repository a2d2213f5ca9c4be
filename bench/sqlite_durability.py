"""What `PRAGMA synchronous=FULL` costs the embedded SQLite default, against NORMAL.

    python -m bench.sqlite_durability [--updates 300] [--rounds 3] [--dir DIR]

Two measurements, each with NORMAL and FULL in alternating rounds (so that a change in the
machine's load hits both alike), on a SQLite file in WAL mode under DIR (default: a
temporary folder; give a folder on the disk the deployment uses):

1. **Raw commits**: one connection, `BEGIN IMMEDIATE; UPDATE one row; COMMIT`, as many
   times as `--updates` — the cost of the commit alone.
2. **Progress updates through the service**: a member posts `--updates` progress updates
   one after another through `tracker.updates.service.post_update` (the web form's and the
   API's path: the fence, the scope check, the update, the task's colour, the audit row),
   each committed on its own, as a request would.

It prints per-commit latency (median, p95) and commits per second for each setting, and
the same as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SETTINGS = ("NORMAL", "FULL")


def _summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {"median_ms": round(1000 * statistics.median(ordered), 3),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
            "per_second": round(len(ordered) / sum(ordered), 1)}


def raw_commits(folder: Path, synchronous: str, n: int) -> list[float]:
    path = folder / f"raw-{synchronous}.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    connection.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, n INTEGER)")
    connection.execute("INSERT OR IGNORE INTO t VALUES (1, 0)")
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE t SET n = n + 1 WHERE id = 1")
        connection.execute("COMMIT")
        latencies.append(time.perf_counter() - started)
    connection.close()
    return latencies


def _app(folder: Path, synchronous: str):
    os.environ.setdefault("TRACKER_INSTANCE_PATH", str(folder / "instance"))
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.clock import FixedClock

    app = create_app({
        "SECRET_KEY": "bench", "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'app-{synchronous}.sqlite3'}",
        "TRACKER_SQLITE_SYNCHRONOUS": synchronous, "TRACKER_ARGON2_PROFILE": "CHEAPEST",
        "CLOCK": FixedClock(datetime(2026, 11, 18, 3, 0, tzinfo=UTC)),  # 10:00 ICT
    })
    with app.app_context():
        upgrade()
    return app


def _seed(app):
    from tracker.auth.service import create_user
    from tracker.extensions import db
    from tracker.tasks.service import create_task
    from tracker.units.importer import find_province, import_units

    with app.app_context():
        import_units([find_province("Quảng Ninh")])
        db.session.commit()
        from sqlalchemy import select

        from tracker.units.models import Unit
        province = db.session.scalar(select(Unit).where(Unit.short_name == "quang_ninh"))
        commune = db.session.scalar(select(Unit).where(Unit.short_name == "ha_long"))
        admin = create_user(None, username="admin", password="bench password 1", role="admin",
                            unit=province)
        create_user(None, username="member", password="bench password 1", role="member",
                    unit=commune)
        moment = datetime(2026, 11, 13, 2, 0, tzinfo=UTC)
        task = create_task(admin, {
            "title": "Số hoá hồ sơ", "description": "Số hoá hồ sơ lưu trữ",
            "lead_unit_id": commune.id, "owner_name": "Chủ tịch UBND phường",
            "start_date": "2026-11-01", "deadline": "2026-12-31",
            "leader_in_charge": "Phó Chủ tịch UBND tỉnh", "expected_output": "Kho hồ sơ",
            "assigning_authority": "Ban Chỉ đạo tỉnh", "source_doc_number": "05-TB/BCĐ",
            "source_doc_date": "2026-10-01"}, now=moment)
        db.session.commit()
        return task.id


def service_updates(app, task_id: int, n: int) -> list[float]:
    from sqlalchemy import select

    from tracker.auth.models import User
    from tracker.extensions import db
    from tracker.tasks.models import Task
    from tracker.updates.service import post_update

    latencies = []
    with app.app_context():
        start = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
        for i in range(n):
            member = db.session.scalar(select(User).where(User.username == "member"))
            task = db.session.get(Task, task_id)
            started = time.perf_counter()
            post_update(member, task, {"progress": 1 + i % 99, "work_done": f"Lần {i}"},
                        now=start + timedelta(seconds=i))
            db.session.commit()
            latencies.append(time.perf_counter() - started)
            db.session.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="tracker-durability-"))
    folder.mkdir(parents=True, exist_ok=True)
    apps = {s: _app(folder, s) for s in SETTINGS}
    tasks = {s: _seed(apps[s]) for s in SETTINGS}
    raw = {s: [] for s in SETTINGS}
    service = {s: [] for s in SETTINGS}
    for _round in range(args.rounds):
        for s in SETTINGS:
            raw[s] += raw_commits(folder, s, args.updates)
            service[s] += service_updates(apps[s], tasks[s], args.updates)
    result = {"folder": str(folder), "updates_per_round": args.updates, "rounds": args.rounds,
              "raw_commit": {s: _summary(raw[s]) for s in SETTINGS},
              "progress_update": {s: _summary(service[s]) for s in SETTINGS}}
    for kind in ("raw_commit", "progress_update"):
        for s in SETTINGS:
            r = result[kind][s]
            print(f"{kind:16} {s:7} median {r['median_ms']:8.3f} ms  p95 {r['p95_ms']:8.3f} ms"
                  f"  {r['per_second']:8.1f}/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
