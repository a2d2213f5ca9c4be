"""The webhooks' worker: sends what the outbox holds, after the commit that queued it —
run every few seconds by the scheduler (`run`) and by `tracker webhooks deliver`.

Each delivery is claimed first, in a short transaction of its own (its next attempt moved
a lease ahead and its attempt counted), then POSTed with no transaction open, then its
outcome written: two workers never send the same attempt, a crash mid-way sends it again
after the lease (never loses it), and no database lock is held while an endpoint is slow.

The request: the event's JSON body, signed with the endpoint's secret —
`X-Tracker-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, with
`X-Tracker-Timestamp` (Unix seconds of the attempt), `X-Tracker-Event` and
`X-Tracker-Delivery` (the event id, the same on every retry). A 2xx answer delivers it;
anything else (an error status, a redirect, a timeout, a refused connection, an address
not allowed) is an attempt failed: retried after `TRACKER_WEBHOOK_RETRY_SECONDS` × 2^(n−1)
(at most `MAX_DELAY`), and given up after `TRACKER_WEBHOOK_MAX_ATTEMPTS` attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from tracker import clock
from tracker.extensions import db
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint
from tracker.webhooks.service import refused_address, secret_of

log = logging.getLogger("tracker.webhooks")

MAX_DELAY = timedelta(hours=6)
ERROR_MAX = 500
USER_AGENT = "Tracker-Webhooks/1"


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


def check_address(url: str) -> None:
    """Resolve the endpoint's host and refuse it if any address it gives is not allowed
    (a name pointing at the server itself or at the metadata service)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise Refused(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        reason = refused_address(info[4][0])
        if reason is not None:
            raise Refused(f"{info[4][0]}: {reason}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new address to post to."""

    def redirect_request(self, *args, **kwargs):
        return None


# No proxy from the environment (the intranet is reached directly), no redirects.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


def post(url: str, secret: bytes, delivery: WebhookDelivery, at: datetime) -> Outcome:
    """One attempt: the signed POST, and what came of it."""
    data = delivery.body.encode()
    timestamp = int(at.timestamp())
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "X-Tracker-Event": delivery.event, "X-Tracker-Delivery": delivery.event_id,
        "X-Tracker-Timestamp": str(timestamp),
        "X-Tracker-Signature": sign(secret, timestamp, data)})
    timeout = float(current_app.config["TRACKER_WEBHOOK_TIMEOUT"])
    try:
        check_address(url)
        with _opener.open(request, timeout=timeout) as response:
            response.read(1024)
            return Outcome(True, response.status)
    except urllib.error.HTTPError as exc:
        answer = exc.read(200).decode("utf-8", "replace").strip()
        return Outcome(False, exc.code, f"HTTP {exc.code} {exc.reason}"
                       + (f": {answer}" if answer else ""))
    except Refused as exc:
        return Outcome(False, None, f"address not allowed: {exc}")
    except TimeoutError:
        return Outcome(False, None, f"no answer within {timeout:g} s (timeout)")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            return Outcome(False, None, f"no answer within {timeout:g} s (timeout)")
        return Outcome(False, None, f"cannot connect: {reason}")
    except (OSError, ValueError) as exc:  # a connection reset, an answer not HTTP
        return Outcome(False, None, f"{type(exc).__name__}: {exc}")


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


def deliver_due(now: datetime | None = None, *, limit: int = 200) -> dict[str, int]:
    """Attempt every delivery due at `now` (at most `limit`, oldest first) of an active
    endpoint — or any endpoint for a test (`ping`). Returns the counts of delivered,
    failed (this attempt) and given up."""
    moment = now or clock.now()
    lease = timedelta(seconds=float(current_app.config["TRACKER_WEBHOOK_TIMEOUT"]) + 60)
    due = list(db.session.scalars(
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= moment,
               WebhookEndpoint.active | (WebhookDelivery.event == "ping"))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))
    db.session.commit()
    counts = {"delivered": 0, "failed": 0, "given_up": 0}
    for delivery_id in due:
        at = now or clock.now()
        if not _claim(delivery_id, at, lease):
            continue  # another worker has it
        delivery = db.session.get(WebhookDelivery, delivery_id)
        endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
        secret = secret_of(endpoint)
        db.session.commit()  # no transaction open while the endpoint answers
        if secret is None:
            outcome = Outcome(False, None, "the secret cannot be read (SECRET_KEY changed): "
                              "give the webhook a new secret")
        else:
            outcome = post(endpoint.url, secret, delivery, at)
        _record(delivery, outcome, at)
        db.session.commit()
        if outcome.ok:
            counts["delivered"] += 1
        else:
            counts["given_up" if delivery.status == "failed" else "failed"] += 1
            log.warning("webhook %s, delivery %s (attempt %s): %s", endpoint.id,
                        delivery.id, delivery.attempts, outcome.error)
    return counts


def run(app, leading=None) -> None:
    """The scheduler's job, every `TRACKER_WEBHOOK_POLL_SECONDS` (only while `leading()`,
    when given): what is due, delivered; a failure logged, never raised."""
    if leading is not None and not leading():
        return
    with app.app_context():
        try:
            deliver_due()
        except Exception:
            db.session.rollback()
            log.exception("webhook delivery failed; the next run tries again")
        finally:
            db.session.remove()
