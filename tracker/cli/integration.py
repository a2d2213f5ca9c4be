"""`tracker webhooks …`: the province's systems — the webhooks' outbox delivered now (the
scheduler does it every few seconds) and the endpoints listed."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from tracker import clock
from tracker.extensions import db
from tracker.webhooks.delivery import deliver_due
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint

webhooks_cli = AppGroup("webhooks", help="Webhooks: deliver the outbox, list the endpoints.")


@webhooks_cli.command("deliver")
@click.option("--limit", default=200, show_default=True, help="At most this many attempts.")
def deliver(limit: int) -> None:
    """Attempt every delivery due now (after their commit; retries by their backoff)."""
    counts = deliver_due(clock.now(), limit=limit)
    click.echo(f"delivered {counts['delivered']}, failed {counts['failed']} (to be retried), "
               f"given up {counts['given_up']}")


@webhooks_cli.command("list")
def list_endpoints() -> None:
    """Every endpoint: id, unit, on/off, events, address, deliveries pending and failed."""
    counts = dict(db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count())
        .where(WebhookDelivery.status == "pending")
        .group_by(WebhookDelivery.endpoint_id)).all())
    failed = dict(db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count())
        .where(WebhookDelivery.status == "failed")
        .group_by(WebhookDelivery.endpoint_id)).all())
    for e in db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)):
        click.echo(f"{e.id}\t{e.unit.name}\t{'on' if e.active else 'off'}\t{e.events}\t"
                   f"{e.url}\tpending {counts.get(e.id, 0)}, failed {failed.get(e.id, 0)}")


COMMANDS = (webhooks_cli,)
