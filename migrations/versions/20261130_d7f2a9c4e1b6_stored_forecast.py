"""stored forecast: each working day's early warning, computed once after its cutoff

`forecast_days`: the days computed (read only once finished). `task_forecasts`: one row per
task judged likely to turn red at the day's cutoff (docs/forecast.md).

Revision ID: d7f2a9c4e1b6
Revises: c4d1e8a2f7b3
Create Date: 2026-11-30 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'd7f2a9c4e1b6'
down_revision = 'c4d1e8a2f7b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'forecast_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('horizon_end', sa.Date(), nullable=False),
        sa.Column('started_at', UTCDateTime(), nullable=False),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.Column('likely', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_forecast_days')),
    )
    op.create_table(
        'task_forecasts',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('lead_unit_id', sa.Integer(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('risk', sa.SmallInteger(), nullable=False),
        sa.Column('signs', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['lead_unit_id'], ['units.id'],
                                name=op.f('fk_task_forecasts_lead_unit_id_units')),
        sa.PrimaryKeyConstraint('day', 'task_id', name=op.f('pk_task_forecasts')),
    )
    op.create_index('ix_task_forecasts_day_risk', 'task_forecasts',
                    ['day', sa.literal_column('risk DESC'), 'deadline', 'task_id'], unique=False)
    op.create_index('ix_task_forecasts_day_unit', 'task_forecasts', ['day', 'lead_unit_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_task_forecasts_day_unit', table_name='task_forecasts')
    op.drop_index('ix_task_forecasts_day_risk', table_name='task_forecasts')
    op.drop_table('task_forecasts')
    op.drop_table('forecast_days')
