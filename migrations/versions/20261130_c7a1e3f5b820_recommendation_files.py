"""recommendation files: a kiến nghị's files and its answer's, kept as evidence files are

`evidence.recommendation_id`: the kiến nghị a file belongs to (purpose "recommendation" or
"answer"); `evidence.task_id` becomes optional, and a check keeps exactly one owner. One
upload path (tracker.evidence) for both (issue 18).

Revision ID: c7a1e3f5b820
Revises: b4e8d2f6a913
Create Date: 2026-11-30 14:00:00

"""
import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7a1e3f5b820'
down_revision = 'b4e8d2f6a913'
branch_labels = None
depends_on = None


def upgrade():
    # On SQLite the table is rebuilt (a column made optional, a check added); no other
    # table refers to it. (Reflecting the tables it refers to warns of the tasks'
    # expression index, which the rebuild does not touch.)
    with warnings.catch_warnings(), op.batch_alter_table('evidence') as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.alter_column('task_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('recommendation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_evidence_recommendation_id_recommendations'), 'recommendations',
            ['recommendation_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_evidence_recommendation_id'),
                              ['recommendation_id'], unique=False)
        batch_op.create_check_constraint(
            'ck_evidence_one_owner', '(task_id IS NULL) <> (recommendation_id IS NULL)')


def downgrade():
    op.execute("DELETE FROM evidence WHERE task_id IS NULL")
    with warnings.catch_warnings(), op.batch_alter_table('evidence') as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        batch_op.drop_constraint('ck_evidence_one_owner', type_='check')
        batch_op.drop_index(batch_op.f('ix_evidence_recommendation_id'))
        batch_op.drop_constraint(batch_op.f('fk_evidence_recommendation_id_recommendations'),
                                 type_='foreignkey')
        batch_op.drop_column('recommendation_id')
        batch_op.alter_column('task_id', existing_type=sa.Integer(), nullable=False)
