"""unit day stats: tasks not started, communes with no task

What each cutoff stores so that no figure misleads (docs/status-rules.md §7): the tasks
not started and still green (outside the green rate) and the communes with no counted task
(outside the share of green communes, never green).

Days already stored are corrected where they can be from what they hold: a unit with no
task has no colour ("none"), and its ancestors count its communes apart instead of green.
Their tasks not started are not known afterwards (0 until the day is re-run with
`tracker cutoff run --date … --force`).

Revision ID: b6b0825df24b
Revises: 9f26195dcdb9
Create Date: 2026-11-30 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6b0825df24b'
down_revision = '9f26195dcdb9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit_day_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_started', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('communes_none', sa.Integer(), server_default='0',
                                      nullable=False))
    op.execute("UPDATE unit_day_stats SET colour = 'none' WHERE total = 0")
    op.execute(
        "UPDATE unit_day_stats SET communes_none = ("
        " SELECT count(*) FROM unit_day_stats c"
        " JOIN units cu ON cu.id = c.unit_id"
        " JOIN units pu ON pu.id = unit_day_stats.unit_id"
        " WHERE c.day = unit_day_stats.day AND c.total = 0 AND cu.kind = 'commune'"
        " AND cu.path LIKE pu.path || '%') WHERE communes > 0")
    op.execute("UPDATE unit_day_stats SET communes_green = communes_green - communes_none"
               " WHERE communes_none > 0")


def downgrade():
    op.execute("UPDATE unit_day_stats SET communes_green = communes_green + communes_none"
               " WHERE communes_none > 0")
    op.execute("UPDATE unit_day_stats SET colour = 'green' WHERE colour = 'none'")
    with op.batch_alter_table('unit_day_stats', schema=None) as batch_op:
        batch_op.drop_column('communes_none')
        batch_op.drop_column('not_started')
