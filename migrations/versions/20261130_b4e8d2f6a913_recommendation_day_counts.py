"""recommendation day counts: the kiến nghị counted at each reporting day's cutoff

`recommendation_day_counts`: per day, raising unit, responsible unit, field and category,
how many kiến nghị (issue 18: the daily supervision report counts them, as it counts the
tasks from `unit_day_stats`).

Revision ID: b4e8d2f6a913
Revises: b3f1c8e2d5a7
Create Date: 2026-11-30 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b4e8d2f6a913'
down_revision = 'b3f1c8e2d5a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recommendation_day_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('raising_unit_id', sa.Integer(), nullable=False),
        sa.Column('responsible_unit_id', sa.Integer(), nullable=True),
        sa.Column('field', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('received', sa.Integer(), nullable=False),
        sa.Column('received_today', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['raising_unit_id'], ['units.id'],
                                name=op.f('fk_recommendation_day_counts_raising_unit_id_units')),
        sa.ForeignKeyConstraint(['responsible_unit_id'], ['units.id'],
                                name=op.f('fk_recommendation_day_counts_responsible_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_day_counts')),
    )
    op.create_index('ix_recommendation_day_counts_day', 'recommendation_day_counts',
                    ['day', 'raising_unit_id'])


def downgrade():
    op.drop_index('ix_recommendation_day_counts_day', table_name='recommendation_day_counts')
    op.drop_table('recommendation_day_counts')
