"""`make bench [SCALE=tiny|province|national]`: the 16:00 rush, measured side by side.

Creates its own PostgreSQL database (DATABASE_URL's server, default 127.0.0.1:5432),
migrates, seeds, then measures in one run: single updates through nginx and gunicorn (16 and 64
clients, wrk), the same load against the floor app, pgbench with the same SQL (the
ceiling), batch updates, the cutoff over every open task, page reads at size, and memory.
Writes bench/results/<scale>.json and .md, then drops the database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import requests
from sqlalchemy import make_url

from bench.burst import burst_across_cutoff
from bench.harness import (
    ROOT,
    WORKERS,
    Server,
    env_for,
    machine_busy_seconds,
    rss_mb,
    wrk,
)

RESULTS = ROOT / "bench" / "results"
ICT = ZoneInfo("Asia/Ho_Chi_Minh")
# The rush hour of a Wednesday; the cutoff is judged at 16:00:30 the same day.
RUSH = datetime(2026, 11, 18, 14, 30, tzinfo=ICT)
CUTOFF = datetime(2026, 11, 18, 16, 0, tzinfo=ICT)
AFTER_CUTOFF = datetime(2026, 11, 18, 16, 0, 30, tzinfo=ICT)
EVENING = datetime(2026, 11, 18, 23, 0, tzinfo=ICT)
PREVIOUS_DAY = date(2026, 11, 17)
DURATION = {"tiny": 3, "province": 15, "national": 20, "max": 20}
READ_REPEATS = {"tiny": 5, "province": 20, "national": 20, "max": 20}
# How long after 16:00 the burst's cutoff may take to commit. At 3.3 M tasks, with the
# burst's 64 clients on the same two cores, more than the five minutes of the other scales.
BURST_LIMIT = {"tiny": 5, "province": 5, "national": 5, "max": 20}  # minutes


HISTORY_TABLES = ("task_colour_history", "red_task_days", "missed_updates", "unit_day_stats")


def history_bytes(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[0]
                for table in HISTORY_TABLES}


def vacuum(url: str) -> float:
    """VACUUM (ANALYZE) the database, as autovacuum would on a production server (this
    machine's PostgreSQL runs with autovacuum off); returns the seconds it took. Index-only
    reads (the dashboard, the red queue) depend on the visibility map it keeps."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def count_updates(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM progress_updates").fetchone()[0]


def pgbench(url: str, clients: int, seconds: int, seeded) -> float:
    """The ceiling: the same statements straight from pgbench, no HTTP, no Python."""
    pairs = [(u, t) for u, ts in seeded.tasks.items() for t in ts[:50]]
    script = Path(tempfile.mkdtemp()) / "update.sql"
    script.write_text(
        f"\\set n random(0, {len(pairs) - 1})\n"
        "BEGIN;\n"
        "SELECT u.id, un.path FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "JOIN units un ON un.id = u.unit_id WHERE t.id = (:n % "
        f"{len(seeded.units)}) + 2 AND t.revoked_at IS NULL AND u.active;\n"
        "SELECT pg_advisory_xact_lock_shared(5526091, 1);\n"
        "SELECT t.id, t.progress FROM tasks t JOIN units un ON un.id = t.lead_unit_id "
        "WHERE t.id = (SELECT min(id) FROM tasks) + :n FOR UPDATE OF t;\n"
        "INSERT INTO progress_updates (task_id, author_id, created_at, "
        "progress, work_done) VALUES ((SELECT min(id) FROM tasks) + :n, 1, now(), "
        "50, 'pgbench');\n"
        "UPDATE tasks SET progress = 50, last_update_at = now(), version = version + 1 "
        "WHERE id = (SELECT min(id) FROM tasks) + :n;\n"
        "INSERT INTO audit_entries (task_id, actor_id, at, action, field, old_value, "
        "new_value) VALUES ((SELECT min(id) FROM tasks) + :n, 1, now(), "
        "'progress_update', 'progress', '40', '50');\n"
        "COMMIT;\n")
    parsed = make_url(url)
    out = subprocess.run(
        ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f",
         str(script), "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
         "-U", parsed.username or "postgres", parsed.database],
        capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


# Updates per run.
BATCH_SAMPLE = {"tiny": 100, "province": 30_000, "national": 30_000, "max": 30_000}


def batch(port: int, seeded, sample: int, clients: int = 8) -> dict:
    """Each unit posts its whole day in one request; updates per second. A sample of units
    (about `sample` updates in all) is enough for the rate and keeps the run short."""
    units, total = [], 0
    for unit in seeded.units:
        if seeded.tasks[unit] and total < sample:
            units.append(unit)
            total += min(1000, len(seeded.tasks[unit]))
    lock, done, errors = threading.Lock(), [0], []

    def worker(chunk):
        session = requests.Session()
        for unit in chunk:
            items = [{"task_id": t, "progress": 60, "work_done": "Báo cáo cả ngày"}
                     for t in seeded.tasks[unit][:1000]]
            r = session.post(f"http://127.0.0.1:{port}/api/v1/units/{unit}/updates",
                             json={"items": items}, timeout=300,
                             headers={"Authorization": f"Bearer {seeded.tokens[unit]}"})
            with lock:
                if r.status_code == 201:
                    done[0] += len(items)
                else:
                    errors.append(r.status_code)

    chunks = [units[i::clients] for i in range(clients)]
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    return {"updates_per_s": done[0] / seconds, "updates": done[0], "errors": len(errors),
            "seconds": seconds}


OVERDUE_LIST = "/api/v1/tasks?status=open&overdue=true&per_page=100"


def overdue_lists(port: int, url: str, env: dict, targets: Path, seconds: int) -> dict:
    """A commune's member reading its page of open overdue tasks over the API under wrk,
    16 clients, each request with another commune's token (issue 15, item 6); then the
    same reads against the floor (bench/floor_app.py: the same rows as JSON, nothing
    else), which shows what this machine allows any Python app."""
    app = wrk(port, 16, seconds, targets, "", list_path=OVERDUE_LIST)
    floor = Server("bench.floor_app:app", {**env, "FLOOR_DATABASE_URL": url})
    try:
        floor_list = wrk(floor.port, 16, seconds, targets, "", list_path=OVERDUE_LIST)
    finally:
        floor.stop()
    return {"overdue_list_16": app, "overdue_list_rps": round(app["rps"], 1),
            "overdue_list_p95_ms": round(app["p95_ms"], 1),
            "overdue_list_errors": app["non2xx"] + app["socket_errors"],
            "overdue_list_floor_16": floor_list,
            "overdue_list_floor_rps": round(floor_list["rps"], 1),
            "overdue_list_floor_p95_ms": round(floor_list["p95_ms"], 1)}


def run_measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall time and peak RSS (MB) of a command, measured by a fresh helper process."""
    helper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
              "print(p.stdout); print(p.stderr, file=sys.stderr); "
              "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
              "print('MEASURE', time.perf_counter() - t, u.ru_maxrss / 1024, p.returncode, "
              "u.ru_utime + u.ru_stime)")
    out = subprocess.run([sys.executable, "-c", helper, *cmd], capture_output=True,
                         text=True, cwd=ROOT, env=env)
    match = re.search(r"MEASURE ([\d.]+) ([\d.]+) (-?\d+) ([\d.]+)", out.stdout)
    if not match or match.group(3) != "0":
        raise RuntimeError(f"{cmd} failed:\n{out.stdout}\n{out.stderr}")
    return float(match.group(1)), float(match.group(2)), out.stdout


def cpu_seconds(out: str) -> float:
    """The CPU time (user and system) of the command `run_measured` ran, from its output."""
    return float(re.search(r"MEASURE [\d.]+ [\d.]+ -?\d+ ([\d.]+)", out).group(1))


def copy_database(admin: str, source: str, name: str) -> float:
    """CREATE DATABASE `name` as a copy of `source` (nobody connected to it), file by file;
    returns the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(admin, autocommit=True) as conn:
        for attempt in range(60):  # a stopped server's sessions take a moment to end
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'
                             ' STRATEGY = FILE_COPY')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 59:
                    raise
                time.sleep(0.5)
    return time.perf_counter() - started


def cutoff_alone(url: str) -> dict:
    """The rush day's cutoff by `tracker cutoff run` on a database of its own with nothing
    else running: the goal's measure (≤ 60 s, ≤ 500 MB). The burst's cutoff runs the same
    day's work while 64 clients and the web share the cores with it."""
    busy = machine_busy_seconds()
    seconds, peak, out = run_measured(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "cutoff", "run",
         "--date", RUSH.date().isoformat()], env_for(url, AFTER_CUTOFF))
    said = [line for line in out.splitlines() if line.strip() and "MEASURE" not in line]
    print(f"the rush day's cutoff alone: {seconds:.1f}s, peak RSS {peak:.0f} MB "
          f"({said[-1] if said else 'no output'})", flush=True)
    return {"cutoff_alone_s": round(seconds, 2), "cutoff_alone_peak_rss_mb": round(peak, 1),
            "cutoff_alone_cpu_s": round(cpu_seconds(out), 1),
            "cutoff_alone_machine_busy_cores": round((machine_busy_seconds() - busy) / seconds, 2)}


# The reads issue 15 sets a goal for (p95 ≤ 300 ms at 3.3 M tasks): the dashboard, the red
# queue, the daily report, the nation's task list and the API's, and search. The past days,
# the comparison of two days, the warnings and the wall are measured without one.
READ_GOALS = frozenset({"dashboard", "red_queue", "daily_report", "api_daily_report",
                        "task_list", "api_task_list", "task_search", "api_task_search",
                        "task_search_unit_name", "task_search_code"})


def reads(port: int, seeded, repeats: int) -> dict:
    """p50/p95 of the big read pages for an admin of the whole nation."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {seeded.admin_token}"
    page = session.get(f"http://127.0.0.1:{port}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    session.post(f"http://127.0.0.1:{port}/login", data={
        "username": "bench_admin", "password": "benchmark password", "csrf_token": token})
    pages = {
        "dashboard": "/dashboard",
        "red_queue": "/supervise/red",
        "daily_report": f"/reports/daily?date={RUSH.date().isoformat()}",
        "api_daily_report": f"/api/v1/reports/daily?date={RUSH.date().isoformat()}",
        # Any day as it stood at 16:00, and two days compared (docs/history.md): the day
        # before the rush (the first cutoff) and the rush day.
        "dashboard_past": f"/dashboard?date={RUSH.date().isoformat()}",
        "red_queue_past": f"/supervise/red?date={RUSH.date().isoformat()}",
        "compare": f"/dashboard/compare?from={PREVIOUS_DAY.isoformat()}"
                   f"&to={RUSH.date().isoformat()}",
        "api_dashboard_day": f"/api/v1/dashboard/day?date={RUSH.date().isoformat()}",
        # The search as people type it: no diacritics, one title in eight (tracker.search).
        "task_search": "/tasks?q=ra+soat",
        "api_task_search": "/api/v1/tasks?q=ra+soat",
        "task_search_unit_name": "/tasks?q=ha+long",
        "task_search_code": "/tasks?q=b-0012345",  # one task: the trigram index's case
        # The nation's tasks, worst first, and the API's list, unfiltered (issue 15).
        "task_list": "/tasks",
        "api_task_list": "/api/v1/tasks",
        # The early warning as stored after the cutoff, and the wall's data (issue 16).
        "warnings": "/supervise/warnings",
        "api_warnings": "/api/v1/forecast/warnings",
        "wall_data": "/wall/data.json",
    }
    results = {}
    for name, path in pages.items():
        times, status = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            response = session.get(f"http://127.0.0.1:{port}{path}", timeout=120,
                                   allow_redirects=False)
            times.append((time.perf_counter() - started) * 1000)
            status = response.status_code
            if status != 200:  # a redirect (to a login step) would time another page
                raise RuntimeError(f"{path} answered {status}, not the page")
        times.sort()
        results[name] = {"status": status, "p50_ms": statistics.median(times),
                         "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))]}
    return results


def reads_only(name: str, admin_token: str, scale: str) -> int:
    """The rush day's cutoff and the reads at size on a kept database (after its VACUUM):
    to see what a change costs without seeding again. Also the commune's overdue list
    under wrk, the workers' memory and `tracker colours check` (the stored colours and the
    kept task counts) on the same clock."""
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = make_url(base).set(drivername="postgresql", database=name) \
        .render_as_string(hide_password=False)
    env = env_for(url, AFTER_CUTOFF)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    seconds, _peak, _ = run_measured([*flask, "db", "upgrade"], env)
    print(f"migrated to the head in {seconds:.1f}s", flush=True)
    # The rush day as the full run leaves it: its cutoff processed (once: again is a no-op).
    seconds, peak, out = run_measured(
        [*flask, "tracker", "cutoff", "run", "--date", RUSH.date().isoformat()], env)
    said = [line for line in out.splitlines() if line.strip() and "MEASURE" not in line]
    print(f"the rush day's cutoff: {seconds:.1f}s, peak RSS {peak:.0f} MB "
          f"({said[-1] if said else 'no output'})", flush=True)
    subprocess.run([*flask, "tracker", "forecast", "run", "--date", RUSH.date().isoformat()],
                   cwd=ROOT, env=env, check=True, capture_output=True)  # the early warning
    seconds, _peak, out = run_measured([*flask, "tracker", "counts", "compact"], env)
    print(f"the counts' deltas folded in: {seconds:.1f}s ({out.splitlines()[0]})", flush=True)
    print(f"vacuum {vacuum(url):.1f}s", flush=True)
    targets = _member_targets(url, 200)
    server = Server("wsgi:app", env)
    try:
        measured = reads(server.port, types.SimpleNamespace(admin_token=admin_token),
                         READ_REPEATS[scale])
        overdue = overdue_lists(server.port, url, env, targets, DURATION[scale])
        rss = server.worker_rss()
    finally:
        server.stop()
    for page, m in measured.items():
        print(f"{page:24} p50 {m['p50_ms']:7.1f} ms  p95 {m['p95_ms']:7.1f} ms")
    print(f"a commune's overdue list, 16 clients: {overdue['overdue_list_rps']} req/s, "
          f"p95 {overdue['overdue_list_p95_ms']} ms, {overdue['overdue_list_errors']} errors; "
          f"the floor: {overdue['overdue_list_floor_rps']} req/s, "
          f"p95 {overdue['overdue_list_floor_p95_ms']} ms")
    print(f"largest web worker RSS {rss:.0f} MB")
    check = subprocess.run([*flask, "tracker", "colours", "check"], cwd=ROOT,
                           env=env_for(url, EVENING), capture_output=True, text=True)
    print(f"colours check: exit {check.returncode}: {check.stdout.strip()[-300:]}")
    return 0


def issue_tokens(conn, users: list[int], prefix: str) -> dict[int, str]:
    """A fresh API token for each of `users` (the seed keeps only their hashes), valid on
    the bench's clock; returns user id → raw token."""
    from bench.seed import _hash

    tokens = {user: f"{prefix}_{user}_{uuid.uuid4().hex}" for user in users}
    with conn.cursor().copy("COPY api_tokens (user_id, name, token_hash, created_at,"
                            " expires_at) FROM STDIN") as copy:
        for user, token in tokens.items():
            copy.write_row((user, "bench", _hash(token), RUSH, RUSH + timedelta(days=30)))
    return tokens


def _member_targets(url: str, units: int) -> Path:
    """A fresh API token for the members of `units` communes, as wrk's targets."""
    path = Path(tempfile.mkdtemp()) / "targets.txt"
    with psycopg.connect(url) as conn, path.open("w") as f:
        users = [user for (user,) in conn.execute(
            "SELECT u.id FROM users u JOIN units n ON n.id = u.unit_id"
            " WHERE u.role = 'member' AND n.kind = 'commune' ORDER BY u.id LIMIT %s",
            (units,))]
        for token in issue_tokens(conn, users, "trk_reads").values():
            f.write(f"{token} 0\n")
    return path


def targets_file(seeded) -> Path:
    path = Path(tempfile.mkdtemp()) / "targets.txt"
    with path.open("w") as f:
        for unit in seeded.units:
            for task in seeded.tasks[unit][:20]:
                f.write(f"{seeded.tokens[unit]} {task}\n")
    return path


def seed_and_first_cutoff(url: str, scale: str, rush_env: dict, results: dict):
    """Seed the migrated database at `url`, compute every stored colour, run the first
    cutoff ever (the previous working day's, which records every task's colour) and
    VACUUM; each timed into `results`. Returns what the seed made (`bench.seed.Seeded`)."""
    from bench.seed import seed
    from tracker import create_app
    from tracker.clock import FixedClock

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                             "postgresql+psycopg://"),
                      "CLOCK": FixedClock(RUSH), "SECRET_KEY": "bench"})
    seeded = seed(app, url, scale, RUSH.date(), RUSH)
    with app.app_context():  # its pooled connections closed: the database is copied later
        from tracker.extensions import db
        db.engine.dispose()
    seconds, _rss, _ = run_measured(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "colours", "refresh"],
        rush_env)
    results["seed_s"] = round(seeded.seconds + seconds, 1)
    print(f"seeded {seeded.task_count} tasks in {results['seed_s']}s", flush=True)
    # The rush day's cutoff in the run is then an ordinary day's.
    seconds, peak, _ = run_measured(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "cutoff", "run",
         "--date", PREVIOUS_DAY.isoformat()], rush_env)
    results["first_cutoff_s"] = round(seconds, 2)
    results["first_cutoff_peak_rss_mb"] = round(peak, 1)
    print("first cutoff", seconds, peak, flush=True)
    results["vacuum_after_seed_s"] = round(vacuum(url), 1)
    return seeded


def kept_seed(url: str, scale: str):
    """What the seed made, read back from a copy of a database kept by `--seed-only` (its
    first cutoff done): the communes with a member in the seed's order, each one's open
    tasks, and fresh API tokens for the members and the admin — the seed kept only their
    hashes. The seed's own tokens stay (the ceiling's script reads them by id). Refuses a
    database seeded at another scale, or whose rush day was processed already (by
    `--reads-only`): the run would measure another size, or an old cutoff."""
    from bench.seed import SCALES, Seeded

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        days = {day for (day,) in conn.execute("SELECT day FROM cutoff_runs")}
        if PREVIOUS_DAY not in days or RUSH.date() in days:
            raise SystemExit(f"--from needs a database as --seed-only left it: its first "
                             f"cutoff ({PREVIOUS_DAY}) done and the rush day's "
                             f"({RUSH.date()}) not; this one has {sorted(days)}")
        members = conn.execute(
            "SELECT u.id, u.unit_id FROM users u WHERE u.role = 'member' ORDER BY u.id"
        ).fetchall()
        units = [unit for _user, unit in members]
        tasks: dict[int, list[int]] = {unit: [] for unit in units}
        for unit, task in conn.execute(
                "SELECT lead_unit_id, id FROM tasks WHERE status IN ('in_progress',"
                " 'not_started') ORDER BY id"):
            if unit in tasks:
                tasks[unit].append(task)
        issued = issue_tokens(conn, [1, *(user for user, _unit in members)], "trk_bench")
        admin_token = issued[1]  # the seed's admin
        tokens = {unit: issued[user] for user, unit in members}
        task_count = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
        if task_count != len(units) * SCALES[scale][2]:
            raise SystemExit(f"--from: {task_count} tasks for {len(units)} communes is not "
                             f"--scale {scale}'s seed ({SCALES[scale][2]} tasks each)")
        update_count = conn.execute("SELECT count(*) FROM progress_updates").fetchone()[0]
    return Seeded(units=units, tokens=tokens, tasks=tasks, admin_token=admin_token,
                  seconds=time.perf_counter() - started, task_count=task_count,
                  update_count=update_count)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default=os.environ.get("SCALE", "province"),
                        choices=["tiny", "province", "national", "max"])
    parser.add_argument("--seed-only", metavar="NAME",
                        help="create database NAME, migrate and seed it, keep it, and stop "
                             "(to time one part by hand; copy it with CREATE DATABASE … "
                             "TEMPLATE NAME)")
    parser.add_argument("--reads-only", metavar="NAME",
                        help="measure only the reads at size, on database NAME kept by "
                             "--seed-only (migrated to the head first), and print them")
    parser.add_argument("--from", dest="source", metavar="NAME",
                        help="the whole run on a copy of database NAME kept by --seed-only "
                             "(its seed and first cutoff are not timed again); the copy is "
                             "dropped at the end")
    parser.add_argument("--admin-token", help="with --reads-only: the admin token that "
                                              "--seed-only printed")
    args = parser.parse_args()
    scale = args.scale
    if args.reads_only:
        return reads_only(args.reads_only, args.admin_token, scale)
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin_url = make_url(base).set(drivername="postgresql", database="postgres")
    name = args.seed_only or f"tracker_bench_{uuid.uuid4().hex[:8]}"
    alone = f"{name}_alone"  # the copy for the cutoff alone
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    admin = admin_url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        template = f' TEMPLATE "{args.source}"' if args.source else ""
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    results: dict = {"scale": scale, "machine": f"{os.cpu_count()} cores",
                     "workers": WORKERS,
                     "started": datetime.now(ICT).isoformat(timespec="seconds")}
    server = None
    try:
        rush_env = env_for(url, RUSH)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env=rush_env, check=True, capture_output=True)
        os.environ.update(DATABASE_URL=url)
        if args.source:
            seeded = kept_seed(url, scale)
            results["seeded_from"] = args.source
            print(f"a copy of {args.source}: {seeded.task_count} tasks", flush=True)
        else:
            seeded = seed_and_first_cutoff(url, scale, rush_env, results)
        results.update(tasks=seeded.task_count, units=len(seeded.units),
                       seeded_updates=seeded.update_count,
                       open_tasks=sum(len(v) for v in seeded.tasks.values()))
        if args.seed_only:
            print(f"kept database {name}; admin token {seeded.admin_token}")
            return 0

        targets = targets_file(seeded)
        duration = DURATION[scale]
        server = Server("wsgi:app", rush_env)
        before = count_updates(url)
        single16 = wrk(server.port, 16, duration, targets, "/api/v1/tasks/")
        single64 = wrk(server.port, 64, duration, targets, "/api/v1/tasks/")
        stored = count_updates(url) - before
        results["single_16"], results["single_64"] = single16, single64
        results["single_rps"] = round(single64["rps"], 1)
        results["single_p95_ms"] = round(single16["p95_ms"], 1)
        results["single_p99_ms"] = round(single64["p99_ms"], 1)
        results["single_errors"] = single64["non2xx"] + single64["socket_errors"] + \
            single16["non2xx"] + single16["socket_errors"]
        # Requests still in flight when wrk stops may commit without wrk counting them; at
        # most one per connection. Every 2xx must be stored, and nothing beyond those.
        acknowledged = single16["ok"] + single64["ok"]
        results["single_stored"], results["single_acknowledged"] = stored, acknowledged
        results["single_2xx_all_stored"] = acknowledged <= stored <= acknowledged + 16 + 64
        print("single", single16, single64, flush=True)

        floor = Server("bench.floor_app:app", {**rush_env, "FLOOR_DATABASE_URL": url})
        # (stopped below whatever happens)
        try:
            floor64 = wrk(floor.port, 64, duration, targets, "/api/v1/tasks/")
        finally:
            floor.stop()
        results["floor_64"] = floor64
        results["floor_rps"] = round(floor64["rps"], 1)
        results["ratio_single_to_floor"] = round(single64["rps"] / floor64["rps"], 2)
        results["ceiling_tps"] = round(pgbench(url, 64, duration, seeded), 1)
        results["ratio_single_to_ceiling"] = round(single64["rps"] / results["ceiling_tps"], 2)
        print("floor", floor64, "ceiling", results["ceiling_tps"], flush=True)

        results["batch"] = batch(server.port, seeded, BATCH_SAMPLE[scale])
        results["batch_updates_per_s"] = round(results["batch"]["updates_per_s"], 1)
        print("batch", results["batch"], flush=True)
        results["worker_rss_mb"] = round(server.worker_rss(), 1)

        server.stop()
        server = None

        # A copy of the database as the burst finds it, for the same day's cutoff alone
        # once the burst is over (the burst's few thousand updates are not in it).
        results["copy_for_cutoff_alone_s"] = round(copy_database(admin, name, alone), 1)
        # The rush day's cutoff, processed by the real scheduler while members keep posting
        # across 16:00 (bench/burst.py).
        sizes = history_bytes(url)
        burst = burst_across_cutoff(url, rush_env, CUTOFF, targets,
                                    timedelta(minutes=BURST_LIMIT[scale]))
        results["burst"] = burst
        results["cutoff_s"] = burst["cutoff_s"]
        results["cutoff_peak_rss_mb"] = burst["scheduler_peak_rss_mb"]
        # What one ordinary day adds to the history tables (rows, indexes and TOAST).
        results["cutoff_storage_mb"] = {
            table: round((after - sizes[table]) / 2**20, 2)
            for table, after in history_bytes(url).items()}
        results["cutoff_summary"] = json.loads(burst["summary"])
        print("burst", burst, flush=True)
        results.update(cutoff_alone(admin_url.set(database=alone).render_as_string(
            hide_password=False)))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{alone}"')
        cutoff_env = env_for(url, AFTER_CUTOFF)
        # The counts' deltas folded in, as the scheduler does every ten seconds (the rush's
        # single updates above ran with no scheduler).
        results["counts_fold_s"] = round(run_measured(
            [sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "counts", "compact"],
            cutoff_env)[0], 2)
        results["vacuum_before_reads_s"] = round(vacuum(url), 1)
        server = Server("wsgi:app", cutoff_env)
        results["read"] = reads(server.port, seeded, READ_REPEATS[scale])
        results["read_p95_ms"] = {k: round(v["p95_ms"], 1) for k, v in results["read"].items()}
        results.update(overdue_lists(server.port, url, cutoff_env, targets, duration))
        print("overdue list", results["overdue_list_16"], "floor",
              results["overdue_list_floor_16"], flush=True)
        results["worker_rss_mb"] = max(results["worker_rss_mb"], round(server.worker_rss(), 1))

        sched = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                                  "scheduler"], cwd=ROOT, env=cutoff_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(8)
        results["scheduler_rss_mb"] = round(rss_mb(sched.pid), 1)
        sched.terminate()
        sched.wait(timeout=30)

        # Later the same evening: every update of the burst is stamped before it.
        check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                                "colours", "check"], cwd=ROOT, env=env_for(url, EVENING),
                               capture_output=True, text=True)
        results["colours_check_ok"] = check.returncode == 0 and burst["colours_check_ok"]
    finally:
        if server:
            server.stop()
        if not args.seed_only:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'DROP DATABASE IF EXISTS "{alone}" WITH (FORCE)')
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{scale}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (RESULTS / f"{scale}.md").write_text(markdown(results))
    print(markdown(results))
    return 0 if results["colours_check_ok"] and results["single_2xx_all_stored"] else 1


def burst_rows(b: dict) -> list[tuple[str, str]]:
    """The burst across the cutoff: single updates, 64 clients, before 16:00 and while the
    cutoff runs."""
    def line(m: dict) -> str:
        return (f"{m['requests']} requests, {m['rps']} req/s, p50 {m['p50_ms']} ms, "
                f"p99 {m['p99_ms']} ms, max {m['max_ms']} ms, {m['errors']} errors")

    ratio = (round(b["during_cutoff"]["p99_ms"] / b["no_cutoff"]["p99_ms"], 2)
             if b["no_cutoff"]["p99_ms"] else None)
    return [("burst: single updates before 16:00, no cutoff running", line(b["no_cutoff"])),
            ("burst: single updates while the cutoff runs", line(b["during_cutoff"])),
            ("burst: p99 while the cutoff runs ÷ p99 without (goal ≤ 2)", str(ratio)),
            ("burst: errors across 16:00 (goal: none)", str(b["all"]["errors"])),
            ("burst: colours check on the same clock", str(b["colours_check_ok"]))]


def markdown(r: dict) -> str:
    rows = [
        ("single-update throughput, 64 clients", f"{r['single_rps']} req/s"),
        ("floor (minimal WSGI app), 64 clients", f"{r['floor_rps']} req/s"),
        ("ratio to the floor (goal ≥ 0.6)", r["ratio_single_to_floor"]),
        ("ceiling (pgbench, same SQL), 64 clients", f"{r['ceiling_tps']} tps"),
        ("single update p95, 16 clients (goal ≤ 50 ms)", f"{r['single_p95_ms']} ms"),
        ("single update p99, 64 clients (goal ≤ 250 ms)", f"{r['single_p99_ms']} ms"),
        ("errors (goal: none)", r["single_errors"]),
        ("every 2xx stored, nothing else", r["single_2xx_all_stored"]),
        ("batch updates (goal ≥ 10,000/s)", f"{r['batch_updates_per_s']} /s"),
        ("the rush day's cutoff alone, `tracker cutoff run` (goal ≤ 60 s, ≤ 500 MB)",
         f"{r['cutoff_alone_s']} s, {r['cutoff_alone_peak_rss_mb']} MB; "
         f"{r['cutoff_alone_cpu_s']} CPU-s in its process, the machine busy "
         f"{r['cutoff_alone_machine_busy_cores']} of {os.cpu_count()} cores"),
        ("the same day's cutoff, by the scheduler during the burst",
         f"{r['cutoff_s']} s, began {r['burst']['cutoff_began_after_16_00_s']} s after 16:00"
         + (f"; {r['burst']['scheduler_cpu_s']} CPU-s in its process, which had "
            f"{r['burst']['scheduler_cores']} of the {r['burst']['machine_busy_cores']} busy "
            f"cores" if "scheduler_cpu_s" in r["burst"] else "")),
        ("scheduler peak RSS, with the cutoff (goal ≤ 500 MB)",
         f"{r['cutoff_peak_rss_mb']} MB"),
        *burst_rows(r["burst"]),
        ("storage the day's cutoff added", ", ".join(
            f"{k} {v} MB" for k, v in r["cutoff_storage_mb"].items())),
        *((("first cutoff ever (the day before: every task's colour recorded)",
            f"{r['first_cutoff_s']} s, {r['first_cutoff_peak_rss_mb']} MB"),)
          if "first_cutoff_s" in r else ()),
        *((f"read p95 {k}" + (" (goal ≤ 300 ms)" if k in READ_GOALS else ""), f"{v} ms")
          for k, v in r["read_p95_ms"].items()),
        ("a commune's 100 open overdue tasks over the API, 16 clients (goal ≥ 250 req/s)",
         f"{r['overdue_list_rps']} req/s"),
        ("  its p95 (goal ≤ 100 ms)", f"{r['overdue_list_p95_ms']} ms"),
        ("  the same reads from the floor, 16 clients",
         f"{r['overdue_list_floor_rps']} req/s, p95 {r['overdue_list_floor_p95_ms']} ms"),
        ("web worker RSS (goal ≤ 200 MB)", f"{r['worker_rss_mb']} MB"),
        ("scheduler RSS", f"{r['scheduler_rss_mb']} MB"),
        ("colours check after the run", r["colours_check_ok"]),
    ]
    seeded = f"seeded in {r['seed_s']} s" if "seed_s" in r else \
        f"on a copy of {r['seeded_from']} (seeded and first cutoff before)"
    head = (f"Scale {r['scale']}: {r['tasks']} tasks ({r['open_tasks']} open), {r['units']} "
            f"units, {seeded}; {r['machine']}, nginx in front of gunicorn, "
            f"{r['workers']} sync workers\n\n| figure | value |\n|---|---|\n")
    return head + "".join(f"| {a} | {b} |\n" for a, b in rows)


if __name__ == "__main__":
    sys.exit(main())
