"""`make cluster-test`: a national deployment on one machine, and the 16:00 rush through
its faults (issue 15). Hosts are network namespaces on a private bridge (cluster/net.py):

    lb 10.77.0.2        HAProxy, health-checking the web hosts
    web1-3 .11-.13      nginx → gunicorn (cores + 1 sync workers), DATABASE_READ_URL = the replica
    db1 .21, db2 .22    PostgreSQL primary and its streaming replica (pg_basebackup -R)
    sch1-2 .31-.32      `tracker scheduler`, one active, one standing by
    client .41          the rush's clients and this script's checks

One province is seeded (bench.seed: 54 communes × 1,000 tasks). Every process runs on one
libfaketime clock that reaches 16:00 of the rush day 90 s after they start. The clients
post single updates through the load balancer, each with its own idempotency key, retried
with that key when unanswered; during the rush the script kills a web host, kills the
scheduler that is running the cutoff in the middle of it, and stops the replica. It then
checks what it must find, prints it all, and tears everything down. Exit status 0 only if
every check holds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
import requests

from bench.harness import ROOT, env_for, faketime_env
from bench.run import CUTOFF, EVENING, RUSH
from cluster import hosts, net
from cluster.pg import Pair

LEAD = 90  # seconds from the start to 16:00 on the fake clock
RUSH_SECONDS = 150  # the clients post for this long (bounded in count too, cluster/rush.py)
KILL_WEB_AT = 30  # seconds after the start, and at least
KILL_WEB_AFTER = 15  # seconds into the rush: web2 is killed
TAKEOVER_LIMIT = 60  # the standby must have processed the day within this after the kill
NOTICE = "Số liệu lúc"


class Report:
    def __init__(self):
        self.started = time.monotonic()
        self.checks: list[tuple[str, bool, str]] = []

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append((name, ok, detail))
        self.say(f"{'PASS' if ok else 'FAIL'}: {name}{' — ' + detail if detail else ''}")


def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def dashboard(lb: str, tries: int = 1) -> tuple[int, bool, float]:
    """The national admin's dashboard through the load balancer: status, whether it came
    from the replica, and how long the page took. Logging in writes, and a user reads the
    replica only once it has replayed the user's own last write: with `tries`, the page
    is asked again (half a second apart) until the replica serves it."""
    session = requests.Session()
    page = session.get(f"{lb}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    session.post(f"{lb}/login", timeout=30, data={
        "username": "bench_admin", "password": "benchmark password", "csrf_token": token})
    for _ in range(tries):
        began = time.monotonic()
        answer = session.get(f"{lb}/dashboard", timeout=60, allow_redirects=False)
        took = time.monotonic() - began
        if NOTICE in answer.text:
            break
        time.sleep(0.5)
    return answer.status_code, NOTICE in answer.text, took


def main() -> int:
    report = Report()
    logs = Path(tempfile.mkdtemp(prefix="tracker-cluster-"))
    network = net.build()
    lb = network.add("lb", 2)
    webs = [network.add(f"web{n}", 10 + n) for n in (1, 2, 3)]
    db1, db2 = network.add("db1", 21), network.add("db2", 22)
    schs = [network.add(f"sch{n}", 30 + n) for n in (1, 2)]
    client = network.add("client", 41)
    report.say(f"network: {len(network.hosts)} hosts on {net.SUBNET}.0/24; logs in {logs}")
    pair = Pair((db1.address, db1.prefix), (db2.address, db2.prefix),
                subnet=f"{net.SUBNET}.0/24").start()
    report.say(f"PostgreSQL primary {db1.address}:{pair.primary.port}, streaming replica "
               f"{db2.address}:{pair.replica.port}")
    processes: list[hosts.Process] = []
    home = hosts.current()
    try:
        hosts.enter(client)
        return run(report, logs, pair, lb, webs, schs, processes)
    finally:
        hosts.enter(home)  # out of the client's namespace before it is removed
        for process in processes:
            process.kill()
        pair.close()
        net.teardown()
        report.say("torn down: processes, servers, namespaces")


def run(report, logs, pair, lb_host, webs, schs, processes) -> int:
    name = "tracker_cluster"
    server = f"postgresql://postgres@{pair.primary.host}:{pair.primary.port}"
    out = logs / "seed.json"
    subprocess.run([sys.executable, "-m", "cluster.seed", server, name, str(out)], cwd=ROOT,
                   check=True)
    seeded = json.loads(out.read_text())
    pair.replica.wait_caught_up(pair.primary, timeout=120)
    report.say(f"seeded {seeded['tasks']} tasks; {len(seeded['targets'])} targets for the rush")
    url = f"{server}/{name}"
    replica_url = f"postgresql://postgres@{pair.replica.host}:{pair.replica.port}/{name}"
    env, offset = faketime_env(env_for(url, RUSH, DATABASE_READ_URL=replica_url,
                                       TRACKER_READ_MAX_LAG="10"),
                               CUTOFF.replace(microsecond=0) - timedelta(seconds=LEAD))
    started = time.time()
    for n, host in enumerate(webs, start=1):
        processes.append(hosts.web(f"web{n}", host, env, logs))
    for n, host in enumerate(schs, start=1):
        processes.append(hosts.scheduler(f"sch{n}", host, env, logs))
        time.sleep(1)  # sch1 first: it becomes the active one
    processes.append(hosts.balancer(lb_host, webs, logs))
    lb = f"http://{lb_host.address}"
    up = wait_for(lambda: all(answers(f"http://{w.address}:{hosts.WEB_PORT}/healthz")
                              for w in webs) and answers(f"{lb}/healthz"), 60)
    report.check("three web hosts and the load balancer answer", bool(up))
    status, from_replica, took = dashboard(lb, tries=10)
    report.check("the dashboard reads the replica before any fault", status == 200
                 and from_replica, f"status {status} in {took:.1f}s, replica notice "
                                   f"{from_replica}")
    report.say(f"scheduler status: {_status(env)}")

    rush_log = logs / "rush.jsonl"
    rush = subprocess.Popen([sys.executable, "-m", "cluster.rush", lb, str(out),
                             str(rush_log), str(RUSH_SECONDS), "16"], cwd=ROOT)
    report.say(f"rush: 16 clients posting through {lb} for up to {RUSH_SECONDS}s")

    rush_started = time.time()
    # Into the rush however long the hosts took to start (a slow hour), before 16:00.
    time.sleep(max(0.0, min(max(started + KILL_WEB_AT, rush_started + KILL_WEB_AFTER),
                            started + LEAD - 5) - time.time()))
    web2 = next(p for p in processes if p.name == "web2")
    killed_web_at = time.time()
    web2.kill()
    report.say(f"killed web2 (SIGKILL: nginx, gunicorn and its workers) "
               f"{killed_web_at - rush_started:.0f}s into the rush")

    day = RUSH.date()
    # The cutoff writes its row in its one transaction: it is "running" while a scheduler
    # host holds a transaction open on the database past 16:00 (the standby's polls are
    # short).
    time.sleep(max(0.0, started + LEAD - time.time()))
    active = wait_for(lambda: _running_cutoff(url, schs), 60, step=0.05)
    killed = None
    target = next((p for p in processes if active and p.host in active), None)
    if target is not None and _cutoff(url, day) is None:
        target.kill()
        killed = (target.name, time.time())
        report.say(f"killed {target.name} (SIGKILL) while it ran the cutoff of {day}")
    report.check("the cutoff was interrupted in its middle", killed is not None,
                 "it had finished before it could be" if killed is None else "")
    finished = wait_for(lambda: (r := _cutoff(url, day)) and r[1] is not None and r,
                        TAKEOVER_LIMIT + 30)
    if killed and finished:
        took = finished[1].timestamp() - offset - killed[1]
        report.check(f"the standby took over and processed the day within {TAKEOVER_LIMIT}s",
                     took <= TAKEOVER_LIMIT, f"{took:.1f}s after the kill")
    else:
        report.check("the day was processed", bool(finished))
    report.say(f"scheduler status: {_status(env)}")

    pair.replica.stop("immediate")
    report.say("stopped the replica")
    status, from_replica, took = dashboard(lb)
    report.check("reads fall back to the primary with the replica down",
                 status == 200 and not from_replica, f"status {status} in {took:.1f}s "
                                                     "(during the rush)")

    rush.wait(timeout=RUSH_SECONDS + 120)
    return judge(report, url, rush_log, killed_web_at, env)


def judge(report, url, rush_log, killed_web_at, env) -> int:
    outcomes = [json.loads(line) for line in rush_log.read_text().splitlines()]
    acked = [o for o in outcomes if o["status"] is not None and 200 <= o["status"] < 300]
    refused = [o for o in outcomes if o["status"] is not None and o["status"] >= 300]
    lost = [o for o in outcomes if o["status"] is None]
    retried = [o for o in outcomes if len(o["attempts"]) > 1]
    replayed = [o for o in retried if o.get("replayed")]
    with psycopg.connect(url) as conn:
        stored = Counter(row[0].split(" ", 1)[1] for row in conn.execute(
            "SELECT work_done FROM progress_updates WHERE work_done LIKE 'cluster %'"))
        runs = conn.execute("SELECT count(*), count(finished_at) FROM cutoff_runs "
                            "WHERE day = %s", (RUSH.date(),)).fetchone()
    report.say(f"rush: {len(outcomes)} updates sent, {len(acked)} acknowledged, "
               f"{len(refused)} refused, {len(lost)} unanswered after retries, "
               f"{len(retried)} needed a retry; "
               f"{sum(1 for o in retried if o['at'] >= killed_web_at - 1)} of those after web2 "
               f"died, {len(replayed)} answered by a replay of a first attempt that had been "
               "stored")
    missing = [o["key"] for o in acked if stored[o["key"]] == 0]
    twice = [key for key, n in stored.items() if n > 1]
    report.check("no acknowledged update lost", not missing, f"{len(missing)} missing")
    report.check("no update stored twice (retries with one key store once)", not twice,
                 f"{len(twice)} stored more than once")
    report.check("every update was answered in the end (retried on another host)", not lost,
                 f"{len(lost)} unanswered")
    days = Counter(o.get("reporting_day") for o in acked)
    report.say(f"acknowledged updates by reporting day: {dict(days)}")
    report.check("the rush spanned 16:00 (updates counted for the day and the next)",
                 len(days) == 2, str(dict(days)))
    report.check("the day was processed exactly once", runs == (1, 1), f"runs {runs}")
    check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                            "colours", "check"], env=faketime_env(env, EVENING)[0], cwd=ROOT,
                           capture_output=True, text=True)
    report.check("tracker colours check passes after the rush", check.returncode == 0,
                 check.stdout.strip()[-200:])
    failed = [name for name, ok, _ in report.checks if not ok]
    report.say("ALL CHECKS PASSED" if not failed else f"FAILED: {', '.join(failed)}")
    return 0 if not failed else 1


def _cutoff(url: str, day):
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute("SELECT started_at, finished_at FROM cutoff_runs WHERE day = %s",
                            (day,)).fetchone()


def _running_cutoff(url: str, schs) -> list:
    """The scheduler hosts with a transaction open on the database: the one running the
    cutoff (the standby only polls)."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        addresses = {str(row[0]) for row in conn.execute(
            "SELECT client_addr FROM pg_stat_activity WHERE datname = current_database() "
            "AND now() - xact_start > interval '300 milliseconds' "
            "AND pid <> pg_backend_pid()")}
    return [h for h in schs if h.address in addresses]


def _status(env) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "cutoff",
                           "status"], env=env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    return " ".join((done.stdout + done.stderr).split())[:300]


if __name__ == "__main__":
    sys.exit(main())
