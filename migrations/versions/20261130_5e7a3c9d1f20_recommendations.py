"""recommendations: vướng mắc, kiến nghị raised by units, routed, answered (issue 18)

`recommendations`: one row per kiến nghị; `audit_entries.recommendation_id`: its trail, in
the same append-only table as the tasks' (the column is added, no row is changed).

Revision ID: 5e7a3c9d1f20
Revises: e5b2c7d9a1f4
Create Date: 2026-11-30 12:30:00

"""
import warnings

import sqlalchemy as sa
from alembic import op

from tracker.audit import append_only
from tracker.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '5e7a3c9d1f20'
down_revision = 'e5b2c7d9a1f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recommendations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('field', sa.String(length=200), nullable=False),
        sa.Column('legal_basis', sa.Text(), nullable=False),
        sa.Column('level_asked', sa.String(length=16), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('raising_unit_id', sa.Integer(), nullable=False),
        sa.Column('raised_by_id', sa.Integer(), nullable=False),
        sa.Column('raised_at', UTCDateTime(), nullable=False),
        sa.Column('routing_unit_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('responsible_unit_id', sa.Integer(), nullable=True),
        sa.Column('response_days', sa.Integer(), nullable=True),
        sa.Column('response_due', sa.Date(), nullable=True),
        sa.Column('response_due_end', UTCDateTime(), nullable=True),
        sa.Column('routed_at', UTCDateTime(), nullable=True),
        sa.Column('routed_by_id', sa.Integer(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answer_documents', sa.String(length=500), nullable=True),
        sa.Column('answered_at', UTCDateTime(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('asked_again', sa.Integer(), nullable=False),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('overdue_noticed_at', UTCDateTime(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'],
                                name=op.f('fk_recommendations_answered_by_id_users')),
        sa.ForeignKeyConstraint(['merged_into_id'], ['recommendations.id'],
                                name=op.f('fk_recommendations_merged_into_id_recommendations')),
        sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'],
                                name=op.f('fk_recommendations_raised_by_id_users')),
        sa.ForeignKeyConstraint(['raising_unit_id'], ['units.id'],
                                name=op.f('fk_recommendations_raising_unit_id_units')),
        sa.ForeignKeyConstraint(['responsible_unit_id'], ['units.id'],
                                name=op.f('fk_recommendations_responsible_unit_id_units')),
        sa.ForeignKeyConstraint(['routed_by_id'], ['users.id'],
                                name=op.f('fk_recommendations_routed_by_id_users')),
        sa.ForeignKeyConstraint(['routing_unit_id'], ['units.id'],
                                name=op.f('fk_recommendations_routing_unit_id_units')),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'],
                                name=op.f('fk_recommendations_task_id_tasks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations')),
        sa.UniqueConstraint('code', name=op.f('uq_recommendations_code')),
    )
    op.create_index(op.f('ix_recommendations_task_id'), 'recommendations', ['task_id'])
    op.create_index(op.f('ix_recommendations_raising_unit_id'), 'recommendations',
                    ['raising_unit_id'])
    op.create_index(op.f('ix_recommendations_responsible_unit_id'), 'recommendations',
                    ['responsible_unit_id'])
    op.create_index(op.f('ix_recommendations_merged_into_id'), 'recommendations',
                    ['merged_into_id'])
    op.create_index('ix_recommendations_status_due', 'recommendations',
                    ['status', 'response_due'])
    # A plain ADD COLUMN on both databases (on SQLite with its REFERENCES clause inline, a
    # column added with a NULL default may have one): the table is not rebuilt, so the audit
    # trail's triggers and rows stay as they are.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE audit_entries ADD COLUMN recommendation_id INTEGER "
                   "CONSTRAINT fk_audit_entries_recommendation_id_recommendations "
                   "REFERENCES recommendations (id)")
    else:
        op.add_column('audit_entries',
                      sa.Column('recommendation_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_audit_entries_recommendation_id_recommendations'),
                              'audit_entries', 'recommendations', ['recommendation_id'], ['id'])
    op.create_index('ix_audit_entries_recommendation_id_at', 'audit_entries',
                    ['recommendation_id', 'at'])


def downgrade():
    op.drop_index('ix_audit_entries_recommendation_id_at', table_name='audit_entries')
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite drops a column with a foreign key only by rebuilding the table: the rebuilt
        # table gets its append-only triggers back. (Reflecting the tables it refers to
        # warns of the tasks' expression index, which the rebuild does not touch.)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection")
            append_only.drop(bind, tables=("audit_entries",))
            with op.batch_alter_table('audit_entries') as batch_op:
                batch_op.drop_column('recommendation_id')
            append_only.create(bind, tables=("audit_entries",))
    else:
        op.drop_constraint(op.f('fk_audit_entries_recommendation_id_recommendations'),
                           'audit_entries', type_='foreignkey')
        op.drop_column('audit_entries', 'recommendation_id')
    op.drop_index('ix_recommendations_status_due', table_name='recommendations')
    op.drop_index(op.f('ix_recommendations_merged_into_id'), table_name='recommendations')
    op.drop_index(op.f('ix_recommendations_responsible_unit_id'),
                  table_name='recommendations')
    op.drop_index(op.f('ix_recommendations_raising_unit_id'), table_name='recommendations')
    op.drop_index(op.f('ix_recommendations_task_id'), table_name='recommendations')
    op.drop_table('recommendations')
