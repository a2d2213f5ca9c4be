"""What admins do with webhooks (the one write path of the pages, the API and the CLI):
register an endpoint for a unit of their subtree (a URL, the events it hears of, a secret
shown once), change it, turn it off, give it a new secret, delete it, and queue a test.

The address must be http:// or https:// with a host; an address on the machine itself
(loopback), a link-local one (169.254.0.0/16: the cloud's metadata service), the carrier
grade NAT range (100.64.0.0/10), the IETF protocol range (192.0.0.0/24), IPv6 unique local
addresses (fc00::/7) or an unspecified, multicast or reserved one is refused, here and
again on the address the worker connects to (`delivery.check_address`). The intranet's
private IPv4 ranges (10/8, 172.16/12, 192.168/16) are allowed: the province's systems live
there. `TRACKER_WEBHOOK_ALLOW_LOOPBACK=1` lets loopback through (a receiver on the same
host; tests), `TRACKER_WEBHOOK_ALLOW_ULA=1` the IPv6 unique local addresses.

Which events any active endpoint hears of is kept in the `webhook_events` setting, written
with every change to an endpoint: the signals' receivers read it with the settings each
request reads anyway, so that with no endpoint the writes pay nothing (`listened_events`).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, select

from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.models import User
from tracker.errors import InvalidInput, NotFound
from tracker.extensions import db
from tracker.inputs import text
from tracker.rules.store import put_setting, setting
from tracker.scope import may_manage_webhooks, webhook_units
from tracker.sealing import seal, unseal
from tracker.types import MAX_ID
from tracker.units.models import Unit
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint

# The events an endpoint may hear of, with the words the admin page uses.
EVENTS = {
    "task.created": _l("A task assigned"),
    "task.changed": _l("A task changed (edited, reassigned, cancelled, submitted, its "
                       "deadline extended)"),
    "update.posted": _l("A progress update posted"),
    "task.colour_changed": _l("A task's colour changed"),
    "completion.decided": _l("A completion confirmed or returned"),
    "cutoff.done": _l("The daily cutoff processed"),
}
PING = "ping"  # the test an admin sends; not an event one subscribes to
NAME_MAX, URL_MAX = 100, 1000
SECRET_MIN, SECRET_MAX = 16, 200
SECRET_PREFIX = "whsec_"
LISTENING_KEY = "webhook_events"
DELETE_BATCH = 1000
# Refused whatever the address's flags say: shared (carrier-grade NAT) addresses and the
# IETF protocol assignments, which may reach the provider's or the host's own services.
_REFUSED_NETWORKS = (ipaddress.ip_network("100.64.0.0/10"),
                     ipaddress.ip_network("192.0.0.0/24"))
_ULA = ipaddress.ip_network("fc00::/7")
_SEAL_INFO = b"tracker webhook secret"


def _aad(endpoint_id: int) -> bytes:
    return f"webhook-endpoint:{endpoint_id}".encode()


def secret_of(endpoint: WebhookEndpoint) -> bytes | None:
    """The endpoint's secret (None if SECRET_KEY changed since: give it a new one)."""
    return unseal(endpoint.secret_sealed, info=_SEAL_INFO, aad=_aad(endpoint.id))


def refused_address(host: str) -> str | None:
    """Why an IP address may not receive webhooks (None: it may). A name is judged by the
    addresses it resolves to, when the worker sends (`delivery.check_address`)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        if current_app.config.get("TRACKER_WEBHOOK_ALLOW_LOOPBACK"):
            return None
        return _("An address on the Tracker server itself is not allowed.")
    if (address.is_link_local or address.is_unspecified or address.is_multicast
            or address.is_reserved or any(address in n for n in _REFUSED_NETWORKS
                                          if n.version == address.version)):
        return _("This address is not allowed (link-local, multicast or reserved).")
    if address in _ULA and not current_app.config.get("TRACKER_WEBHOOK_ALLOW_ULA"):
        return _("This address is not allowed (link-local, multicast or reserved).")
    return None


def listened_events() -> frozenset[str] | None:
    """The events some active endpoint hears of, as this request read the settings (None
    if never recorded: then ask the endpoints)."""
    value = setting(LISTENING_KEY)
    return None if value is None else frozenset(e for e in value.split(",") if e)


def record_listening() -> None:
    """Write which events the active endpoints hear of (after any change to them)."""
    db.session.flush()
    events = set()
    for listed in db.session.scalars(select(WebhookEndpoint.events)
                                     .where(WebhookEndpoint.active)):
        events.update(e for e in listed.split(",") if e)
    put_setting(LISTENING_KEY, ",".join(e for e in EVENTS if e in events))


def check_url(value: str, errors: dict[str, list[str]]) -> str:
    url = text(value, "url", errors, max_len=URL_MAX, required=True)
    if "url" in errors:
        return url
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # a port out of range raises
    except ValueError:
        errors["url"] = [_("Not a valid address.")]
        return url
    if parts.scheme not in {"http", "https"} or not host:
        errors["url"] = [_("Must be an http:// or https:// address.")]
    elif parts.username is not None or parts.password is not None:
        errors["url"] = [_("Put no user name or password in the address; the signature "
                           "proves the sender.")]
    elif parts.fragment or any(c.isspace() for c in url):
        errors["url"] = [_("Not a valid address.")]
    elif (reason := refused_address(host)) is not None:
        errors["url"] = [reason]
    return url


def _events(value, errors: dict[str, list[str]]) -> str:
    chosen = value if isinstance(value, list | tuple) else [value] if value else []
    if not chosen or not all(isinstance(e, str) and e in EVENTS for e in chosen):
        errors["events"] = [_("Choose one or more of the events listed.")]
        return ""
    return ",".join(e for e in EVENTS if e in chosen)


def _secret(value, errors: dict[str, list[str]]) -> str:
    secret = text(value, "secret", errors, max_len=SECRET_MAX)
    if "secret" not in errors and secret and len(secret) < SECRET_MIN:
        errors["secret"] = [_("At least %(n)s characters, or leave it blank to have one "
                              "generated.", n=SECRET_MIN)]
    return secret or SECRET_PREFIX + secrets.token_urlsafe(32)


def _unit(actor: User, unit_id, errors: dict[str, list[str]]) -> Unit | None:
    try:
        unit_id = int(unit_id)
    except (TypeError, ValueError):
        unit_id = 0
    unit = db.session.get(Unit, unit_id) if 0 < unit_id <= MAX_ID else None
    if unit is None or not may_manage_webhooks(actor, unit):
        errors["unit_id"] = [_("Unknown unit or outside your scope.")]
        return None
    return unit


def create_endpoint(actor: User, raw: dict, *, now: datetime) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (`raw`: name, url, unit_id, events, secret optional); returns it
    and its secret, which is shown this once."""
    errors: dict[str, list[str]] = {}
    unit = _unit(actor, raw.get("unit_id"), errors)
    name = text(raw.get("name"), "name", errors, max_len=NAME_MAX, required=True)
    url = check_url(raw.get("url"), errors)
    events = _events(raw.get("events"), errors)
    secret = _secret(raw.get("secret"), errors)
    if errors:
        raise InvalidInput(_("The webhook was not saved."), errors)
    endpoint = WebhookEndpoint(unit=unit, name=name, url=url, events=events, active=True,
                               secret_sealed="", created_at=now, created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    endpoint.secret_sealed = seal(secret.encode(), info=_SEAL_INFO, aad=_aad(endpoint.id))
    record_security(SecurityEventKind.WEBHOOK_CREATED, at=now, actor=actor, unit=unit,
                    detail=_detail(endpoint))
    record_listening()
    return endpoint, secret


def shown_url(url: str) -> str:
    """The address without its query string (which may carry a token) — for logs and
    security events."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a valid address)"
    return parts._replace(query="?…" if parts.query else "", fragment="").geturl()


def _detail(endpoint: WebhookEndpoint, what: str | None = None) -> str:
    return (f"webhook {endpoint.id} ({endpoint.name}) {shown_url(endpoint.url)} "
            f"[{endpoint.events}]" + (f": {what}" if what else ""))[:2000]


def change_endpoint(actor: User, endpoint: WebhookEndpoint, raw: dict, *,
                    now: datetime) -> bool:
    """Change the name, address, events and on/off state; returns whether anything
    changed. (The unit stays: register another endpoint for another unit.)"""
    errors: dict[str, list[str]] = {}
    values = {
        "name": text(raw.get("name"), "name", errors, max_len=NAME_MAX, required=True),
        "url": check_url(raw.get("url"), errors),
        "events": _events(raw.get("events"), errors),
        "active": raw.get("active") in (True, "1", "on", "true"),
    }
    if errors:
        raise InvalidInput(_("The webhook was not saved."), errors)
    changed = [k for k, v in values.items() if getattr(endpoint, k) != v]
    for key in changed:
        setattr(endpoint, key, values[key])
    if changed:
        record_security(SecurityEventKind.WEBHOOK_CHANGED, at=now, actor=actor,
                        unit=endpoint.unit, detail=_detail(endpoint, ", ".join(changed)))
        record_listening()
    return bool(changed)


def new_secret(actor: User, endpoint: WebhookEndpoint, *, now: datetime) -> str:
    """A new generated secret, from now on (deliveries still queued are signed with it)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint.secret_sealed = seal(secret.encode(), info=_SEAL_INFO, aad=_aad(endpoint.id))
    record_security(SecurityEventKind.WEBHOOK_CHANGED, at=now, actor=actor,
                    unit=endpoint.unit, detail=_detail(endpoint, "new secret"))
    return secret


def delete_endpoint(actor: User, endpoint: WebhookEndpoint, *, now: datetime) -> None:
    """Delete the endpoint with its log and what it still had queued. Commits as it goes,
    so that no transaction holds a long log: first the endpoint turned off, with the
    security event; then its outbox, `DELETE_BATCH` rows a transaction; then the endpoint
    (its jobs by cascade)."""
    endpoint_id = endpoint.id
    record_security(SecurityEventKind.WEBHOOK_DELETED, at=now, actor=actor,
                    unit=endpoint.unit, detail=_detail(endpoint))
    endpoint.active = False
    record_listening()
    db.session.commit()
    table = WebhookDelivery.__table__
    while True:
        batch = select(table.c.id).where(table.c.endpoint_id == endpoint_id) \
            .limit(DELETE_BATCH).scalar_subquery()
        deleted = db.session.execute(delete(table).where(table.c.id.in_(batch))).rowcount
        db.session.commit()
        if deleted < DELETE_BATCH:
            break
    db.session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    db.session.commit()


def body(event: str, now: datetime, data: dict) -> tuple[str, str]:
    """(event id, JSON body) of one event for one endpoint: the id is new for each, and a
    retry sends the same one (a receiver drops what it has seen)."""
    event_id = str(uuid.uuid4())
    return event_id, json.dumps({"id": event_id, "event": event,
                                 "occurred_at": utc_text(now),
                                 "data": data}, ensure_ascii=False, separators=(",", ":"),
                                sort_keys=True, default=str)


def utc_text(moment: datetime) -> str:
    """A moment as the bodies give it: ISO 8601 in UTC, e.g. 2026-11-18T03:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def queue_row(endpoint_id: int, event: str, now: datetime, data: dict) -> dict:
    """A delivery row, due at once."""
    event_id, text_ = body(event, now, data)
    return {"endpoint_id": endpoint_id, "event_id": event_id, "event": event, "body": text_,
            "created_at": now, "status": "pending", "attempts": 0, "next_attempt_at": now}


def send_test(actor: User, endpoint: WebhookEndpoint, *, now: datetime) -> WebhookDelivery:
    """Queue a `ping` to the endpoint (even while it is off): the worker sends it after
    the commit, like every event, and the log shows how it went."""
    delivery = WebhookDelivery(**queue_row(endpoint.id, PING, now, {
        "endpoint": {"id": endpoint.id, "name": endpoint.name},
        "unit": {"id": endpoint.unit_id, "name": endpoint.unit.name},
        "sent_by": actor.username}))
    db.session.add(delivery)
    db.session.flush()
    return delivery


def managed_endpoints(actor: User) -> Select:
    """The endpoints of the units whose webhooks `actor` manages, by unit then name."""
    return (select(WebhookEndpoint).where(WebhookEndpoint.unit_id.in_(webhook_units(actor)))
            .order_by(WebhookEndpoint.unit_id, WebhookEndpoint.name, WebhookEndpoint.id))


def endpoint_of(actor: User, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint if `actor` manages it; 404 otherwise, so that ids do not leak."""
    endpoint = (db.session.get(WebhookEndpoint, endpoint_id)
                if 0 < endpoint_id <= MAX_ID else None)
    if endpoint is None or not may_manage_webhooks(actor, endpoint.unit):
        raise NotFound(_("webhook not found"))
    return endpoint


def log_of(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)))


