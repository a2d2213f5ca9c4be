"""The 16:00 moment under load: single updates posted in a burst across the cutoff, while the
real scheduler processes the day.

The web host (nginx and gunicorn, as measured elsewhere) and the scheduler run under libfaketime,
on one clock that reads 15:59:30 of the rush day when they start and runs with real time.
wrk posts updates with 64 clients from 15:59:40 until two seconds after the cutoff has
committed, one connection per wrk thread, so that its script (bench/burst.lua) logs every
request's own latency with the moment it was sent. The requests sent while the cutoff ran
(from its `cutoff_runs.started_at` to `finished_at`) are set beside those sent before 16:00,
when no cutoff runs. The cutoff's duration is read from the same row; the scheduler's peak
memory from its process. At the end `tracker colours check` runs on the same clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

from bench.harness import (
    ROOT,
    Server,
    faketime_env,
    hwm_mb,
    machine_busy_seconds,
    process_cpu_seconds,
)

CLIENTS = 64
START = timedelta(seconds=30)  # the clock reads 16:00 − START when the processes start
BASELINE_FROM = timedelta(seconds=20)  # the no-cutoff requests: sent from 16:00 − this …
BASELINE_UNTIL = timedelta(seconds=1)  # … to 16:00 − this
LIMIT = timedelta(minutes=5)  # the cutoff must have committed by then, or the run fails


def summarise(requests: list[tuple[float, float, int]]) -> dict:
    """Count, errors and latency percentiles (ms) of (sent_at, latency, status) rows."""
    latencies = sorted(latency for _sent, latency, _status in requests)
    errors = sum(1 for _sent, _latency, status in requests if not 200 <= status < 300)

    def percentile(p: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))]
                     * 1000, 1)

    span = (max(r[0] for r in requests) - min(r[0] for r in requests)) if requests else 0
    return {"requests": len(requests), "errors": errors,
            "rps": round(len(requests) / span, 1) if span else 0.0,
            "p50_ms": percentile(50), "p99_ms": percentile(99), "max_ms": percentile(100)}


def _cutoff_row(url: str, day) -> tuple | None:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT started_at, finished_at, summary FROM cutoff_runs "
                            "WHERE day = %s", (day,)).fetchone()


def _shares(looks: list[tuple[float, float, float]], began: float, ended: float) -> dict:
    """The scheduler's CPU time from the last look at or before `began` to the first at or
    after `ended` (looks are (time, its CPU time, the machine's busy time), half a second
    apart), and its share of the machine in cores beside the machine's whole busy share;
    none when no looks bracket the cutoff."""
    before = [look for look in looks if look[0] <= began]
    after = [look for look in looks if look[0] >= ended]
    if not before or not after:
        return {}
    first, last = before[-1], after[0]
    seconds = last[0] - first[0]
    return {"scheduler_cpu_s": round(last[1] - first[1], 1),
            "scheduler_cores": round((last[1] - first[1]) / seconds, 2),
            "machine_busy_cores": round((last[2] - first[2]) / seconds, 2)}


def _read_logs(folder: Path) -> list[tuple[float, float, int]]:
    rows = []
    for path in folder.glob("thread-*.log"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                rows.append((float(parts[0]), float(parts[1]), int(parts[2])))
    return rows


def burst_across_cutoff(url: str, env: dict, cutoff: datetime, targets: Path,
                        limit: timedelta = LIMIT) -> dict:
    """Run the burst around `cutoff` (aware); returns what it measured. The cutoff must have
    committed `limit` after 16:00, or the run fails."""
    env, offset = faketime_env(env, cutoff - START)
    real_cutoff = cutoff.timestamp() - offset  # the real moment the fake clock says 16:00
    server = Server("wsgi:app", env)
    logs = Path(tempfile.mkdtemp(prefix="tracker-burst-"))
    scheduler_log = logs / "scheduler.log"  # kept: what the scheduler did, and when
    with scheduler_log.open("wb") as out:
        scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi",
                                      "tracker", "scheduler"], cwd=ROOT, env=env,
                                     stdout=out, stderr=subprocess.STDOUT)
    load = None
    row = None
    # The scheduler's CPU time and the machine's busy time, looked at every half second:
    # the cutoff's row is written in its own transaction, so it is seen only once committed,
    # and its start is known only then.
    looks: list[tuple[float, float, float]] = []
    try:
        while time.time() < real_cutoff - BASELINE_FROM.total_seconds() - 0.5:
            time.sleep(0.05)
        load = subprocess.Popen(
            ["wrk", "-t", str(CLIENTS), "-c", str(CLIENTS), "-d",
             f"{int((limit + BASELINE_FROM).total_seconds()) + 5}s",
             "--timeout", "30s", "-s", str(ROOT / "bench" / "burst.lua"),
             f"http://127.0.0.1:{server.port}"],
            env={**os.environ, "TARGETS": str(targets), "OUT": str(logs)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.time() < real_cutoff + limit.total_seconds():
            time.sleep(0.5)
            if scheduler.poll() is None:  # (one that died fails the run below, not here)
                looks.append((time.time(), process_cpu_seconds(scheduler.pid),
                              machine_busy_seconds()))
            row = _cutoff_row(url, cutoff.date())
            if row is not None and row[1] is not None \
                    and time.time() > row[1].timestamp() - offset + 2:
                break
        else:
            raise RuntimeError("the cutoff did not commit within the limit")
        load.send_signal(signal.SIGINT)
        load.wait(timeout=60)
        peak = hwm_mb(scheduler.pid)
        check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                                "colours", "check"], cwd=ROOT, env=env,
                               capture_output=True, text=True)
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        server.stop()
        scheduler.terminate()
        try:
            scheduler.wait(timeout=60)
        except subprocess.TimeoutExpired:  # (in the middle of a cutoff that failed the run)
            scheduler.kill()
            scheduler.wait()
    began, ended = row[0].timestamp() - offset, row[1].timestamp() - offset
    print(f"the burst's logs are in {logs}", flush=True)
    sent = _read_logs(logs)
    before = [r for r in sent if real_cutoff - BASELINE_FROM.total_seconds() <= r[0]
              <= real_cutoff - BASELINE_UNTIL.total_seconds()]
    during = [r for r in sent if began <= r[0] <= ended]
    return {
        "cutoff_s": round(ended - began, 2),
        "cutoff_began_after_16_00_s": round(began - real_cutoff, 2),
        "scheduler_peak_rss_mb": round(peak, 1),
        # How much of the machine the cutoff had: its process's CPU time over the cutoff's
        # wall time, in cores, beside what the whole machine was busy with (two cores here).
        **_shares(looks, began, ended),
        "no_cutoff": summarise(before),
        "during_cutoff": summarise(during),
        "all": summarise(sent),
        "colours_check_ok": check.returncode == 0,
        "colours_check_output": (check.stdout[-300:] + check.stderr[-300:]).strip(),
        "summary": row[2],
        "scheduler_log": str(scheduler_log),
    }
