"""rate counts unlogged: a request's rate-limit count no longer waits for a WAL flush

Every API request counts itself in `rate_counts` (tracker.ratelimit) in a transaction of its
own. Logged, each count was one more commit to flush to disk before the request could
go on: under the 16:00 rush, as many flushes as the updates themselves. The counts of a
window a minute long are worth nothing after a crash, so the table is UNLOGGED on
PostgreSQL: no WAL, no flush, emptied by a crash recovery (every window starts afresh) and
not copied to a standby. SQLite keeps its counts in a file of their own already.

Revision ID: b6d4f2a8c1e3
Revises: e8c4a2f6b913
Create Date: 2026-11-30 19:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b6d4f2a8c1e3'
down_revision = 'e8c4a2f6b913'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_counts SET UNLOGGED")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_counts SET LOGGED")
