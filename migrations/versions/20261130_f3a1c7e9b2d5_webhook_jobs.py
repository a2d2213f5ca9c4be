"""webhook jobs: what the worker expands into deliveries (a batch's updates, a cutoff's
colour changes), so that the write that caused it only adds one small row

Revision ID: f3a1c7e9b2d5
Revises: a6c3e9f1b2d8
Create Date: 2026-11-30 14:00:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'f3a1c7e9b2d5'
down_revision = 'a6c3e9f1b2d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=True),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('data', sa.Text(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_jobs_endpoint_id_webhook_endpoints')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_jobs')),
    )
    op.create_index(op.f('ix_webhook_jobs_endpoint_id'), 'webhook_jobs', ['endpoint_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_webhook_jobs_endpoint_id'), table_name='webhook_jobs')
    op.drop_table('webhook_jobs')
