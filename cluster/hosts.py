"""The cluster's processes, each started on its host (network namespace): the web hosts
(nginx in front of gunicorn), the load balancer (HAProxy, with health checks) and the
schedulers — all on one libfaketime clock, so that 16:00 comes a minute after they
start."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import REQUEST_SECONDS, ROOT, gunicorn_args, nginx_args, nginx_config
from cluster.net import Host

WEB_PORT = 8000
CLONE_NEWNET = 0x40000000


def current() -> int:
    """This process's network namespace, kept open to come back to (`enter`)."""
    return os.open("/proc/self/ns/net", os.O_RDONLY)


def enter(host: Host | int) -> None:
    """Move this process (its only thread) into `host`'s network namespace (or back into
    the one `current` kept)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = host if isinstance(host, int) else os.open(f"/run/netns/{host.namespace}",
                                                    os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns failed")
    finally:
        os.close(fd)


class Process:
    """A process started on a host, in a process group of its own (killed whole)."""

    def __init__(self, name: str, host: Host, args: list[str], env: dict, logs: Path):
        self.name, self.host = name, host
        self.log = logs / f"{name}.log"
        self.proc = subprocess.Popen([*host.prefix, *args], cwd=ROOT, env=env,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def web(name: str, host: Host, env: dict, logs: Path) -> Process:
    """A web host as the README recommends: nginx on the host's address, in front of
    gunicorn's synchronous workers on the host's own loopback — one process group, so
    that killing the host kills both."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tracker-{name}-"))
    upstream = f"127.0.0.1:{WEB_PORT + 1}"
    nginx = shlex.join(nginx_args(nginx_config(f"{host.address}:{WEB_PORT}", upstream,
                                               workdir)))
    gunicorn = shlex.join(gunicorn_args("wsgi:app", upstream))
    # HAProxy and nginx each append the address they were reached from.
    return Process(name, host, ["sh", "-c", f"{nginx} & exec {gunicorn}"],
                   {**env, "TRACKER_TRUSTED_PROXIES": "2"}, logs)


def scheduler(name: str, host: Host, env: dict, logs: Path) -> Process:
    return Process(name, host, [sys.executable, "-m", "flask", "--app", "wsgi", "tracker",
                                "scheduler"], env, logs)


def balancer(host: Host, webs: list[Host], logs: Path) -> Process:
    """HAProxy in front of the web hosts: round robin, a host checked every 500 ms on
    /healthz and out after two failures; a request whose connection fails is sent to
    another host (`redispatch`); a request that reached a host that then died is the
    client's to retry (with its idempotency key)."""
    servers = "\n".join(f"  server {w.name} {w.address}:{WEB_PORT} check inter 500 "
                        "fall 2 rise 2" for w in webs)
    config = Path(tempfile.mkdtemp(prefix="tracker-lb-")) / "haproxy.cfg"
    config.write_text(f"""global
  maxconn 2000
defaults
  mode http
  option forwardfor
  timeout connect 2s
  timeout client 30s
  timeout server {REQUEST_SECONDS}s
  retries 2
  option redispatch
frontend tracker
  bind {host.address}:80
  default_backend web
backend web
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
{servers}
""")
    return Process("lb", host, ["haproxy", "-f", str(config), "-db"], dict(os.environ), logs)
