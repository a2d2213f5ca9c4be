"""e-mails claimed before they are sent, not locked while they are

A sender used to keep the notification's row locked (on SQLite: the database's one write
lock) for the whole SMTP exchange. It now claims the rows in a short transaction, sends
with none open, and marks each one sent in another.

Revision ID: c5e9a3d7f1b2
Revises: b8e1d4f7a2c9
Create Date: 2026-12-02 15:00:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c5e9a3d7f1b2'
down_revision = 'b8e1d4f7a2c9'
branch_labels = None
depends_on = None


def upgrade():
    # (A plain ADD COLUMN on both databases: nothing is copied.)
    op.add_column("notifications",
                  sa.Column("mail_claimed_at", UTCDateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("notifications", "mail_claimed_at")
