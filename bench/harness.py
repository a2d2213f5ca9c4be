"""What the benchmark's phases share: the servers under test (a web host as the README
recommends: nginx in front of synchronous gunicorn workers), wrk as the load generator,
processes' memory, and libfaketime's clock."""

from __future__ import annotations

import contextlib
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
# One synchronous worker per core and one more (for a worker waiting on the database's
# commit), behind nginx, which reads each request whole before gunicorn sees it and takes
# each answer whole (docs/deployment.md, "A web host").
WORKERS = (os.cpu_count() or 1) + 1
# The longest request a worker may serve before gunicorn replaces it (the nation's day
# report as CSV takes one to two minutes); nginx waits as long for an answer.
REQUEST_SECONDS = 300
# Above the app's own upload limits (TRACKER_MAX_UPLOAD_MB, the import's): the app, not
# nginx, refuses an upload too large, with its own message.
NGINX_BODY_MB = 64


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


def gunicorn_args(app: str, bind: str) -> list[str]:
    """gunicorn as the README recommends, serving `app` on `bind` (behind nginx)."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--timeout",
            str(REQUEST_SECONDS), "--bind", bind, "--log-level", "warning", app]


def nginx_config(listen: str, upstream: str, workdir: Path) -> Path:
    """nginx as a web host's front (docs/deployment.md shows the production file, with
    TLS): it buffers each request and each answer whole, so that a phone uploading or
    reading slowly holds no gunicorn worker; it passes the client's address on
    (`TRACKER_TRUSTED_PROXIES`). Runs in the foreground, its files in `workdir`; as root
    its workers stay root (a test's temporary directories are not world-readable)."""
    config = workdir / "nginx.conf"
    config.write_text(f"""user root;
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  client_max_body_size {NGINX_BODY_MB}m;
  proxy_read_timeout {REQUEST_SECONDS}s;
  proxy_send_timeout {REQUEST_SECONDS}s;
  keepalive_requests 100000;
  server {{
    listen {listen};
    location / {{
      proxy_pass http://{upstream};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-Start "t=${{msec}}";
    }}
  }}
}}
""")
    return config


def nginx_args(config: Path) -> list[str]:
    """The command that runs nginx with `config`, on the real clock whatever the
    environment's (libfaketime's is for the app and the scheduler)."""
    return ["env", "-u", "LD_PRELOAD", "-u", "FAKETIME", "nginx", "-c", str(config), "-p",
            str(config.parent), "-e", str(config.parent / "nginx-error.log")]


class Server:
    """A web host as the README recommends: nginx on `port`, in front of gunicorn's
    synchronous workers (`WORKERS`) on a port of their own."""

    def __init__(self, app: str, env: dict):
        self.port, self.app_port = free_port(), free_port()
        workdir = Path(tempfile.mkdtemp(prefix="tracker-web-"))
        # Each in a process group of its own, stopped whole (gunicorn's workers too).
        self.nginx = subprocess.Popen(nginx_args(nginx_config(
            f"127.0.0.1:{self.port}", f"127.0.0.1:{self.app_port}", workdir)), env=env,
            start_new_session=True)
        self.proc = subprocess.Popen(gunicorn_args(app, f"127.0.0.1:{self.app_port}"),
                                     cwd=ROOT, env={**env, "TRACKER_TRUSTED_PROXIES": "1"},
                                     start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz",
                                timeout=5).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop(kill=True)
        raise RuntimeError(f"{app} did not start")

    def worker_rss(self) -> float:
        children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        return max((rss_mb(int(pid)) for pid in children), default=0.0)

    def stop(self, kill: bool = False) -> None:
        for proc in (self.nginx, self.proc):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        for proc in (self.nginx, self.proc):
            proc.wait(timeout=30)


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
