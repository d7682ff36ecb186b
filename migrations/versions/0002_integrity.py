"""integrity: batch heartbeat and one open batch per course, auto-issue marker,
check-in index, cohort-bound staff removed (never widened) with their cohort

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 23:30:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('queued', 'running')")


def upgrade():
    with op.batch_alter_table('certificate_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', app.core.types.UTCDateTime(timezone=True), nullable=True))
    # Older duplicates (from before the index) are closed so that it can be built.
    op.execute("UPDATE certificate_batch SET status = 'failed', error = 'superseded by another open batch' "
               "WHERE status IN ('queued', 'running') AND id NOT IN ("
               "SELECT max(id) FROM certificate_batch WHERE status IN ('queued', 'running') GROUP BY course_id)")
    op.create_index('uq_certificate_batch_open_per_course', 'certificate_batch', ['course_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)

    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_issued_at', app.core.types.UTCDateTime(timezone=True), nullable=True))

    op.execute("UPDATE job_request SET taken_at = requested_at WHERE taken_at IS NULL AND id NOT IN ("
               "SELECT min(id) FROM job_request WHERE taken_at IS NULL GROUP BY job_id)")
    op.create_index('uq_job_request_waiting_per_job', 'job_request', ['job_id'], unique=True,
                    sqlite_where=sa.text("taken_at IS NULL"), postgresql_where=sa.text("taken_at IS NULL"))

    op.create_index('ix_course_session_course_id_starts_at', 'course_session', ['course_id', 'starts_at'], unique=False)
    op.create_index('uq_cohort_course_id_lower_name', 'cohort', ['course_id', sa.text('lower(name)')], unique=True)

    with op.batch_alter_table('course_staff', schema=None) as batch_op:
        batch_op.drop_constraint('fk_course_staff_cohort_id_cohort', type_='foreignkey')
        batch_op.create_foreign_key('fk_course_staff_cohort_id_cohort', 'cohort', ['cohort_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('course_staff', schema=None) as batch_op:
        batch_op.drop_constraint('fk_course_staff_cohort_id_cohort', type_='foreignkey')
        batch_op.create_foreign_key('fk_course_staff_cohort_id_cohort', 'cohort', ['cohort_id'], ['id'], ondelete='SET NULL')
    op.drop_index('ix_course_session_course_id_starts_at', table_name='course_session')
    op.drop_index('uq_cohort_course_id_lower_name', table_name='cohort')
    op.drop_index('uq_job_request_waiting_per_job', table_name='job_request',
                  sqlite_where=sa.text("taken_at IS NULL"), postgresql_where=sa.text("taken_at IS NULL"))
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('auto_issued_at')
    op.drop_index('uq_certificate_batch_open_per_course', table_name='certificate_batch',
                  sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table('certificate_batch', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
