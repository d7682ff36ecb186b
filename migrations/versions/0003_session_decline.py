"""session_decline: a participant's "not coming" to a session with its own places

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 03:30:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('session_decline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_session_decline_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['course_session.id'], name=op.f('fk_session_decline_session_id_course_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_decline')),
    sa.UniqueConstraint('session_id', 'enrolment_id', name=op.f('uq_session_decline_session_id_enrolment_id'))
    )
    with op.batch_alter_table('session_decline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_decline_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_decline_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('session_decline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_decline_session_id'))
        batch_op.drop_index(batch_op.f('ix_session_decline_enrolment_id'))
    op.drop_table('session_decline')
