"""Covering indexes for the catalogue's filter and the admin home at scale; each
address's emails in order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:40:00

"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_course_status_city_is_online', 'course', ['status', 'city', 'is_online'])
    op.create_index('ix_enrolment_status_course_id_created_at', 'enrolment', ['status', 'course_id', 'created_at'])
    op.drop_index('ix_enrolment_status', table_name='enrolment')
    op.create_index('ix_outbox_message_recipient_id', 'outbox_message', ['recipient', 'id'])


def downgrade():
    op.drop_index('ix_outbox_message_recipient_id', table_name='outbox_message')
    op.create_index('ix_enrolment_status', 'enrolment', ['status'])
    op.drop_index('ix_enrolment_status_course_id_created_at', table_name='enrolment')
    op.drop_index('ix_course_status_city_is_online', table_name='course')
