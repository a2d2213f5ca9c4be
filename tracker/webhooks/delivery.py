"""The webhooks' worker: sends what the outbox holds, after the commit that queued it —
run every few seconds by the scheduler (`run`) and by `tracker webhooks deliver`. It first
expands the job rows of batches and cutoffs into deliveries (`fanout`) and purges the old
log (`purge`), each in short transactions of its own.

Each delivery is claimed first, in a short transaction of its own (its next attempt moved
a lease ahead and its attempt counted), then POSTed with no transaction open — what the
request needs is copied out of the session before the commit — then its outcome written:
two workers never send the same attempt, a crash mid-way sends it again after the lease
(never loses it), and no database lock is held while an endpoint is slow.

The request goes to the very address that was checked (`check_address`: the name resolved
once, every address it gives judged; the connection made to the first, with the name kept
in the Host header and TLS's SNI and certificate check), so a name that changes its answer
between the check and the connection (DNS rebinding) cannot reach a refused address. It
has an overall deadline, `TRACKER_WEBHOOK_TIMEOUT` from the connection to the last byte
read (a receiver dripping its answer is cut off), and the lease is a minute longer than
that deadline, so no other worker takes the delivery while it is being sent.

An endpoint that fails once in a run is skipped for the rest of that run (a circuit
breaker: its other deliveries wait for the next run, their attempts not counted), and a
run takes at most `PER_ENDPOINT` deliveries of one endpoint: a dead endpoint never starves
the others.

The request: the event's JSON body, signed with the endpoint's secret —
`X-Tracker-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, with
`X-Tracker-Timestamp` (Unix seconds of the attempt), `X-Tracker-Event` and
`X-Tracker-Delivery` (the event id, the same on every retry). A 2xx answer delivers it;
anything else (an error status, a redirect, a timeout, a refused connection, an address
not allowed) is an attempt failed: retried after `TRACKER_WEBHOOK_RETRY_SECONDS` × 2^(n−1)
(at most `MAX_DELAY`), and given up after `TRACKER_WEBHOOK_MAX_ATTEMPTS` attempts. The log
keeps the status and a short error class, never the receiver's answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, select, update

from tracker import clock
from tracker.extensions import db
from tracker.webhooks.fanout import expand_jobs
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint
from tracker.webhooks.service import refused_address, secret_of

log = logging.getLogger("tracker.webhooks")

MAX_DELAY = timedelta(hours=6)
ERROR_MAX = 500
USER_AGENT = "Tracker-Webhooks/1"
PER_ENDPOINT = 50
PURGE_BATCH, PURGE_BATCHES = 1000, 20


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed attempt a delivery is tried again."""
    base = float(current_app.config["TRACKER_WEBHOOK_RETRY_SECONDS"])
    return min(timedelta(seconds=base * 2 ** (attempts - 1)), MAX_DELAY)


class Refused(Exception):
    """The endpoint's address may not be reached (see `service.refused_address`)."""


def check_address(url: str) -> str:
    """Resolve the endpoint's host once and return the address to connect to; refuse it
    if any address the name gives is not allowed (a name pointing at the server itself,
    at the metadata service …)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM,
                                   proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise Refused(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        if refused_address(info[4][0]) is not None:
            raise Refused(info[4][0])
    if not infos:
        raise Refused(f"cannot resolve {parts.hostname}")
    return infos[0][4][0]


class _Pinned:
    """Connect to the address that was checked, whatever the name resolves to now."""

    address: str

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    def connect(self):
        super().connect()
        # The name, not the address, for SNI and the certificate's check.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


def _connection(url: str, address: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = _PinnedHTTPS(parts.hostname, parts.port, timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        connection = _PinnedHTTP(parts.hostname, parts.port, timeout=timeout)
    connection.address = address
    return connection


def post(url: str, secret: bytes, *, body: str, event: str, event_id: str,
         at: datetime) -> Outcome:
    """One attempt: the signed POST, and what came of it — within one overall deadline,
    `TRACKER_WEBHOOK_TIMEOUT`. Takes plain values: no database object is touched here."""
    data = body.encode()
    timestamp = int(at.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "X-Tracker-Event": event, "X-Tracker-Delivery": event_id,
        "X-Tracker-Timestamp": str(timestamp),
        "X-Tracker-Signature": sign(secret, timestamp, data)}
    timeout = float(current_app.config["TRACKER_WEBHOOK_TIMEOUT"])
    deadline = time.monotonic() + timeout
    late = f"timeout (no answer within {timeout:g} s)"
    try:
        address = check_address(url)
    except Refused as exc:
        return Outcome(False, None, f"address not allowed ({exc})")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Outcome(False, None, late)
    parts = urlsplit(url)
    connection = _connection(url, address, remaining)
    cut = threading.Event()

    def cut_off():  # the deadline passed: whatever the connection is waiting for, stop it
        cut.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(remaining, cut_off)
    timer.daemon = True
    timer.start()
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=data, headers=headers)
        response = connection.getresponse()
        response.read(1024)
        if cut.is_set():
            return Outcome(False, None, late)
        if 200 <= response.status < 300:
            return Outcome(True, response.status)
        return Outcome(False, response.status, f"HTTP {response.status}")
    except TimeoutError:
        return Outcome(False, None, late)
    except ssl.SSLError as exc:
        return Outcome(False, None, f"TLS error ({type(exc).__name__})")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if cut.is_set():
            return Outcome(False, None, late)
        what = ("cannot connect" if isinstance(exc, ConnectionRefusedError | socket.gaierror)
                else "no valid answer")
        return Outcome(False, None, f"{what} ({type(exc).__name__})")
    finally:
        timer.cancel()
        connection.close()


def _claim(delivery_id: int, now: datetime, lease: timedelta) -> bool:
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + lease, attempts=WebhookDelivery.attempts + 1,
                last_attempt_at=now)).rowcount == 1
    db.session.commit()
    return claimed


def _record(delivery: WebhookDelivery, outcome: Outcome, now: datetime) -> None:
    delivery.last_status = outcome.status
    delivery.last_error = (outcome.error or "")[:ERROR_MAX] or None
    if outcome.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = \
            "delivered", now, None
    elif delivery.attempts >= int(current_app.config["TRACKER_WEBHOOK_MAX_ATTEMPTS"]):
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)


def purge(now: datetime) -> int:
    """Delete the deliveries delivered or given up more than `TRACKER_WEBHOOK_KEEP_DAYS`
    days ago, `PURGE_BATCH` rows a transaction (at most `PURGE_BATCHES` a run)."""
    before = now - timedelta(days=int(current_app.config["TRACKER_WEBHOOK_KEEP_DAYS"]))
    table = WebhookDelivery.__table__
    purged = 0
    for _batch in range(PURGE_BATCHES):
        old = (select(table.c.id)
               .where(table.c.status.in_(("delivered", "failed")),
                      func.coalesce(table.c.delivered_at, table.c.last_attempt_at,
                                    table.c.created_at) < before)
               .limit(PURGE_BATCH).scalar_subquery())
        deleted = db.session.execute(delete(table).where(table.c.id.in_(old))).rowcount
        db.session.commit()
        purged += deleted
        if deleted < PURGE_BATCH:
            break
    return purged


def _due(moment: datetime, limit: int) -> list[tuple[int, int]]:
    """(delivery id, endpoint id) of what is due, oldest first, at most `PER_ENDPOINT`
    of one endpoint: of an active endpoint — or any endpoint for a test (`ping`)."""
    rank = func.row_number().over(
        partition_by=WebhookDelivery.endpoint_id,
        order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id)).label("rank")
    ranked = (select(WebhookDelivery.id, WebhookDelivery.endpoint_id,
                     WebhookDelivery.next_attempt_at, rank)
              .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
              .where(WebhookDelivery.status == "pending",
                     WebhookDelivery.next_attempt_at <= moment,
                     WebhookEndpoint.active | (WebhookDelivery.event == "ping"))
              .subquery())
    rows = db.session.execute(
        select(ranked.c.id, ranked.c.endpoint_id).where(ranked.c.rank <= PER_ENDPOINT)
        .order_by(ranked.c.next_attempt_at, ranked.c.id).limit(limit)).all()
    db.session.commit()
    return [(row.id, row.endpoint_id) for row in rows]


def deliver_due(now: datetime | None = None, *, limit: int = 200) -> dict[str, int]:
    """Expand the queued jobs, purge the old log, then attempt every delivery due at
    `now` (at most `limit`, oldest first, `PER_ENDPOINT` of one endpoint). Returns the
    counts of delivered, failed (this attempt) and given up; the deliveries of an endpoint
    that failed earlier in the run are left for the next (`skipped`, in the log)."""
    moment = now or clock.now()
    expand_jobs()
    purge(moment)
    lease = timedelta(seconds=float(current_app.config["TRACKER_WEBHOOK_TIMEOUT"]) + 60)
    counts = {"delivered": 0, "failed": 0, "given_up": 0}
    broken: set[int] = set()
    skipped = 0
    for delivery_id, endpoint_id in _due(moment, limit):
        if endpoint_id in broken:
            skipped += 1
            continue
        at = now or clock.now()
        if not _claim(delivery_id, at, lease):
            continue  # another worker has it
        delivery = db.session.get(WebhookDelivery, delivery_id)
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        # Everything the request needs, out of the session before the commit: a commit
        # expires the objects, and reading them again would open a transaction (on SQLite
        # BEGIN IMMEDIATE, the write lock) for as long as the endpoint takes to answer.
        url, secret = endpoint.url, secret_of(endpoint)
        body, event, event_id = delivery.body, delivery.event, delivery.event_id
        db.session.commit()
        if secret is None:
            outcome = Outcome(False, None, "the secret cannot be read (SECRET_KEY changed): "
                              "give the webhook a new secret")
        else:
            outcome = post(url, secret, body=body, event=event, event_id=event_id, at=at)
        _record(delivery, outcome, at)
        db.session.commit()
        if outcome.ok:
            counts["delivered"] += 1
        else:
            broken.add(endpoint_id)
            counts["given_up" if delivery.status == "failed" else "failed"] += 1
            log.warning("webhook %s, delivery %s (attempt %s): %s", endpoint_id,
                        delivery_id, delivery.attempts, outcome.error)
    if skipped:
        log.warning("webhooks %s failed: %s of their deliveries left for the next run",
                    sorted(broken), skipped)
    return counts

