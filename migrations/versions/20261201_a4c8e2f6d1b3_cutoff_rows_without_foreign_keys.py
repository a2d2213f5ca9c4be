"""the cutoff's rows refer to units and tasks without foreign keys

Missed updates, the colour history and the red list are written only by the cutoff, with
the lead unit of each task it read in the same snapshot, and units are never deleted. Their
foreign keys to units ran a check (and a KEY SHARE lock of the unit's row) for each of the
~2.2 million rows of the nation's rush day, as the task keys did before 23416dd9f18e. The
notifications' key to tasks did the same for each "turned red" notice the cutoff writes
(2.3 s for the 130,000 of that day); tasks are never deleted, so its ON DELETE CASCADE never acted.

Revision ID: a4c8e2f6d1b3
Revises: d7f3b9e2a4c6
Create Date: 2026-12-01 06:00:00

"""
import warnings

from alembic import op

# revision identifiers, used by Alembic.
revision = 'a4c8e2f6d1b3'
down_revision = 'd7f3b9e2a4c6'
branch_labels = None
depends_on = None

TABLES = ("missed_updates", "red_task_days", "task_colour_history")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_unit_id_units"),
                                     type_="foreignkey")
    # (SQLite rebuilds the table; its reflection skips the tasks' expression index.)
    with warnings.catch_warnings(), op.batch_alter_table("notifications") as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.drop_constraint(batch_op.f("fk_notifications_task_id_tasks"),
                                 type_="foreignkey")


def downgrade():
    with warnings.catch_warnings(), op.batch_alter_table("notifications") as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.create_foreign_key(batch_op.f("fk_notifications_task_id_tasks"), "tasks",
                                    ["task_id"], ["id"], ondelete="CASCADE")
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_unit_id_units"), "units",
                                        ["unit_id"], ["id"])
