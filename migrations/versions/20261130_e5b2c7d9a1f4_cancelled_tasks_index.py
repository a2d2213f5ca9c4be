"""cancelled tasks index: the few cancelled tasks found without a scan of every task

The comparison of two days leaves out the tasks cancelled by the later cutoff
(tracker.reports.compare); at national size a scan of the tasks for them cost ~0.4 s.

Revision ID: e5b2c7d9a1f4
Revises: a3c9e5f1b7d2
Create Date: 2026-11-30 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5b2c7d9a1f4'
down_revision = 'a3c9e5f1b7d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tasks_cancelled_at', 'tasks', ['cancelled_at', 'id'], unique=False,
                    postgresql_where=sa.text('cancelled_at IS NOT NULL'),
                    sqlite_where=sa.text('cancelled_at IS NOT NULL'))


def downgrade():
    op.drop_index('ix_tasks_cancelled_at', table_name='tasks')
