"""Impact: reporting fields on user (city, gender, sector, job role), funding statement and
logo on programme, train-the-trainer courses, surveys (survey, question, response, answer)
and impact_report (PDF reports built in the background)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 11:00:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('impact_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('filters_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
    sa.Column('path', sa.String(length=255), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ready_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_impact_report_requested_by_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_impact_report'))
    )
    with op.batch_alter_table('impact_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_impact_report_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_impact_report_status'), ['status'], unique=False)
        batch_op.create_index('uq_impact_report_waiting', ['requested_by_id', 'language', 'filters_key'], unique=True,
                              sqlite_where=sa.text("status IN ('queued', 'building')"),
                              postgresql_where=sa.text("status IN ('queued', 'building')"))

    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closes_at', app.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('invited_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_survey_course_id_course'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey')),
    sa.UniqueConstraint('course_id', name=op.f('uq_survey_course_id'))
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invited_at'), ['invited_at'], unique=False)

    op.create_table('survey_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.Enum('likert', 'scale', 'single', 'multiple', 'text', name='question_kind', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('in_person_only', sa.Boolean(), nullable=False),
    sa.Column('instructor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['instructor_id'], ['user.id'], name=op.f('fk_survey_question_instructor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_question_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question')),
    sa.UniqueConstraint('survey_id', 'key', 'instructor_id', name=op.f('uq_survey_question_survey_id_key_instructor_id'))
    )
    with op.batch_alter_table('survey_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_question_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('submitted_at', app.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_survey_response_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('survey_id', 'enrolment_id', name=op.f('uq_survey_response_survey_id_enrolment_id'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_response_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'], name=op.f('fk_survey_answer_question_id_survey_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'], name=op.f('fk_survey_answer_response_id_survey_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
    sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_survey_answer_response_id_question_id'))
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answer_question_id'), ['question_id'], unique=False)

    # Plain ADD COLUMN, never batch mode: on SQLite a batch "move and copy" drops and
    # recreates the table with foreign keys on, and ON DELETE CASCADE would empty the
    # tables that point at course and user (sessions, enrolments…).
    op.add_column('course', sa.Column('train_the_trainer', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('programme', sa.Column('funding_statement', sa.Text(), server_default='', nullable=False))
    op.add_column('programme', sa.Column('funding_logo', sa.LargeBinary(), nullable=True))
    op.add_column('user', sa.Column('city', sa.String(length=100), nullable=True))
    op.add_column('user', sa.Column('job_role', sa.String(length=120), nullable=True))
    op.add_column('user', sa.Column('reporting_asked_at', app.core.types.UTCDateTime(timezone=True), nullable=True))
    for name, length, values in (('gender', 15, GENDERS), ('sector', 22, SECTORS)):
        allowed = ", ".join(f"'{v}'" for v in values)
        if op.get_context().dialect.name == 'sqlite':  # a column CHECK: SQLite adds it with the column
            op.execute(f'ALTER TABLE "user" ADD COLUMN {name} VARCHAR({length}) '
                       f'CONSTRAINT ck_user_{name} CHECK ({name} IN ({allowed}))')
        else:
            op.add_column('user', sa.Column(name, sa.String(length=length), nullable=True))
            op.create_check_constraint(op.f(f'ck_user_{name}'), 'user', f'{name} IN ({allowed})')


GENDERS = ('woman', 'man', 'non_binary', 'undisclosed')
SECTORS = ('energy', 'manufacturing', 'construction', 'transport', 'agriculture_food', 'water_waste', 'environment',
           'finance', 'ict', 'public_sector', 'education_research', 'civil_society', 'other')


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): no table is recreated, nothing cascades.
    for table, column in (('user', 'reporting_asked_at'), ('user', 'job_role'), ('user', 'sector'),
                          ('user', 'gender'), ('user', 'city'), ('programme', 'funding_logo'),
                          ('programme', 'funding_statement'), ('course', 'train_the_trainer')):
        if column in ('gender', 'sector') and op.get_context().dialect.name != 'sqlite':
            op.drop_constraint(op.f(f'ck_user_{column}'), 'user', type_='check')
        op.drop_column(table, column)

    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answer_question_id'))

    op.drop_table('survey_answer')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_response_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_response_enrolment_id'))

    op.drop_table('survey_response')
    with op.batch_alter_table('survey_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_question_survey_id'))

    op.drop_table('survey_question')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invited_at'))

    op.drop_table('survey')
    with op.batch_alter_table('impact_report', schema=None) as batch_op:
        batch_op.drop_index('uq_impact_report_waiting')
        batch_op.drop_index(batch_op.f('ix_impact_report_status'))
        batch_op.drop_index(batch_op.f('ix_impact_report_requested_by_id'))

    op.drop_table('impact_report')
