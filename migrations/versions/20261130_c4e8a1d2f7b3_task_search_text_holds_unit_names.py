"""task search text holds its units' names; the worst-first index

A task's folded search column now holds its lead and coordinating units' names beside its
own fields (tracker.tasks.models.task_search_text), so that one trigram-indexed condition
finds a task by any of them; filled here for the tasks already stored. The column's
statistics are made finer so that PostgreSQL can tell a common phrase from a rare one. The
lists' order, worst first (tracker.tasks.models.WORST_FIRST), gets its index, so that a page
is read in order and stops at the page.

Revision ID: c4e8a1d2f7b3
Revises: b169fb9b0cf1
Create Date: 2026-11-30 08:40:00

"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from tracker.rules.vietnamese import fold_fields
from tracker.tasks.models import task_search_text

# revision identifiers, used by Alembic.
revision = "c4e8a1d2f7b3"
down_revision = "b169fb9b0cf1"
branch_labels = None
depends_on = None

OWN = ("code", "title", "description", "owner_name", "leader_in_charge")
BATCH = 5000
# The histogram and common values a LIKE's selectivity is estimated from (default 100).
STATISTICS = 1000
WORST_FIRST = ("(CASE WHEN (colour = 'red') THEN 0 WHEN (colour = 'yellow') THEN 1 "
               "WHEN (colour = 'green') THEN 2 ELSE 3 END)")


def _fill(bind, text_of) -> None:
    """A batch of tasks at a time, in id order (no cursor left open across the writes)."""
    read = sa.text(f"SELECT t.id, {', '.join('t.' + c for c in OWN)}, u.name FROM tasks t "
                   "JOIN units u ON u.id = t.lead_unit_id WHERE t.id > :last "
                   f"ORDER BY t.id LIMIT {BATCH}")
    coordinating = sa.text(
        "SELECT c.task_id, u.name FROM task_coordinating_units c JOIN units u "
        "ON u.id = c.unit_id WHERE c.task_id > :first AND c.task_id <= :last")
    update = sa.text("UPDATE tasks SET search_text = :s WHERE id = :id")
    last = 0
    while rows := bind.execute(read, {"last": last}).fetchall():
        names = defaultdict(list)
        for task_id, name in bind.execute(coordinating, {"first": last, "last": rows[-1][0]}):
            names[task_id].append(name)
        bind.execute(update, [{"id": row[0], "s": text_of(row, names[row[0]])} for row in rows])
        last = rows[-1][0]


def upgrade():
    bind = op.get_bind()
    _fill(bind, lambda row, names: task_search_text(row[1:-1], row[-1], names))
    op.create_index("ix_tasks_worst_first", "tasks", [sa.text(WORST_FIRST), "deadline", "id"])
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tasks ALTER COLUMN search_text SET STATISTICS {STATISTICS}")
        op.execute("ANALYZE tasks (search_text)")


def downgrade():
    bind = op.get_bind()
    op.drop_index("ix_tasks_worst_first", table_name="tasks")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE tasks ALTER COLUMN search_text SET STATISTICS -1")
    _fill(bind, lambda row, _names: fold_fields(*row[1:-1]))
