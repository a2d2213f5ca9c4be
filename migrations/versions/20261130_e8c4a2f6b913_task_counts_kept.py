"""task counts kept: each unit's tasks counted as they change (issue 15)

`task_counts` and `task_count_deltas` (tracker.tasks.counts), the triggers on `tasks` that
append the deltas, and the counts of the tasks already there.

- PostgreSQL: three statement triggers (INSERT, UPDATE, DELETE) over their transition
  tables, one function: a statement appends one row per key whose count it changed. The zone of a done task's "in time" is the session's `tracker.zone` (set by the
  app on every connection), else Asia/Ho_Chi_Minh.
- SQLite: row triggers; the zone is the app's `tracker_zone()`.

A later migration that rebuilds `tasks` on SQLite (batch_alter_table) drops its triggers:
it must create them again (`create_sqlite_triggers` below).

Revision ID: e8c4a2f6b913
Revises: d3b9f1a7c524
Create Date: 2026-11-30 16:30:00

"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'e8c4a2f6b913'
down_revision = 'd3b9f1a7c524'
branch_labels = None
depends_on = None

COUNTED = "lead_unit_id, status, colour, colour_reason, submitted_at, deadline"


def _pg_key(zone: str) -> str:
    return ("lead_unit_id, status, coalesce(colour, ''), coalesce(colour_reason, ''),"
            " CASE WHEN status = 'done' THEN coalesce(timezone(" + zone + ", submitted_at)"
            "::date <= deadline, false)::int ELSE -1 END")


PG_FUNCTION = """
CREATE FUNCTION tracker_task_count_deltas() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    zone text := coalesce(nullif(current_setting('tracker.zone', true), ''),
                          'Asia/Ho_Chi_Minh');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_count_deltas (unit_id, status, colour, reason, in_time, n)
        SELECT KEY, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO task_count_deltas (unit_id, status, colour, reason, in_time, n)
        SELECT KEY, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4, 5;
    ELSE
        INSERT INTO task_count_deltas (unit_id, status, colour, reason, in_time, n)
        SELECT unit_id, status, colour, reason, in_time, sum(d) FROM (
            SELECT KEY, 1 AS d FROM new_rows
            UNION ALL SELECT KEY, -1 FROM old_rows
        ) AS changed (unit_id, status, colour, reason, in_time, d)
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END $$
""".replace("KEY", _pg_key("zone"))

PG_TRIGGERS = (
    "CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tracker_task_count_deltas()",
    # (PostgreSQL allows no column list with transition tables: every UPDATE of tasks
    # runs it, and a statement that changed no key appends nothing.)
    "CREATE TRIGGER tasks_count_update AFTER UPDATE ON tasks"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tracker_task_count_deltas()",
    "CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tracker_task_count_deltas()",
)


def _sqlite_key(row: str) -> str:
    return (f"{row}.lead_unit_id, {row}.status, coalesce({row}.colour, ''),"
            f" coalesce({row}.colour_reason, ''), CASE WHEN {row}.status = 'done' THEN"
            f" coalesce(tracker_local_date({row}.submitted_at, tracker_zone()) <= {row}.deadline,"
            " 0) ELSE -1 END")


_INSERT = "INSERT INTO task_count_deltas (unit_id, status, colour, reason, in_time, n) VALUES"
SQLITE_TRIGGERS = (
    "CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN"
    f" {_INSERT} ({_sqlite_key('NEW')}, 1); END",
    f"CREATE TRIGGER tasks_count_update AFTER UPDATE OF {COUNTED} ON tasks WHEN "
    + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED.split(", "))
    + f" BEGIN {_INSERT} ({_sqlite_key('OLD')}, -1); {_INSERT} ({_sqlite_key('NEW')}, 1); END",
    "CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN"
    f" {_INSERT} ({_sqlite_key('OLD')}, -1); END",
)


def create_sqlite_triggers() -> None:
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade():
    def counted(*first):  # a count's key and its number, after `first`
        return (*first,
                sa.Column('unit_id', sa.Integer(), nullable=False),
                sa.Column('status', sa.String(length=16), nullable=False),
                sa.Column('colour', sa.String(length=8), nullable=False),
                sa.Column('reason', sa.String(length=32), nullable=False),
                sa.Column('in_time', sa.SmallInteger(), nullable=False),
                sa.Column('n', sa.BigInteger(), nullable=False))

    op.create_table(
        'task_counts', *counted(),
        sa.PrimaryKeyConstraint('unit_id', 'status', 'colour', 'reason', 'in_time',
                                name=op.f('pk_task_counts')))
    op.create_table(
        'task_count_deltas',
        *counted(sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                           nullable=False)),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_count_deltas')))
    zone = current_app.config["TRACKER_TIMEZONE"]
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
        key = _pg_key("'" + zone.replace("'", "''") + "'")
        op.execute("INSERT INTO task_counts (unit_id, status, colour, reason, in_time, n)"
                   f" SELECT {key}, count(*) FROM tasks GROUP BY 1, 2, 3, 4, 5")
    else:
        create_sqlite_triggers()
        op.execute("INSERT INTO task_counts (unit_id, status, colour, reason, in_time, n)"
                   f" SELECT {_sqlite_key('tasks')}, count(*) FROM tasks"
                   " GROUP BY 1, 2, 3, 4, 5")


def downgrade():
    for name in ("tasks_count_insert", "tasks_count_update", "tasks_count_delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {name} ON tasks")
        else:
            op.execute(f"DROP TRIGGER {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION tracker_task_count_deltas()")
    op.drop_table('task_count_deltas')
    op.drop_table('task_counts')
