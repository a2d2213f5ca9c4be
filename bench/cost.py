"""The CPU each operation costs, in the app's process (in process, through the test client
and the same app factory) and in the PostgreSQL backends (/proc/<pid>/stat): per single
update, per batch item, per dashboard and red queue read, on the province seed. CPU time,
unlike wall time, hardly moves with the machine's other load, so two commits can be compared
on a busy machine (docs/performance.md). It imports only what every checkout since the
benchmark began has (bench.run, bench.harness, bench.seed), so it runs against older
commits too:

    cd <a checkout> && .venv/bin/python <this file>      # prints one RESULT {json} line
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the checkout measured, wherever this file lives

import psycopg

from bench.harness import env_for
from bench.run import PREVIOUS_DAY, RUSH

SINGLE = int(os.environ.get("N_SINGLE", 1500))
READS = 40
SERVER = "postgresql://postgres@127.0.0.1:5432"
TICK = os.sysconf("SC_CLK_TCK")
BODY = {"progress": 50, "work_done": "Cập nhật tiến độ trong giờ cao điểm"}


def backend_cpu(admin, name: str) -> float:
    """CPU seconds used so far by the database's backends."""
    total = 0.0
    for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                (name,)).fetchall():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def seeded_app(url: str):
    env = {**env_for(url, RUSH), "TRACKER_ADMIN_2FA": "optional"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   env=env, check=True, capture_output=True)
    os.environ.update(env)
    from bench.seed import seed
    from tracker import create_app
    from tracker.clock import FixedClock

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                             "postgresql+psycopg://"),
                      "CLOCK": FixedClock(RUSH), "SECRET_KEY": "bench"})
    seeded = seed(app, url, "province", RUSH.date(), RUSH)
    for command in (["colours", "refresh"], ["cutoff", "run", "--date",
                                             PREVIOUS_DAY.isoformat()]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", *command],
                       env=env, check=True, capture_output=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return app, seeded


def measure(admin, name: str, count: int, operation) -> dict:
    operation(0)  # warm up
    db_before, app_before, wall_before = (backend_cpu(admin, name), time.process_time(),
                                          time.perf_counter())
    for i in range(1, count + 1):
        operation(i)
    app_after, db_after, wall_after = (time.process_time(), backend_cpu(admin, name),
                                       time.perf_counter())
    return {"n": count, "app_ms": round((app_after - app_before) * 1000 / count, 3),
            "db_ms": round((db_after - db_before) * 1000 / count, 3),
            "wall_ms": round((wall_after - wall_before) * 1000 / count, 3)}


def run(admin, name: str, url: str) -> dict:
    app, seeded = seeded_app(url)
    api = app.test_client()
    targets = [(seeded.tokens[u], t) for u in seeded.units for t in seeded.tasks[u][:20]]
    result = {"checkout": subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True).stdout.strip()}

    def single(i):
        token, task = targets[(i * 7919) % len(targets)]
        answer = api.post(f"/api/v1/tasks/{task}/updates", json=BODY,
                          headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 201, answer.status_code

    result["single_update"] = measure(admin, name, SINGLE, single)

    units = [u for u in seeded.units if seeded.tasks[u]][:12]

    def batch(i):
        unit = units[i % len(units)]
        items = [{"task_id": t, "progress": 60, "work_done": "Báo cáo cả ngày"}
                 for t in seeded.tasks[unit][:1000]]
        answer = api.post(f"/api/v1/units/{unit}/updates", json={"items": items},
                          headers={"Authorization": f"Bearer {seeded.tokens[unit]}"})
        assert answer.status_code == 201, answer.status_code

    per_batch = measure(admin, name, 10, batch)
    items = len(seeded.tasks[units[1]][:1000])
    result["batch_item"] = {"n": 10 * items, **{key: round(value / items, 4)
                                                 for key, value in per_batch.items()
                                                 if key != "n"}}

    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    web.post("/login", data={"username": "bench_admin", "password": "benchmark password",
                             "csrf_token": token})
    for label, path in (("dashboard", "/dashboard"), ("red_queue", "/supervise/red")):
        def read(_i, path=path):
            answer = web.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        result[label] = measure(admin, name, READS, read)
    return result


def main() -> None:
    name = f"tracker_cost_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            print("RESULT " + json.dumps(run(admin, name, f"{SERVER}/{name}")), flush=True)
        finally:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
