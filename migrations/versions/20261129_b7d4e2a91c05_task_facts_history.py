"""task facts history: the facts the colour rules read, kept as data at each change

The cutoff judged a past day by undoing the audit trail's text (old values written as
strings); it now reads `task_facts_history`, one row per change of a task's status, start
date, deadline, duty start or submission, holding the facts as they stood until then. The
rows for changes made before this revision are rebuilt here, once, from the audit trail.

Revision ID: b7d4e2a91c05
Revises: 23416dd9f18e
Create Date: 2026-11-29 23:40:00

"""
from collections import defaultdict
from datetime import date, datetime

from alembic import op
import sqlalchemy as sa

import tracker.types


revision = 'b7d4e2a91c05'
down_revision = '23416dd9f18e'
branch_labels = None
depends_on = None

FACTS = ("status", "start_date", "deadline", "duty_since", "submitted_at")
AUDITED = ("status", "deadline", "duty_since", "submitted_at")  # what the trail recorded


def _parse(name, text):
    if text is None:
        return None
    if name in ("deadline", "start_date"):
        return date.fromisoformat(text)
    if name in ("duty_since", "submitted_at"):
        return datetime.fromisoformat(text)
    return text


def upgrade():
    history = op.create_table(
        'task_facts_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('until', tracker.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('duty_since', tracker.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('submitted_at', tracker.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'],
                                name=op.f('fk_task_facts_history_task_id_tasks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_facts_history')),
    )
    op.create_index('ix_task_facts_history_until', 'task_facts_history', ['until'],
                    unique=False)
    _backfill(history)


def _backfill(history):
    """Walk each task's audited changes newest first, undoing them from its facts now."""
    bind = op.get_bind()
    stamp = tracker.types.UTCDateTime(timezone=True)
    tasks = sa.table('tasks', sa.column('id'), sa.column('status'),
                     sa.column('start_date', sa.Date()), sa.column('deadline', sa.Date()),
                     sa.column('duty_since', stamp), sa.column('submitted_at', stamp))
    audit = sa.table('audit_entries', sa.column('id'), sa.column('task_id'),
                     sa.column('at', tracker.types.UTCDateTime(timezone=True)),
                     sa.column('field'), sa.column('old_value'))
    changes = defaultdict(list)
    for task_id, at, name, old in bind.execute(
            sa.select(audit.c.task_id, audit.c.at, audit.c.field, audit.c.old_value)
            .where(audit.c.field.in_(AUDITED), audit.c.task_id.is_not(None))
            .order_by(audit.c.task_id, audit.c.at.desc(), audit.c.id.desc())):
        changes[task_id].append((at, name, old))
    if not changes:
        return
    now = {}
    ids = list(changes)
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for row in bind.execute(sa.select(tasks).where(tasks.c.id.in_(chunk))):
            now[row.id] = dict(zip(FACTS, row[1:]))
    rows = []
    for task_id, entries in changes.items():
        facts = dict(now[task_id])
        index = 0
        while index < len(entries):
            at = entries[index][0]
            while index < len(entries) and entries[index][0] == at:  # one change
                _, name, old = entries[index]
                facts[name] = _parse(name, old)
                index += 1
            rows.append({"task_id": task_id, "until": at, **facts})
        if len(rows) >= 5000:
            op.bulk_insert(history, rows)
            rows = []
    if rows:
        op.bulk_insert(history, rows)


def downgrade():
    op.drop_index('ix_task_facts_history_until', table_name='task_facts_history')
    op.drop_table('task_facts_history')
