"""user phone

A user's phone number (điện thoại), kept with their name and e-mail as contact details
that an admin and the user themselves edit.

Revision ID: 3c1f0a7d52e4
Revises: b6b0825df24b
Create Date: 2026-11-30 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0a7d52e4'
down_revision = "b6b0825df24b"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch would copy `users`, which other tables'
    # foreign keys refuse to drop on SQLite.
    op.add_column('users', sa.Column('phone', sa.String(length=32), nullable=True))


def downgrade():
    # Not a batch (see upgrade): both databases drop a plain column in place.
    op.execute("ALTER TABLE users DROP COLUMN phone")
