"""Erasure (GDPR art. 17, PIPL art. 47): the person becomes anonymous, the counts stay.

Names, email, organisation, free text they wrote or that was written about them, their
network addresses and login sessions are removed or replaced; their enrolments and
attendance stay, without anything that names them, so that reports still count them;
their certificates answer "withdrawn at the holder's request" on the verify page, with
no name, and their PDFs are no longer served. Country and the kind of organisation (no
more than categories) stay for the reports. One exception, kept on purpose: the name of
a staff member as the issuer printed on other people's certificates, which must stay
verifiable for their holders."""
from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts.models import (
    ERASED_DOMAIN,
    ERASED_NAME,
    LoginSession,
    PasswordResetToken,
    RecoveryCode,
    Role,
    User,
    erased_name,
)
from app.accounts.passwords import hash_password
from app.audit.models import AuditEvent
from app.audit.services import record
from app.catalogue.models import Course
from app.catalogue.seats import lock_course
from app.catalogue.services import not_ended
from app.certificates.models import Certificate, CertificateStatus
from app.core.cas import compare_and_set
from app.core.errors import DomainError
from app.core.types import utcnow
from app.enrolment.models import ACTIVE, Enrolment
from app.enrolment.services import cancel
from app.extensions import db
from app.feedback.models import SurveyQuestion
from app.feedback.template import INSTRUCTOR_TEXT
from app.notifications.models import OutboxMessage, OutboxStatus
from app.privacy.models import DataExport
from app.teaching.models import Attendance, CourseStaff, StaffRole

WITHDRAWN = "withdrawn at the holder's request"


class ErasureRefused(DomainError):
    status_code = 409


def only_lead_of(user: User) -> list[Course]:
    """Running or coming courses this person leads alone: they may not vanish from them."""
    today = utcnow().date()
    led = sa.select(CourseStaff.course_id).where(CourseStaff.user_id == user.id, CourseStaff.role == StaffRole.LEAD)
    other_leads = (sa.select(sa.func.count(CourseStaff.id)).join(User, User.id == CourseStaff.user_id).where(
        CourseStaff.course_id == Course.id, CourseStaff.role == StaffRole.LEAD, CourseStaff.user_id != user.id,
        ~User.is_erased_sql())  # an erased lead leads nothing
        .correlate(Course).scalar_subquery())
    return list(db.session.scalars(sa.select(Course).where(Course.id.in_(led), Course.ends_on >= today,
                                                           other_leads == 0).order_by(Course.starts_on)))


def _unname_survey_questions(user: User) -> None:
    """"How would you rate Huang Xiu as an instructor?" names the person in every language:
    the question (and its answers) stays, about the erased person."""
    texts = {}
    for lang, template in INSTRUCTOR_TEXT.items():
        with force_locale(lang):
            texts[lang] = template.format(name=erased_name())
    for question in db.session.scalars(sa.select(SurveyQuestion).where(SurveyQuestion.instructor_id == user.id)):
        question.text = dict(texts)


def erase(user: User, actor: User) -> None:
    """Anonymise `user` (the caller has checked who may, and the password). The caller commits."""
    # The courses they lead are locked first (in id order), as removing a lead locks its
    # course: erasing one lead while the other is removed cannot leave a course without one.
    for course_id in db.session.scalars(sa.select(CourseStaff.course_id).where(
            CourseStaff.user_id == user.id, CourseStaff.role == StaffRole.LEAD).order_by(CourseStaff.course_id)):
        lock_course(course_id)
    alone = only_lead_of(user)
    if alone:
        raise ErasureRefused(_("%(name)s is the only lead instructor of %(courses)s: another lead must be added first.",
                               name=user.display_name, courses=", ".join(c.title for c in alone)))
    if user.is_admin and not db.session.scalar(sa.select(sa.func.count(User.id)).where(
            User.role == Role.ADMIN, User.is_active_account.is_(True), User.id != user.id)):
        raise ErasureRefused(_("Ponte needs at least one active administrator."))
    traces = [t for t in (user.email, user.full_name, user.native_name, user.organisation) if t]
    # The first write claims the erasure (compare-and-set on the address): a second click,
    # or an admin at the same moment, finds it done.
    if user.email.endswith(ERASED_DOMAIN) or not compare_and_set(
            user, User.email == user.email, email=f"erased-{user.id}{ERASED_DOMAIN}"):
        raise ErasureRefused(_("This account has already been erased."))
    now = utcnow()
    # An erased account takes part in nothing more: its places in activities not yet
    # ended go back (the first person waiting gets one; a session seat is released).
    # Ended activities keep their records, anonymised below.
    for enrolment in db.session.scalars(sa.select(Enrolment).join(Course, Course.id == Enrolment.course_id).where(
            Enrolment.user_id == user.id, Enrolment.status.in_(ACTIVE), not_ended(now)).order_by(Enrolment.id)):
        cancel(enrolment, actor, _("The participant's account was erased."))
    enrolment_ids = list(db.session.scalars(sa.select(Enrolment.id).where(Enrolment.user_id == user.id)))

    db.session.execute(sa.update(Enrolment).where(Enrolment.user_id == user.id).values(
        motivation="", answers={}, decision_reason=None, completion_note=None))
    db.session.execute(sa.update(Attendance).where(Attendance.enrolment_id.in_(enrolment_ids)).values(note=""))
    for certificate in db.session.scalars(sa.select(Certificate).where(Certificate.enrolment_id.in_(enrolment_ids))):
        snapshot = dict(certificate.snapshot or {})
        snapshot.update(holder_name=None, holder_native_name=None)
        certificate.snapshot = snapshot
        if certificate.status is CertificateStatus.VALID:
            certificate.status, certificate.revoked_at = CertificateStatus.REVOKED, now
        certificate.revoked_reason, certificate.withdrawn_at = WITHDRAWN, now
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.user_id == user.id).values(
        recipient=user.email, recipient_name="", subject="", body_text="", body_html="",
        render_context=None))
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.user_id == user.id,
                                                      OutboxMessage.status == OutboxStatus.PENDING)
                       .values(status=OutboxStatus.FAILED, last_error="not sent: the account was erased"))
    _unname_survey_questions(user)
    for model in (LoginSession, PasswordResetToken, RecoveryCode, DataExport):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    _scrub_audit(user.id, traces)

    user.full_name, user.native_name, user.organisation = ERASED_NAME, None, None
    user.city = user.job_role = None  # free text that could point to them; gender and sector stay counted
    _scrub_survey_text(enrolment_ids)
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it: no login
    user.is_active_account, user.session_version = False, user.session_version + 1
    user.calendar_token = secrets.token_urlsafe(24)
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.last_login_at = None
    db.session.flush()
    event = record("user.erased", user, actor=actor, by_themselves=actor.id == user.id)
    event.ip = None  # the erasure promises no network address of theirs is kept



def _scrub_survey_text(enrolment_ids: list[int]) -> None:
    """Their survey answers stay counted (ratings, choices); what they wrote goes."""
    from app.feedback.models import QuestionKind, SurveyAnswer, SurveyQuestion, SurveyResponse

    db.session.execute(sa.update(SurveyAnswer).where(
        SurveyAnswer.response_id.in_(sa.select(SurveyResponse.id).where(SurveyResponse.enrolment_id.in_(enrolment_ids))),
        SurveyAnswer.question_id.in_(sa.select(SurveyQuestion.id).where(SurveyQuestion.kind == QuestionKind.TEXT)))
        .values(text=None).execution_options(synchronize_session=False))


def _scrub_audit(user_id: int, traces: list[str]) -> None:
    """Their network addresses go; any detail that spells their name or address is cut."""
    db.session.execute(sa.update(AuditEvent).where(sa.or_(
        AuditEvent.actor_id == user_id, sa.and_(AuditEvent.object_type == "user", AuditEvent.object_id == user_id)))
        .values(ip=None))
    if not traces:
        return
    # JSON may store "王伟" as "\\u738b\\u4f1f": look for both spellings
    spellings = {form for t in traces for form in (t, json.dumps(t)[1:-1])}
    mentions = sa.or_(*(sa.cast(AuditEvent.details, sa.Text).contains(form, autoescape=True) for form in spellings))
    for event in db.session.scalars(sa.select(AuditEvent).where(mentions)):
        event.details = {key: _without(value, traces) for key, value in (event.details or {}).items()}


def _without(value, traces: list[str]):  # noqa: ANN001, ANN202
    if isinstance(value, str):
        for trace in traces:
            value = value.replace(trace, "[erased]")
        return value
    if isinstance(value, list):
        return [_without(v, traces) for v in value]
    if isinstance(value, dict):
        return {k: _without(v, traces) for k, v in value.items()}
    return value
