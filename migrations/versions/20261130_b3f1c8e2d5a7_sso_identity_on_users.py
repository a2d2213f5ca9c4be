"""the single sign-on identity bound to a user

`users.sso_issuer`, `users.sso_subject`: the provider's `iss` and `sub` of the account's
first single sign-on login (a unique index: one identity names one account);
`users.sso_link_next`: an admin allowed the next login to bind an admin's account.

Revision ID: b3f1c8e2d5a7
Revises: f3a1c7e9b2d5
Create Date: 2026-11-30 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b3f1c8e2d5a7"
down_revision = 'f3a1c7e9b2d5'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch would copy `users`, which other tables'
    # foreign keys refuse to drop on SQLite. A unique index, not a constraint, for the
    # same reason (SQLite cannot add a constraint to a table in place).
    op.add_column("users", sa.Column("sso_issuer", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("sso_subject", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("sso_link_next", sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    op.create_index("ix_users_sso_identity", "users", ["sso_issuer", "sso_subject"],
                    unique=True)


def downgrade():
    # In place on both databases (SQLite 3.35+), as the upgrade.
    op.drop_index("ix_users_sso_identity", table_name="users")
    op.execute("ALTER TABLE users DROP COLUMN sso_link_next")
    op.execute("ALTER TABLE users DROP COLUMN sso_subject")
    op.execute("ALTER TABLE users DROP COLUMN sso_issuer")
