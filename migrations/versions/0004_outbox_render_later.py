"""outbox_message.render_context: emails queued inside a write, rendered after its commit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 04:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_context', sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('render_context')
