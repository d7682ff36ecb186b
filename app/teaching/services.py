"""Teaching rules: staff, cohorts, rosters, attendance, self check-in, completion.
Nothing here commits: the caller owns the transaction."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import Role, User
from app.audit.services import record
from app.catalogue.models import Course
from app.core.errors import Conflict, DomainError, NotFound
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.extensions import db
from app.notifications.services import queue_email
from app.schedule.models import CourseSession, SessionStatus
from app.teaching.models import Attendance, AttendanceMethod, AttendanceStatus, Cohort, CourseStaff, StaffRole

S = EnrolmentStatus
CHECKIN_STEP = 60  # seconds a code lives
CHECKIN_GRACE_STEPS = 1  # the previous code still works for one more step
CHECKIN_OPENS_BEFORE = dt.timedelta(minutes=15)


class TeachingError(DomainError):
    pass


# --- staff ----------------------------------------------------------------------------

def add_staff(course: Course, email: str, role: StaffRole, cohort_id: int | None, actor: User) -> CourseStaff:
    from app.accounts.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise TeachingError(_("There is no account with this email. Ask the person to register first."), field="email")
    if cohort_id is not None and db.session.scalar(
            sa.select(Cohort.id).where(Cohort.id == cohort_id, Cohort.course_id == course.id)) is None:
        raise NotFound(_("Unknown cohort."))
    existing = db.session.scalar(sa.select(CourseStaff).where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id))
    if existing is not None:
        raise Conflict(_("%(name)s is already on the staff of this course.", name=user.full_name))
    staff = CourseStaff(course_id=course.id, user_id=user.id, role=role, cohort_id=cohort_id)
    db.session.add(staff)
    if user.role is Role.PARTICIPANT:
        user.role = Role.INSTRUCTOR  # staff need the instructor's area
    db.session.flush()
    record("course_staff.added", course, actor=actor, user=user.id, role=role.value, cohort=cohort_id)
    return staff


def remove_staff(staff: CourseStaff, actor: User) -> None:
    record("course_staff.removed", staff.course, actor=actor, user=staff.user_id, role=staff.role.value)
    db.session.delete(staff)
    db.session.flush()


# --- cohorts --------------------------------------------------------------------------

def save_cohort(course: Course, cohort: Cohort | None, name: str, actor: User) -> Cohort:
    name = (name or "").strip()
    if not name:
        raise TeachingError(_("A cohort needs a name."), field="name")
    clash = db.session.scalar(sa.select(Cohort.id).where(
        Cohort.course_id == course.id, sa.func.lower(Cohort.name) == name.lower(), Cohort.id != (cohort.id if cohort else 0)))
    if clash:
        raise Conflict(_("This course already has a cohort with that name."), field="name")
    created = cohort is None
    cohort = cohort or Cohort(course_id=course.id)
    cohort.name = name
    db.session.add(cohort)
    db.session.flush()
    record("cohort.created" if created else "cohort.renamed", cohort, actor=actor, name=name)
    return cohort


def delete_cohort(cohort: Cohort, actor: User) -> None:
    members = db.session.scalar(sa.select(sa.func.count()).where(Enrolment.cohort_id == cohort.id))
    sessions = db.session.scalar(sa.select(sa.func.count()).where(CourseSession.cohort_id == cohort.id))
    if members or sessions:
        raise TeachingError(_("Only an empty cohort can be deleted: it has %(members)d participants and %(sessions)d sessions.",
                              members=members, sessions=sessions))
    record("cohort.deleted", cohort, actor=actor, name=cohort.name)
    db.session.delete(cohort)
    db.session.flush()


def assign_cohort(course: Course, enrolment_ids: list[int], cohort_id: int | None, actor: User) -> int:
    if cohort_id is not None and db.session.scalar(
            sa.select(Cohort.id).where(Cohort.id == cohort_id, Cohort.course_id == course.id)) is None:
        raise NotFound(_("Unknown cohort."))
    enrolments = db.session.scalars(sa.select(Enrolment).where(
        Enrolment.course_id == course.id, Enrolment.id.in_(enrolment_ids or [0]))).all()
    if len(enrolments) != len(set(enrolment_ids)):
        raise NotFound(_("This enrolment does not exist."))
    for e in enrolments:
        if not e.holds_place:
            raise TeachingError(_("Only accepted participants can be put in a cohort."))
        e.cohort_id = cohort_id
    db.session.flush()
    record("cohort.assigned", course, actor=actor, cohort=cohort_id, enrolments=sorted(enrolment_ids))
    return len(enrolments)


def balance_cohorts(course: Course, actor: User, *, by_country: bool = False) -> dict[int, int]:
    """Spread accepted participants over the course's cohorts in even sizes; with
    `by_country`, people of one country stay together where sizes allow."""
    cohorts = db.session.scalars(sa.select(Cohort).where(Cohort.course_id == course.id).order_by(Cohort.id)).all()
    if not cohorts:
        raise TeachingError(_("Create the cohorts first."))
    people = db.session.execute(
        sa.select(Enrolment, User.country).join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE))
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    n, k = len(people), len(cohorts)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    if by_country:
        groups: dict[str, list[Enrolment]] = defaultdict(list)
        for e, country in people:
            groups[country or ""].append(e)
        ordered = [e for _country, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])) for e in members]
    else:
        ordered = [e for e, _country in people]
    counts, i = {}, 0
    for cohort, size in zip(cohorts, sizes):
        for e in ordered[i:i + size]:
            e.cohort_id = cohort.id
        counts[cohort.id] = size
        i += size
    db.session.flush()
    record("cohort.balanced", course, actor=actor, by_country=by_country, sizes=counts)
    return counts


# --- who is expected, attendance rate ----------------------------------------------------

def expected_enrolments(session: CourseSession) -> list[Enrolment]:
    """Accepted participants the session is for (its cohort, or the whole course)."""
    stmt = (
        sa.select(Enrolment).join(Enrolment.user)
        .where(Enrolment.course_id == session.course_id, Enrolment.status.in_(HOLDS_PLACE))
        .options(so.contains_eager(Enrolment.user))
        .order_by(User.full_name, Enrolment.id)
    )
    if session.cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == session.cohort_id)
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


def progress_for(course: Course | None, enrolments: list[Enrolment], now: dt.datetime | None = None) -> dict[int, Progress]:
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


def save_sheet(session: CourseSession, entries: dict[int, tuple[AttendanceStatus, str]], actor: User, *,
               method: AttendanceMethod = AttendanceMethod.SHEET) -> int:
    """Record attendance for several people at once; every change is audited. Returns
    how many rows changed. Refuses people the session does not expect."""
    _check_sheet_open(session)
    expected = {e.id for e in expected_enrolments(session)}
    unknown = set(entries) - expected
    if unknown:
        raise NotFound(_("This person is not expected at this session."))
    rows = {a.enrolment_id: a for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.session_id == session.id, Attendance.enrolment_id.in_(list(entries) or [0])))}
    changed = 0
    for enrolment_id, (status, note) in entries.items():
        note = (note or "").strip()[:500]
        row = rows.get(enrolment_id)
        if row is not None and row.status is status and row.note == note:
            continue
        old = row.status.value if row else None
        if row is None:
            row = Attendance(session_id=session.id, enrolment_id=enrolment_id, status=status, method=method)
            db.session.add(row)
        row.status, row.method, row.note = status, method, note
        row.recorded_by_id, row.recorded_at = actor.id, utcnow()
        record("attendance.marked", session, actor=actor, enrolment=enrolment_id, old=old, new=status.value,
               method=method.value, note=note or None)
        changed += 1
    db.session.flush()
    return changed


def mark(session: CourseSession, enrolment_id: int, status: AttendanceStatus, actor: User, *,
         method: AttendanceMethod = AttendanceMethod.SHEET, note: str = "") -> None:
    save_sheet(session, {enrolment_id: (status, note)}, actor, method=method)


def mark_all_present(session: CourseSession, actor: User) -> int:
    """Everyone expected and not yet marked becomes present."""
    _check_sheet_open(session)
    marked = set(db.session.scalars(sa.select(Attendance.enrolment_id).where(Attendance.session_id == session.id)))
    todo = {e.id: (AttendanceStatus.PRESENT, "") for e in expected_enrolments(session) if e.id not in marked}
    return save_sheet(session, todo, actor) if todo else 0


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
    """Check `user` in with a code: the session is found by the code among the sessions
    open now for the user's courses. Refusals say why."""
    now = now or utcnow()
    code = (code or "").strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        raise TeachingError(_("The code has 6 digits."), field="code")
    enrolments = db.session.scalars(sa.select(Enrolment).where(Enrolment.user_id == user.id)).all()
    by_course = {e.course_id: e for e in enrolments}
    # Sessions of any course with a check-in window around now (cheap: a time range).
    candidates = db.session.scalars(sa.select(CourseSession).where(
        CourseSession.status == SessionStatus.SCHEDULED,
        CourseSession.starts_at <= now + CHECKIN_OPENS_BEFORE + dt.timedelta(hours=24),
        CourseSession.ends_at >= now - dt.timedelta(seconds=CHECKIN_STEP * (CHECKIN_GRACE_STEPS + 1)),
    )).all()
    for session in candidates:
        if code not in _valid_codes(session, now):
            continue
        enrolment = by_course.get(session.course_id)
        if enrolment is None or not enrolment.holds_place:
            raise TeachingError(_("You are not enrolled in the activity of this session."))
        if session.cohort_id is not None and enrolment.cohort_id != session.cohort_id:
            raise TeachingError(_("This session is for another cohort."))
        if now < session.starts_at - CHECKIN_OPENS_BEFORE:
            raise TeachingError(_("Check-in for this session has not opened yet."))
        if now >= session.ends_at:
            raise TeachingError(_("This session has ended; check-in is closed."))
        existing = db.session.scalar(sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.enrolment_id == enrolment.id))
        if existing is not None and existing.status in ATTENDED:
            raise Conflict(_("You are already checked in for this session."))
        status = AttendanceStatus.LATE if now > session.starts_at + dt.timedelta(minutes=15) else AttendanceStatus.PRESENT
        mark(session, enrolment.id, status, user, method=AttendanceMethod.SELF_CHECKIN)
        return session
    raise TeachingError(_("This code is wrong or has expired. Look at the screen and try the new one."), field="code")


def attendance_history(session: CourseSession) -> list:
    from app.audit.models import AuditEvent

    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "course_session", AuditEvent.object_id == session.id,
                                    AuditEvent.action == "attendance.marked")
        .options(so.joinedload(AuditEvent.actor)).order_by(AuditEvent.id.desc()).limit(200)))


# --- completion ---------------------------------------------------------------------------

def record_completion(enrolment: Enrolment, passed: bool, note: str, actor: User, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    course = enrolment.course
    if course.ends_on > now.date():
        raise TeachingError(_("Completion is recorded once the course has ended (on %(day)s).", day=course.ends_on.isoformat()))
    if enrolment.status not in HOLDS_PLACE:
        raise TeachingError(_("Only accepted participants can complete the course."))
    old = enrolment.status
    enrolment.status = S.COMPLETED if passed else S.NOT_COMPLETED
    enrolment.completion_passed = passed
    enrolment.completion_note = (note or "").strip()[:2000] or None
    enrolment.completion_recorded_at = now
    db.session.flush()
    record("enrolment.completion_recorded", enrolment, actor=actor, passed=passed, old=old.value,
           note=enrolment.completion_note)


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
