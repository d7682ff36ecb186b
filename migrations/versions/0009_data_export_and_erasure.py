"""Privacy rights: data_export (a person's copy of their data, 24 h) and
certificate.withdrawn_at (the holder erased their account)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_export',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('path', sa.String(length=255), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('requested_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ready_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_data_export_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_export')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_data_export_token_hash')),
    )
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_export_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_export_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_data_export_waiting_per_user', ['user_id'], unique=True,
                              sqlite_where=sa.text("status IN ('queued', 'building')"),
                              postgresql_where=sa.text("status IN ('queued', 'building')"))
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', app.core.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.drop_index('uq_data_export_waiting_per_user')
        batch_op.drop_index(batch_op.f('ix_data_export_user_id'))
        batch_op.drop_index(batch_op.f('ix_data_export_expires_at'))
    op.drop_table('data_export')
