"""unit report settings and signing keys

Each unit's letterhead for the daily report as an administrative document (Decree
30/2020/NĐ-CP) and the certificate it signs the PDF with (the key sealed by SECRET_KEY).

Revision ID: 5e1a7c3b9d20
Revises: 3c1f0a7d52e4
Create Date: 2026-11-30 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tracker.types


# revision identifiers, used by Alembic.
revision = '5e1a7c3b9d20'
down_revision = "3c1f0a7d52e4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'unit_report_settings',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('parent_body', sa.String(length=200), nullable=False),
        sa.Column('issuing_body', sa.String(length=200), nullable=False),
        sa.Column('symbol', sa.String(length=40), nullable=False),
        sa.Column('place', sa.String(length=100), nullable=False),
        sa.Column('signer_authority', sa.String(length=100), nullable=False),
        sa.Column('signer_title', sa.String(length=100), nullable=False),
        sa.Column('signer_name', sa.String(length=100), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('updated_at', tracker.types.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE',
                                name=op.f('fk_unit_report_settings_unit_id_units')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_unit_report_settings_updated_by_id_users')),
        sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_report_settings')),
    )
    op.create_table(
        'unit_signing_keys',
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('certificate_pem', sa.Text(), nullable=False),
        sa.Column('key_sealed', sa.Text(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('not_after', tracker.types.UTCDateTime(), nullable=False),
        sa.Column('uploaded_at', tracker.types.UTCDateTime(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE',
                                name=op.f('fk_unit_signing_keys_unit_id_units')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_unit_signing_keys_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_signing_keys')),
    )


def downgrade():
    op.drop_table('unit_signing_keys')
    op.drop_table('unit_report_settings')
