"""webhook events recorded: an update no longer asks the endpoints whether anyone listens

The webhooks' receivers (tracker.webhooks.events) skip an event that no active endpoint
hears of, as the `webhook_events` setting says (written by every change to an endpoint).
A database whose endpoints were never changed since that setting came had none, and every
update then opened a savepoint to read the endpoints: three round trips in each request of
the 16:00 rush, for nothing. This records it once, from the active endpoints.

Revision ID: c2e8a4f6b9d1
Revises: b6d4f2a8c1e3
Create Date: 2026-11-30 19:50:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2e8a4f6b9d1'
down_revision = 'b6d4f2a8c1e3'
branch_labels = None
depends_on = None

KEY = "webhook_events"  # tracker.webhooks.service.LISTENING_KEY
SETTINGS = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String),
                    sa.column("updated_at", sa.DateTime(timezone=True)))


def upgrade():
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM settings WHERE key = :key"), {"key": KEY}).first():
        return
    events = set()
    for (listed,) in conn.execute(sa.text(
            "SELECT events FROM webhook_endpoints WHERE active")):
        events.update(e for e in listed.split(",") if e)
    now = datetime.now(UTC)  # as tracker.types.UTCDateTime stores it
    conn.execute(SETTINGS.insert().values(
        key=KEY, value=",".join(sorted(events)),
        updated_at=now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now))


def downgrade():
    pass  # the setting is kept by the app from here on; without it the app asks the endpoints
