"""Imports every model so that Alembic and `db.create_all()` see the whole schema."""
from app.accounts.models import LoginSession, PasswordResetToken, RecoveryCode, User  # noqa: F401
from app.audit.models import AuditEvent  # noqa: F401
from app.catalogue.models import Course, Programme  # noqa: F401
from app.certificates.models import Certificate, CertificateBatch, SerialCounter, SignatureImage  # noqa: F401
from app.enrolment.models import Enrolment  # noqa: F401
from app.feedback.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse  # noqa: F401,E402
from app.impact.models import ImpactReport  # noqa: F401,E402
from app.jobs.models import JobRequest, JobRun  # noqa: F401
from app.notifications.models import OutboxMessage  # noqa: F401
from app.privacy.models import DataExport  # noqa: F401
from app.schedule.models import CourseSession, SessionDecline, SessionSignup, Venue, session_instructor  # noqa: F401
from app.teaching.models import Attendance, Cohort, CourseStaff  # noqa: F401
