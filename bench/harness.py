"""What the benchmark's phases share: the servers under test (gunicorn as the README
recommends), wrk as the load generator, processes' memory, and libfaketime's clock."""

from __future__ import annotations

import glob
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2 * (os.cpu_count() or 1) + 1
THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(url: str, now: datetime, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "FLASK_"))}
    # The rush is a few tokens sending thousands of requests a minute: the API's rate
    # limit is raised out of the way (its cost is still measured: the limiter still runs).
    # The bench's admin signs in with a password alone: the reads time the pages, not the
    # second step of a login (which would send every page to the enrolment page).
    env.update(DATABASE_URL=url, TRACKER_NOW=now.isoformat(), SECRET_KEY="bench",
               TRACKER_INSTANCE_PATH=tempfile.mkdtemp(prefix="tracker-bench-"),
               TRACKER_API_RATE_LIMIT="1000000/minute", TRACKER_ADMIN_2FA="optional",
               **extra)
    return env


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def hwm_mb(pid: int) -> float:
    return rss_mb(pid, "VmHWM")


def process_cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system, every thread), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far (every core), in seconds."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait


class Server:
    """gunicorn as the README recommends: 2×cores+1 workers, 4 threads each."""

    def __init__(self, app: str, env: dict):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads",
             str(THREADS), "--worker-class", "gthread", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", app],
            cwd=ROOT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.3)
        self.proc.kill()
        raise RuntimeError(f"{app} did not start")

    def worker_rss(self) -> float:
        children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        return max((rss_mb(int(pid)) for pid in children), default=0.0)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def wrk(port: int, clients: int, seconds: int, targets: Path, prefix: str,
        quantiles: bool = False, list_path: str | None = None) -> dict:
    """Run wrk; also report how much CPU it used, to show the load generator kept up.
    `quantiles`: keep the latency at every half percentile (`q`, ms), for pooling.
    `list_path`: read that list with each target's token instead of posting updates."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "post_update.lua"), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, env={**os.environ, "TARGETS": str(targets),
                                             "PATH_PREFIX": prefix,
                                             **({"LIST_PATH": list_path} if list_path
                                                else {})}, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(re.search(r"RESULT (\{.*\})", out).group(1))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["rps"] = result["ok"] / result["seconds"]
    result["client_cpu_share"] = cpu / result["seconds"]  # cores used by wrk itself
    if not quantiles:
        result.pop("q")
    return result


def faketime_env(env: dict, fake_now: datetime) -> tuple[dict, float]:
    """`env` for processes whose clock (libfaketime, Debian's package `faketime`) reads
    `fake_now` now and runs on with real time — the same clock in every process started
    with it. Returns the env and the offset (fake − real, whole seconds)."""
    libraries = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libraries:
        raise RuntimeError("libfaketime is missing: apt-get install faketime")
    offset = round(fake_now.timestamp() - time.time())
    env = {k: v for k, v in env.items() if k != "TRACKER_NOW"}
    env.update(LD_PRELOAD=libraries[0], FAKETIME=f"{offset:+d}")
    return env, float(offset)
