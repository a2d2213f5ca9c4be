"""session idle limit and own password first

A session records its last activity (to the minute) and ends after
TRACKER_SESSION_IDLE_MINUTES idle; a password chosen by an admin must be changed by its
user at the first login.

Revision ID: e240e52b7853
Revises: 168dec8ce4ce
Create Date: 2026-11-30 03:13:10.915253

"""
from alembic import op
import sqlalchemy as sa

import tracker.types


# revision identifiers, used by Alembic.
revision = 'e240e52b7853'
down_revision = '168dec8ce4ce'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch would copy `users`, which other tables'
    # foreign keys refuse to drop on SQLite.
    op.add_column('user_sessions', sa.Column('last_seen_at',
                                             tracker.types.UTCDateTime(timezone=True),
                                             nullable=True))
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(),
                                     server_default=sa.false(), nullable=False))


def downgrade():
    # Not a batch (a copy of `users`, which other tables' foreign keys refuse to drop on
    # SQLite): both databases drop a plain column in place (SQLite 3.35+).
    op.execute("ALTER TABLE users DROP COLUMN must_change_password")
    op.execute("ALTER TABLE user_sessions DROP COLUMN last_seen_at")
