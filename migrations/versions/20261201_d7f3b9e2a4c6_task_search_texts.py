"""task search texts in a table of their own: a task's write no longer rewrites its trigram index

A task's folded search text (tracker.tasks.models.TaskSearchText) moves from a column of
`tasks` to a narrow table, with its trigram index. A change of a task's progress or colour
changes indexed columns, so PostgreSQL writes a new entry into every index of the table —
and the trigram index takes hundreds per task: the cutoff's rewrite of the day's colours
spent half its time there. Now that index is written only when the text itself changes.

Revision ID: d7f3b9e2a4c6
Revises: c2e8a4f6b9d1
Create Date: 2026-12-01 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7f3b9e2a4c6'
down_revision = 'c2e8a4f6b9d1'
branch_labels = None
depends_on = None

# The histogram and common values a LIKE's selectivity is estimated from (default 100), as
# the column had (c4e8a1d2f7b3).
STATISTICS = 1000


def _trigram_index(table: str) -> None:
    op.create_index(f"ix_{table}_search_text", table, ["search_text"],
                    postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"},
                    sqlite_where=sa.text("0"))


def upgrade():
    bind = op.get_bind()
    op.create_table(
        "task_search_texts",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE",
                                name=op.f("fk_task_search_texts_task_id_tasks")),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_search_texts")),
    )
    op.execute("INSERT INTO task_search_texts (task_id, search_text) "
                "SELECT id, search_text FROM tasks")
    _trigram_index("task_search_texts")
    op.drop_index("ix_tasks_search_text", table_name="tasks")
    op.execute("ALTER TABLE tasks DROP COLUMN search_text")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE task_search_texts ALTER COLUMN search_text "
                   f"SET STATISTICS {STATISTICS}")
        # Never scanned in parallel: one person's search must not take every core of the
        # database in the rush; narrow rows make a parallel scan look cheaper to the planner
        # than the trigram index (measured: 39 ms against 6 ms for a commune's name at
        # province size), which answers it.
        op.execute("ALTER TABLE task_search_texts SET (parallel_workers = 0)")
        op.execute("ANALYZE task_search_texts")


def downgrade():
    bind = op.get_bind()
    op.add_column("tasks", sa.Column("search_text", sa.Text(), server_default="",
                                     nullable=False))
    op.execute("UPDATE tasks SET search_text = (SELECT s.search_text FROM task_search_texts s "
               "WHERE s.task_id = tasks.id) WHERE id IN (SELECT task_id FROM task_search_texts)")
    _trigram_index("tasks")
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tasks ALTER COLUMN search_text SET STATISTICS {STATISTICS}")
    op.drop_table("task_search_texts")
