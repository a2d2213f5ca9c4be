"""scheduler lease and rate counts: state shared by every host

`scheduler_lease`: which scheduler acts (tracker.cutoff.leader; PostgreSQL only writes it).
`rate_counts`: the request rate limits' windows (tracker.ratelimit), UNLOGGED on PostgreSQL
(no WAL: a crash empties it, which only forgets some counts).

Revision ID: c3a8e5f1d274
Revises: c4e8a1d2f7b3
Create Date: 2026-11-30 09:00:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c3a8e5f1d274'
down_revision = 'c4e8a1d2f7b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_lease',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=False),
        sa.Column('acquired_at', UTCDateTime(), nullable=False),
        sa.Column('renewed_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease')),
    )
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        'rate_counts',
        sa.Column('rate_key', sa.String(length=200), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('rate_key', name=op.f('pk_rate_counts')),
        prefixes=unlogged,
    )
    op.create_index(op.f('ix_rate_counts_expires_at'), 'rate_counts', ['expires_at'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_rate_counts_expires_at'), table_name='rate_counts')
    op.drop_table('rate_counts')
    op.drop_table('scheduler_lease')
