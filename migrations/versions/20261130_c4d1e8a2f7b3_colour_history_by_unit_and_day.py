"""colour history by unit and day: the tasks of a subtree on a past day

The past-day dashboard's drill-down (issue 16) reads each task's latest colour-history row
on or before a day for the units of a subtree; this index serves it from the unit's rows
alone.

Revision ID: c4d1e8a2f7b3
Revises: d81f3b6a2c47
Create Date: 2026-11-30 09:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4d1e8a2f7b3'
down_revision = 'd81f3b6a2c47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_task_colour_history_unit_day', 'task_colour_history',
                    ['unit_id', 'day'], unique=False)


def downgrade():
    op.drop_index('ix_task_colour_history_unit_day', table_name='task_colour_history')
