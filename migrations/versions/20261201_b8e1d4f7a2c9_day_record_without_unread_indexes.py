"""the day's record without the two indexes no read uses

The cutoff writes about 2.2 million rows of the day's record on the nation's rush day, into
nine indexes. Two of them serve no read: missed updates by unit alone (every read of them is
by day and task), and the colour history by (day, unit), whose reads — a subtree's changes
on a day or over a span — are served by (unit, day) one unit at a time, and a whole day's by
(day, rank, code). Each row the cutoff writes no longer pays for them.

Revision ID: b8e1d4f7a2c9
Revises: a4c8e2f6d1b3
Create Date: 2026-12-01 21:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8e1d4f7a2c9'
down_revision = 'a4c8e2f6d1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_missed_updates_unit_id", table_name="missed_updates")
    op.drop_index("ix_task_colour_history_day_unit", table_name="task_colour_history")


def downgrade():
    op.create_index("ix_task_colour_history_day_unit", "task_colour_history",
                    ["day", "unit_id"])
    op.create_index("ix_missed_updates_unit_id", "missed_updates", ["unit_id"])
