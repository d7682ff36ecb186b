"""user.email_verified_at: addresses are confirmed before an account may enrol

Accounts made before this change keep working: they count as verified from their
creation (they were made when nobody asked), so nobody is locked out by the upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:30:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', app.core.types.UTCDateTime(timezone=True), nullable=True))
    op.execute('UPDATE "user" SET email_verified_at = created_at')


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
