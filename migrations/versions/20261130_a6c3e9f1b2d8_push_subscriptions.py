"""push subscriptions, and a push choice per group of notifications

`push_subscriptions`: one row per browser that subscribed to Web Push (its push service's
endpoint and keys). `notification_preferences.push`: whether the group is pushed too (on
unless the user turns it off).

Revision ID: a6c3e9f1b2d8
Revises: 5e7a3c9d1f20
Create Date: 2026-11-30 12:30:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "a6c3e9f1b2d8"
down_revision = "5e7a3c9d1f20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_push_subscriptions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index("ix_push_subscriptions_user_id", "push_subscriptions", ["user_id"])
    with op.batch_alter_table("notification_preferences") as batch:
        batch.add_column(sa.Column("push", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))


def downgrade():
    with op.batch_alter_table("notification_preferences") as batch:
        batch.drop_column("push")
    op.drop_index("ix_push_subscriptions_user_id", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
