"""Indexes that keep pages flat as years of history pile up

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:10:00

"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_course_ends_on_timezone', 'course', ['ends_on', 'timezone'])
    op.create_index('ix_session_instructor_user_id', 'session_instructor', ['user_id'])
    op.create_index('ix_job_run_job_id_id', 'job_run', ['job_id', 'id'])
    op.create_index('ix_job_run_outcome_started_at', 'job_run', ['outcome', 'started_at'])
    op.drop_index('ix_course_status', table_name='course')
    op.create_index('ix_course_status_ends_on', 'course', ['status', 'ends_on'])
    op.create_index('ix_enrolment_course_id_status', 'enrolment', ['course_id', 'status'])


def downgrade():
    op.drop_index('ix_enrolment_course_id_status', table_name='enrolment')
    op.drop_index('ix_course_status_ends_on', table_name='course')
    op.create_index('ix_course_status', 'course', ['status'])
    op.drop_index('ix_job_run_outcome_started_at', table_name='job_run')
    op.drop_index('ix_job_run_job_id_id', table_name='job_run')
    op.drop_index('ix_session_instructor_user_id', table_name='session_instructor')
    op.drop_index('ix_course_ends_on_timezone', table_name='course')
