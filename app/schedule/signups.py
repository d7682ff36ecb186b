"""Sessions with their own places (the site-visit bus): sign up, decline, give a place
back, race-safe through catalogue.seats; places go back when an enrolment loses its own."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.seats import release_place, take_place
from app.core.cas import changed_rows
from app.core.errors import Conflict, NotFound
from app.core.types import utcnow
from app.enrolment import signals as enrolment_signals
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.schedule.models import (
    CourseSession,
    SessionDecline,
    SessionSignup,
    SessionStatus,
)
from app.schedule.services import ScheduleError
from app.schedule.timetable import visible_to_enrolment_clause

# --- sessions with their own places -------------------------------------------------

def _accepted_enrolment(session: CourseSession, user: User) -> Enrolment:
    enrolment = db.session.scalar(sa.select(Enrolment).where(
        Enrolment.course_id == session.course_id, Enrolment.user_id == user.id))
    if enrolment is None or enrolment.status is not EnrolmentStatus.ACCEPTED:
        raise NotFound(_("Only accepted participants can sign up for this session."))
    if session.cohort_id is not None and enrolment.cohort_id != session.cohort_id:
        raise NotFound(_("This session is for another cohort."))
    return enrolment


def sign_up(session: CourseSession, user: User) -> SessionSignup:
    """Take one of the session's own places (a seat on the site-visit bus), race-safe."""
    if session.capacity is None:
        raise ScheduleError(_("This session needs no sign-up."))
    if session.status is SessionStatus.CANCELLED or session.starts_at <= utcnow():
        raise ScheduleError(_("Sign-up for this session is closed."))
    enrolment = _accepted_enrolment(session, user)
    already = db.session.scalar(sa.select(SessionSignup.id).where(
        SessionSignup.session_id == session.id, SessionSignup.enrolment_id == enrolment.id))
    if already:
        raise Conflict(_("You have already signed up for this session."))
    signup = SessionSignup(session_id=session.id, enrolment_id=enrolment.id)
    try:
        # One savepoint for the place and the row: a refusal leaves neither behind.
        with db.session.begin_nested():
            if not take_place(CourseSession, session.id):
                raise Conflict(_("This session is full."))
            db.session.add(signup)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("You have already signed up for this session.")) from None
    db.session.execute(sa.delete(SessionDecline).where(  # changed their mind
        SessionDecline.session_id == session.id, SessionDecline.enrolment_id == enrolment.id))
    record("session.signed_up", session, actor=user, enrolment=enrolment.id)
    return signup


def decline(session: CourseSession, user: User) -> None:
    """"I am not coming" to a session with its own places: no more reminders to sign up.
    A double click records it once (the unique row decides)."""
    if session.capacity is None:
        raise ScheduleError(_("This session needs no sign-up."))
    if session.status is SessionStatus.CANCELLED or session.starts_at <= utcnow():
        raise ScheduleError(_("Sign-up for this session is closed."))
    enrolment = _accepted_enrolment(session, user)
    if db.session.scalar(sa.select(SessionSignup.id).where(
            SessionSignup.session_id == session.id, SessionSignup.enrolment_id == enrolment.id)):
        raise Conflict(_("You have a place on this session: give it up instead."))
    if not _note_decline(session.id, enrolment.id):
        raise Conflict(_("You have already said you are not coming."))
    record("session.declined", session, actor=user, enrolment=enrolment.id)


def _note_decline(session_id: int, enrolment_id: int) -> bool:
    """Insert the "not coming" row; False if it was there already (the unique row decides)."""
    try:
        with db.session.begin_nested():
            db.session.add(SessionDecline(session_id=session_id, enrolment_id=enrolment_id))
    except sa.exc.IntegrityError:
        return False
    return True


def signups_awaited(user: User, course_id: int | None = None) -> list[CourseSession]:
    """Sessions with their own places (a site-visit bus) that the user, accepted in the
    course, has neither signed up for nor declined, still to come. One query."""
    if not getattr(user, "is_authenticated", False):
        return []
    answered = sa.or_(
        sa.exists().where(SessionSignup.session_id == CourseSession.id, SessionSignup.enrolment_id == Enrolment.id),
        sa.exists().where(SessionDecline.session_id == CourseSession.id, SessionDecline.enrolment_id == Enrolment.id),
    )
    stmt = (
        sa.select(CourseSession)
        .join(Enrolment, Enrolment.course_id == CourseSession.course_id)
        .where(Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.ACCEPTED, visible_to_enrolment_clause(),
               CourseSession.capacity.is_not(None), CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.starts_at > utcnow(), ~answered)
        .options(so.joinedload(CourseSession.course))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if course_id is not None:
        stmt = stmt.where(CourseSession.course_id == course_id)
    return list(db.session.scalars(stmt))


def cancel_signup(session: CourseSession, user: User) -> None:
    """Give one's place on the session back (the row's deletion decides: a double click
    gives back one place, once)."""
    enrolment = _accepted_enrolment(session, user)
    if session.starts_at <= utcnow():
        raise ScheduleError(_("This session has started; its places can no longer be given back."))
    if changed_rows(sa.delete(SessionSignup).where(
            SessionSignup.session_id == session.id, SessionSignup.enrolment_id == enrolment.id)) != 1:
        raise Conflict(_("You have no place on this session (any more)."))
    release_place(CourseSession, session.id)
    _note_decline(session.id, enrolment.id)  # they have decided: no more reminders
    record("session.signup_cancelled", session, actor=user, enrolment=enrolment.id)


@enrolment_signals.place_lost.connect
def release_session_places(enrolment: Enrolment) -> None:
    """An enrolment lost its place in the course: its places on sessions still to come
    go back too, so that the bus does not leave with an empty seat nobody can take."""
    session_ids = db.session.scalars(
        sa.select(SessionSignup.session_id).join(CourseSession, CourseSession.id == SessionSignup.session_id)
        .where(SessionSignup.enrolment_id == enrolment.id, CourseSession.starts_at > utcnow())).all()
    for session_id in session_ids:
        if changed_rows(sa.delete(SessionSignup).where(
                SessionSignup.session_id == session_id, SessionSignup.enrolment_id == enrolment.id)) == 1:
            release_place(CourseSession, session_id)
            record("session.signup_released", enrolment, session=session_id)


def my_signups(user: User, session_ids: list[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(db.session.scalars(
        sa.select(SessionSignup.session_id).join(Enrolment, Enrolment.id == SessionSignup.enrolment_id)
        .where(Enrolment.user_id == user.id, SessionSignup.session_id.in_(session_ids))))
