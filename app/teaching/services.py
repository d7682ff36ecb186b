"""Teaching rules: who is expected, attendance sheets, self check-in, progress and
completion (staff and cohorts are in `staffing`).
Nothing here commits: the caller owns the transaction."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.services import require_verified
from app.audit.services import record
from app.catalogue.models import Course
from app.core.cas import compare_and_set
from app.core.errors import Conflict, DomainError, NotFound
from app.core.labels import label
from app.core.timezones import local_date, skeleton
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.enrolment.services import all_or_nothing, changed_meanwhile
from app.extensions import db
from app.notifications.services import queue_email
from app.schedule.models import CourseSession, SessionStatus
from app.teaching.models import Attendance, AttendanceMethod, AttendanceStatus

S = EnrolmentStatus
CHECKIN_STEP = 60  # seconds a code lives
CHECKIN_GRACE_STEPS = 1  # the previous code still works for one more step
CHECKIN_OPENS_BEFORE = dt.timedelta(minutes=15)


class TeachingError(DomainError):
    pass


# --- who is expected, attendance rate ----------------------------------------------------

def expected_enrolments(session: CourseSession, *, cohort_id: int | None = None) -> list[Enrolment]:
    """Accepted participants the session is for (its cohort, or the whole course),
    narrowed to `cohort_id` for staff bound to one cohort."""
    stmt = (
        sa.select(Enrolment).join(Enrolment.user)
        .where(Enrolment.course_id == session.course_id, Enrolment.status.in_(HOLDS_PLACE))
        .options(so.contains_eager(Enrolment.user))
        .order_by(User.full_name, Enrolment.id)
    )
    if session.cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == session.cohort_id)
    if cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == cohort_id)
    return list(db.session.scalars(stmt))


@dataclass
class Progress:
    attended_hours: float = 0.0
    held_hours: float = 0.0
    mandatory_missed: list[CourseSession] = field(default_factory=list)
    remaining_hours: float = 0.0  # hours of sessions still to come that count

    @property
    def rate(self) -> float | None:
        """Attended ÷ held, in percent; None before anything counting was held."""
        return round(100 * self.attended_hours / self.held_hours, 1) if self.held_hours else None


ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


def progress_for(course: Course | None, enrolments: Sequence[Enrolment], now: dt.datetime | None = None) -> dict[int, Progress]:
    """Attendance progress of each enrolment (of one or several courses), in two queries
    whatever the numbers.

    Held = sessions that have ended, not cancelled, that count, of the enrolment's cohort
    or the whole course. Excused sessions leave both sides of the fraction.
    """
    now = now or utcnow()
    course_ids = {e.course_id for e in enrolments} or {course.id if course else 0}
    sessions = db.session.scalars(sa.select(CourseSession).where(
        CourseSession.course_id.in_(course_ids), CourseSession.status == SessionStatus.SCHEDULED,
        CourseSession.counts_for_attendance.is_(True)).order_by(CourseSession.starts_at)).all()
    ids = [e.id for e in enrolments]
    marks = {(a.session_id, a.enrolment_id): a.status for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.enrolment_id.in_(ids or [0])))}
    result = {}
    for e in enrolments:
        p = Progress()
        for s in sessions:
            if s.course_id != e.course_id or (s.cohort_id is not None and s.cohort_id != e.cohort_id):
                continue
            if s.ends_at > now:
                p.remaining_hours += s.hours
                continue
            status = marks.get((s.id, e.id))
            if status is AttendanceStatus.EXCUSED:
                continue
            p.held_hours += s.hours
            if status in ATTENDED:
                p.attended_hours += s.hours
            elif s.is_mandatory:
                p.mandatory_missed.append(s)
        result[e.id] = p
    return result


# --- attendance sheet -------------------------------------------------------------------

def _check_sheet_open(session: CourseSession) -> None:
    if session.status is SessionStatus.CANCELLED:
        raise TeachingError(_("A cancelled session takes no attendance."))
    if session.starts_at - CHECKIN_OPENS_BEFORE > utcnow():
        raise TeachingError(_("Attendance can be taken from 15 minutes before the session starts."))


UNSEEN = object()  # the form did not say what the sheet showed


def save_sheet(session: CourseSession, entries: dict[int, tuple[AttendanceStatus, str]], actor: User, *,
               method: AttendanceMethod = AttendanceMethod.SHEET, cohort_id: int | None = None,
               seen: dict[int, AttendanceStatus | None] | None = None) -> int:
    """Record attendance for several people at once; every real change is audited once.
    Returns how many rows changed. Refuses people the session does not expect (and, for
    staff bound to a cohort, people outside it). `seen` holds what the sheet showed for
    each person: a row someone else marked since is kept when this sheet did not touch
    it, and a sheet that would overwrite it is refused (a stale sheet never silently
    undoes a check-in or a colleague's mark)."""
    _check_sheet_open(session)
    expected = {e.id for e in expected_enrolments(session, cohort_id=cohort_id)}
    if set(entries) - expected:
        raise NotFound(_("This person is not expected at this session."))
    changed = 0
    for enrolment_id, (status, note) in entries.items():
        changed += _set_mark(session, enrolment_id, status, (note or "").strip()[:500], actor, method,
                             seen=(seen or {}).get(enrolment_id, UNSEEN))
    return changed


def _set_mark(session: CourseSession, enrolment_id: int, status: AttendanceStatus, note: str, actor: User,
              method: AttendanceMethod, *, seen: object = UNSEEN) -> bool:
    """One attendance mark as a compare-and-set on the row as read (or an insert that
    the unique (session, enrolment) key lets only one request make). True when this
    call changed something; a mark already as wanted changes nothing."""
    for _attempt in range(5):
        row = db.session.scalar(sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.enrolment_id == enrolment_id)
            .execution_options(populate_existing=True))
        current = row.status if row is not None else None
        if seen is not UNSEEN and current is not seen:
            if status is seen or status is current:
                return False  # this sheet left the row as it showed it: the newer mark stays
            raise Conflict(_("Someone else has just recorded attendance on this sheet (%(status)s); nothing was "
                             "saved. Look at the sheet again.", status=label(current) if current else "—"))
        if row is None:
            if _insert_mark(session, enrolment_id, status, note, actor, method) is None:
                return True
            continue  # marked meanwhile by someone else: compare with their mark
        if row.status is status and row.note == note:
            return False
        old = row.status.value
        if not compare_and_set(row, Attendance.status == row.status, Attendance.note == row.note,
                               status=status, note=note, method=method, recorded_by_id=actor.id, recorded_at=utcnow()):
            continue
        record("attendance.marked", session, actor=actor, enrolment=enrolment_id, old=old, new=status.value,
               method=method.value, note=note or None)
        return True
    raise Conflict(_("This attendance was being changed by someone else at the same time; please try again."))


def mark(session: CourseSession, enrolment_id: int, status: AttendanceStatus, actor: User, *,
         method: AttendanceMethod = AttendanceMethod.SHEET, note: str = "") -> None:
    save_sheet(session, {enrolment_id: (status, note)}, actor, method=method)


def mark_all_present(session: CourseSession, actor: User, *, cohort_id: int | None = None) -> int:
    """Everyone expected (in the actor's cohort) and not yet marked becomes present."""
    _check_sheet_open(session)
    marked = set(db.session.scalars(sa.select(Attendance.enrolment_id).where(Attendance.session_id == session.id)))
    todo = {e.id: (AttendanceStatus.PRESENT, "") for e in expected_enrolments(session, cohort_id=cohort_id)
            if e.id not in marked}
    changed = 0
    for enrolment_id, (status, note) in todo.items():
        # Insert only: a mark someone made meanwhile (a check-in, a colleague) stays.
        changed += _insert_mark(session, enrolment_id, status, note, actor, AttendanceMethod.SHEET) is None
    return changed


def _insert_mark(session: CourseSession, enrolment_id: int, status: AttendanceStatus, note: str, actor: User,
                 method: AttendanceMethod) -> Attendance | None:
    """Mark someone not marked yet, audited. None when this call made the mark; else the
    mark someone else made first (left as it is)."""
    try:
        with db.session.begin_nested():
            db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment_id, status=status, note=note,
                                      method=method, recorded_by_id=actor.id, recorded_at=utcnow()))
            db.session.flush()
    except sa.exc.IntegrityError:
        return db.session.scalar(sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.enrolment_id == enrolment_id)
            .execution_options(populate_existing=True))
    record("attendance.marked", session, actor=actor, enrolment=enrolment_id, old=None, new=status.value,
           method=method.value, note=note or None)
    return None


# --- self check-in ------------------------------------------------------------------------

def code_at(session: CourseSession, when: dt.datetime) -> str:
    """The 6-digit code of the time step containing `when`: HOTP (RFC 4226) over the
    step number with the session's secret. Nothing guessable without the secret."""
    step = int(when.timestamp()) // CHECKIN_STEP
    digest = hmac.new(bytes.fromhex(session.checkin_secret), struct.pack(">Q", step), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def checkin_open(session: CourseSession, now: dt.datetime) -> bool:
    return (session.status is SessionStatus.SCHEDULED
            and session.starts_at - CHECKIN_OPENS_BEFORE <= now < session.ends_at)


def seconds_left(now: dt.datetime) -> int:
    return CHECKIN_STEP - int(now.timestamp()) % CHECKIN_STEP


def _valid_codes(session: CourseSession, now: dt.datetime) -> set[str]:
    return {code_at(session, now - dt.timedelta(seconds=CHECKIN_STEP * i)) for i in range(CHECKIN_GRACE_STEPS + 1)}


def check_in(user: User, code: str, now: dt.datetime | None = None) -> CourseSession:
    """Check `user` in with a code. The code is looked for only among the sessions this
    person may check in to (their accepted courses, their cohort), so a code that happens
    to match another course's session is just a wrong code. Refusals say why; a mark the
    staff made is never overwritten."""
    require_verified(user)
    now = now or utcnow()
    # Full-width digits from a Chinese input method (６６７８０１) are the same code.
    code = unicodedata.normalize("NFKC", code or "").strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise TeachingError(_("The code has 6 digits."), field="code")
    rows = db.session.execute(
        sa.select(CourseSession, Enrolment.id)
        .join(Enrolment, Enrolment.course_id == CourseSession.course_id)
        .where(Enrolment.user_id == user.id, Enrolment.status.in_(HOLDS_PLACE),
               sa.or_(CourseSession.cohort_id.is_(None), CourseSession.cohort_id == Enrolment.cohort_id),
               CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.starts_at <= now + CHECKIN_OPENS_BEFORE + dt.timedelta(hours=24),
               CourseSession.ends_at >= now - dt.timedelta(seconds=CHECKIN_STEP * (CHECKIN_GRACE_STEPS + 1)))
    ).all()
    for session, enrolment_id in rows:
        if code not in _valid_codes(session, now):
            continue
        if now < session.starts_at - CHECKIN_OPENS_BEFORE:
            raise TeachingError(_("Check-in for this session has not opened yet."))
        if now >= session.ends_at:
            raise TeachingError(_("This session has ended; check-in is closed."))
        status = AttendanceStatus.LATE if now > session.starts_at + dt.timedelta(minutes=15) else AttendanceStatus.PRESENT
        existing = _insert_mark(session, enrolment_id, status, "", user, AttendanceMethod.SELF_CHECKIN)
        if existing is None:
            return session
        if existing.status in ATTENDED:
            raise Conflict(_("You are already checked in for this session."))
        raise Conflict(_("The staff have already recorded your attendance for this session (%(status)s). "
                         "Please speak to them.", status=label(existing.status)))
    raise TeachingError(_("This code is wrong or has expired. Look at the screen and try the new one."), field="code")


def attendance_history(session: CourseSession, *, enrolment_ids: set[int] | None = None) -> list:
    """The session's attendance changes, newest first; only those of `enrolment_ids`
    when given (staff bound to a cohort see their cohort's people only)."""
    from app.audit.models import AuditEvent

    events = list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "course_session", AuditEvent.object_id == session.id,
                                    AuditEvent.action == "attendance.marked")
        .options(so.joinedload(AuditEvent.actor)).order_by(AuditEvent.id.desc()).limit(500)))
    if enrolment_ids is not None:
        events = [e for e in events if e.details.get("enrolment") in enrolment_ids]
    return events[:200]


# --- completion ---------------------------------------------------------------------------

def record_completion(enrolment: Enrolment, passed: bool, note: str, actor: User, now: dt.datetime | None = None,
                      *, seen: EnrolmentStatus | None = None) -> bool:
    """Record passed / not passed once the course has ended (in its own zone), as a
    compare-and-set on the status as read. True when this call changed something; the
    same outcome recorded twice (a double click) changes nothing and is audited once."""
    now = now or utcnow()
    course = enrolment.course
    if local_date(now, course.timezone) < course.ends_on:
        raise TeachingError(_("Completion is recorded once the course has ended (on %(day)s).",
                              day=skeleton(course.ends_on, "date")))
    if enrolment.status not in HOLDS_PLACE:
        raise TeachingError(_("Only accepted participants can complete the course."))
    target = S.COMPLETED if passed else S.NOT_COMPLETED
    stored_note = (note or "").strip()[:2000] or None
    old = enrolment.status
    if seen is not None and old is not seen and old is not target:
        raise changed_meanwhile(enrolment)  # another outcome was recorded since the page was shown: it stands
    if old is target and enrolment.completion_note == stored_note:
        return False
    if not compare_and_set(enrolment, Enrolment.status == old, status=target, completion_passed=passed,
                           completion_note=stored_note, completion_recorded_at=now):
        if enrolment.status is target and enrolment.completion_note == stored_note:
            return False  # the same outcome, recorded by a twin request
        raise changed_meanwhile(enrolment)
    record("enrolment.completion_recorded", enrolment, actor=actor, passed=passed, old=old.value, note=stored_note)
    if course.auto_issued_at is not None:  # automatic issue looks at the course again
        compare_and_set(course, Course.auto_issued_at.is_not(None), auto_issued_at=None)
    return True


def record_completions(enrolments: Sequence[Enrolment], passed: bool, notes: dict[int, str], actor: User, *,
                       seen: dict[int, EnrolmentStatus | None]) -> int:
    """The same outcome for several participants, all or nothing (a refusal names the
    person; the caller rolls back); `notes` and `seen` (the status each row showed) by
    enrolment id. Returns how many changed (the same outcome again changes nothing)."""
    changed = all_or_nothing(enrolments, lambda e: record_completion(
        e, passed, notes.get(e.id, ""), actor, seen=seen.get(e.id)))
    return sum(changed)


def email_cohort(course: Course, cohort_id: int | None, subject: str, body: str, actor: User) -> int:
    stmt = sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE)).options(
        so.joinedload(Enrolment.user))
    if cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == cohort_id)
    enrolments = db.session.scalars(stmt).all()
    for e in enrolments:
        queue_email(e.user, "staff_message", course=course, subject=subject, body=body, sender=actor)
    record("cohort.emailed", course, actor=actor, cohort=cohort_id, recipients=len(enrolments), subject=subject)
    return len(enrolments)
