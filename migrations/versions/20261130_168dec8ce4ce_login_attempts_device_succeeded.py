"""login attempts: recorded before the password check (succeeded), per trusted device

Revision ID: 168dec8ce4ce
Revises: 2f32d1c89fc8
Create Date: 2026-11-30 01:53:40.501017

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '168dec8ce4ce'
down_revision = '2f32d1c89fc8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('succeeded', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_column('succeeded')
        batch_op.drop_column('device')
