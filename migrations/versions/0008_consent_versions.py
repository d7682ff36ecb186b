"""Consent with the privacy notice's version, and the separate consent of people in
China to the transfer of their data to Italy (PIPL)

Accounts made before this change have no version: they are asked once, at their next
page, to agree to the current notice (and, in China, to the transfer).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('privacy_version', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('transfer_consent_at', app.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('transfer_version', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('transfer_version')
        batch_op.drop_column('transfer_consent_at')
        batch_op.drop_column('privacy_version')
