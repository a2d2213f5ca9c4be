"""notification recommendation link: a notification about a kiến nghị links to its page

`notifications.recommendation_id` (issue 18). A plain ADD COLUMN on both databases (on
SQLite with its REFERENCES clause inline): the table is not rebuilt.

Revision ID: d3b9f1a7c524
Revises: c7a1e3f5b820
Create Date: 2026-11-30 14:10:00

"""
import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd3b9f1a7c524'
down_revision = 'c7a1e3f5b820'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE notifications ADD COLUMN recommendation_id INTEGER "
                   "CONSTRAINT fk_notifications_recommendation_id_recommendations "
                   "REFERENCES recommendations (id)")
    else:
        op.add_column('notifications',
                      sa.Column('recommendation_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_notifications_recommendation_id_recommendations'),
                              'notifications', 'recommendations', ['recommendation_id'],
                              ['id'])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column with a foreign key only by rebuilding the table.
        with warnings.catch_warnings(), op.batch_alter_table('notifications') as batch_op:
            warnings.filterwarnings("ignore", "Skipped unsupported reflection")
            batch_op.drop_column('recommendation_id')
    else:
        op.drop_constraint(op.f('fk_notifications_recommendation_id_recommendations'),
                           'notifications', type_='foreignkey')
        op.drop_column('notifications', 'recommendation_id')
