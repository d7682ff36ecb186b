"""Schedule rules: sessions and series in the course's local time, conflicts, sign-ups,
timetables. Nothing here commits: the caller owns the transaction."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from itertools import groupby

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.models import Course, CourseStatus
from app.catalogue.seats import release_place, take_place
from app.core.cas import changed_rows, compare_and_set
from app.core.errors import Conflict, DomainError, NotFound
from app.core.timezones import format_range, is_valid_zone, localize, skeleton, to_local
from app.core.types import utcnow
from app.enrolment import signals as enrolment_signals
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.notifications.services import queue_email
from app.schedule.cohorts import cohort_belongs, on_staff
from app.schedule.models import (
    CourseSession,
    SessionDecline,
    SessionKind,
    SessionSignup,
    SessionStatus,
    Venue,
    session_instructor,
)

MAX_OCCURRENCES = 200


class ScheduleError(DomainError):
    pass


class ScheduleConflict(Conflict):
    """A venue or an instructor is already booked; staff may override with a reason."""

    def __init__(self, message: str, clashes: list[CourseSession]):
        super().__init__(message, field="override_reason")
        self.clashes = clashes


# --- queries ------------------------------------------------------------------------

def course_sessions_query(course_id: int, *, include_cancelled: bool = True) -> sa.Select:
    """A course's sessions in time order, with venue and instructors loaded (two queries)."""
    stmt = (
        sa.select(CourseSession)
        .where(CourseSession.course_id == course_id)
        .options(so.joinedload(CourseSession.venue), so.selectinload(CourseSession.instructors))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if not include_cancelled:
        stmt = stmt.where(CourseSession.status == SessionStatus.SCHEDULED)
    return stmt


def course_sessions(course_id: int, *, include_cancelled: bool = True) -> list[CourseSession]:
    return list(db.session.scalars(course_sessions_query(course_id, include_cancelled=include_cancelled)).unique())


def group_by_local_day(sessions: list[CourseSession], tz_name: str) -> list[tuple[dt.date, list[CourseSession]]]:
    """Days in the place's zone, so a session never slides across midnight for a viewer."""
    return [(day, list(items)) for day, items in groupby(sessions, key=lambda s: to_local(s.starts_at, tz_name).date())]


def by_course_day(sessions: list[CourseSession]) -> dict[dt.date, list[CourseSession]]:
    """Sessions keyed by their day in their own course's zone (a personal timetable may
    mix Rome and Shanghai; each session stays on the day it happens there)."""
    days: dict[dt.date, list[CourseSession]] = {}
    for s in sessions:
        days.setdefault(to_local(s.starts_at, s.course.timezone).date(), []).append(s)
    return days


def visible_to_enrolment_clause():
    """Sessions for the whole course, or for the enrolment's own cohort."""
    return sa.or_(CourseSession.cohort_id.is_(None), CourseSession.cohort_id == Enrolment.cohort_id)


def personal_sessions(user: User, start: dt.datetime | None = None, end: dt.datetime | None = None,
                      *, include_cancelled: bool = True, limit: int | None = None) -> list[CourseSession]:
    """Sessions of the user's accepted courses (their cohort only) and the sessions they teach."""
    as_participant = (
        sa.select(CourseSession.id)
        .join(Enrolment, Enrolment.course_id == CourseSession.course_id)
        .where(Enrolment.user_id == user.id,
               Enrolment.status.in_((EnrolmentStatus.ACCEPTED, EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)),
               visible_to_enrolment_clause())
    )
    as_instructor = sa.select(session_instructor.c.session_id).where(session_instructor.c.user_id == user.id)
    stmt = (
        sa.select(CourseSession)
        .where(sa.or_(CourseSession.id.in_(as_participant), CourseSession.id.in_(as_instructor)))
        .options(so.joinedload(CourseSession.course), so.joinedload(CourseSession.venue),
                 so.selectinload(CourseSession.instructors))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if start is not None:
        stmt = stmt.where(CourseSession.ends_at > start)
    if end is not None:
        stmt = stmt.where(CourseSession.starts_at < end)
    if not include_cancelled:
        stmt = stmt.where(CourseSession.status == SessionStatus.SCHEDULED)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt).unique())


def join_link_sessions(sessions: list[CourseSession], course: Course, user: User | None) -> set[int]:
    """Ids of the sessions whose join link `user` may see: accepted participants (of the
    session's cohort), the session's instructors and admins. One query, whatever the rows."""
    if user is None or not user.is_authenticated:
        return set()
    with_links = [s for s in sessions if s.join_url]
    if not with_links:
        return set()
    if user.is_admin:
        return {s.id for s in with_links}
    enrolment = db.session.scalar(sa.select(Enrolment).where(
        Enrolment.course_id == course.id, Enrolment.user_id == user.id))
    holds = enrolment is not None and enrolment.holds_place
    return {
        s.id for s in with_links
        if any(i.id == user.id for i in s.instructors)
        or (holds and (s.cohort_id is None or s.cohort_id == enrolment.cohort_id))
    }


# --- conflicts ----------------------------------------------------------------------

def find_conflicts(starts_at: dt.datetime, ends_at: dt.datetime, venue_id: int | None, instructor_ids: list[int],
                   exclude_ids: list[int] = ()) -> list[CourseSession]:
    """Scheduled sessions that use the same (physical) venue or an instructor at an overlapping time."""
    clauses = []
    if venue_id:
        venue = db.session.get(Venue, venue_id)
        if venue is not None and not venue.is_online:
            clauses.append(CourseSession.venue_id == venue_id)
    if instructor_ids:
        clauses.append(CourseSession.id.in_(
            sa.select(session_instructor.c.session_id).where(session_instructor.c.user_id.in_(instructor_ids))))
    if not clauses:
        return []
    stmt = (
        sa.select(CourseSession)
        .where(CourseSession.status == SessionStatus.SCHEDULED, CourseSession.starts_at < ends_at,
               CourseSession.ends_at > starts_at, sa.or_(*clauses))
        .options(so.joinedload(CourseSession.course), so.joinedload(CourseSession.venue),
                 so.selectinload(CourseSession.instructors))
        .order_by(CourseSession.starts_at)
    )
    if exclude_ids:
        stmt = stmt.where(CourseSession.id.not_in(list(exclude_ids)))
    return list(db.session.scalars(stmt).unique())


def describe_clash(clash: CourseSession, venue_id: int | None, instructor_ids: list[int], actor: User | None) -> str:
    """What clashes, and when. The clashing session and its course are named only when
    `actor` may see that course (an admin, its staff, or it is published); otherwise it is
    "another activity", so that a draft course's confidential title never leaks."""
    tz = clash.course.timezone
    when = format_range(clash.starts_at, clash.ends_at, tz, None)
    day = skeleton(to_local(clash.starts_at, tz).date(), "date")
    who = [i.full_name for i in clash.instructors if i.id in instructor_ids]
    named = _may_see_course(clash.course, actor)
    if venue_id and clash.venue_id == venue_id:
        if not named:
            return _("%(venue)s is already booked for another activity on %(day)s, %(when)s.",
                     venue=clash.venue.name, day=day, when=when)
        return _("%(venue)s is already booked for “%(session)s” (%(course)s) on %(day)s, %(when)s.",
                 venue=clash.venue.name, session=clash.title, course=clash.course.title, day=day, when=when)
    if not named:
        return _("%(people)s already teaches another activity on %(day)s, %(when)s.",
                 people=", ".join(who), day=day, when=when)
    return _("%(people)s already teaches “%(session)s” (%(course)s) on %(day)s, %(when)s.",
             people=", ".join(who), session=clash.title, course=clash.course.title, day=day, when=when)


def _may_see_course(course: Course, actor: User | None) -> bool:
    if course.status is CourseStatus.PUBLISHED:
        return True
    return actor is not None and (actor.is_admin or on_staff(course.id, actor.id))


# --- creating and changing sessions -------------------------------------------------

@dataclass
class SessionData:
    """A session as staff type it: wall-clock times in the course's zone."""

    title: str
    kind: SessionKind
    day: dt.date
    start: dt.time
    end: dt.time
    description: str = ""
    venue_id: int | None = None
    join_url: str | None = None
    capacity: int | None = None
    is_mandatory: bool = False
    counts_for_attendance: bool = True
    cohort_id: int | None = None
    instructor_ids: list[int] = field(default_factory=list)


def _times(course: Course, data: SessionData) -> tuple[dt.datetime, dt.datetime]:
    if not course.starts_on <= data.day <= course.ends_on:
        raise ScheduleError(
            _("The session must fall within the course dates (%(start)s – %(end)s).",
              start=skeleton(course.starts_on, "date"), end=skeleton(course.ends_on, "date")), field="day")
    try:
        starts_at = localize(dt.datetime.combine(data.day, data.start), course.timezone)
        # An end before the start means the session runs past midnight (an evening
        # webinar for Shanghai), as long as that makes it at most 12 hours long.
        end_day = data.day if data.end > data.start else data.day + dt.timedelta(days=1)
        ends_at = localize(dt.datetime.combine(end_day, data.end), course.timezone)
    except ValueError as exc:
        raise ScheduleError(str(exc), field="start") from None
    if ends_at <= starts_at or (end_day != data.day and ends_at - starts_at > dt.timedelta(hours=12)):
        raise ScheduleError(_("The session must end after it starts."), field="end")
    if to_local(ends_at, course.timezone).date() > course.ends_on:
        raise ScheduleError(
            _("The session must fall within the course dates (%(start)s – %(end)s).",
              start=skeleton(course.starts_on, "date"), end=skeleton(course.ends_on, "date")), field="end")
    return starts_at, ends_at


def _check_refs(course: Course, data: SessionData) -> list[User]:
    if data.capacity is not None and data.capacity < 1:
        raise ScheduleError(_("A session's own places must be at least 1 (or empty for no limit)."), field="capacity")
    if data.venue_id and db.session.get(Venue, data.venue_id) is None:
        raise NotFound(_("Unknown venue."))
    if data.cohort_id is not None:
        if not cohort_belongs(data.cohort_id, course.id):
            raise NotFound(_("Unknown cohort."))
    instructors = list(db.session.scalars(sa.select(User).where(User.id.in_(data.instructor_ids or [0]))))
    if len(instructors) != len(set(data.instructor_ids)):
        raise NotFound(_("Unknown instructor."))
    return instructors


def _guard_conflicts(occurrences: list[tuple[dt.datetime, dt.datetime]], data: SessionData, actor: User,
                     override_reason: str | None, exclude_ids: list[int], course: Course) -> None:
    clashes: list[CourseSession] = []
    for starts_at, ends_at in occurrences:
        clashes += find_conflicts(starts_at, ends_at, data.venue_id, data.instructor_ids, exclude_ids)
    if not clashes:
        return
    reason = (override_reason or "").strip()
    if not reason:
        first = describe_clash(clashes[0], data.venue_id, data.instructor_ids, actor)
        more = len(clashes) - 1
        message = first if not more else first + " " + _("(and %(num)d more)", num=more)
        raise ScheduleConflict(message + " " + _("To book it anyway, give a reason."), clashes)
    record("session.conflict_overridden", course, actor=actor, reason=reason,
           clashes=[c.id for c in clashes])


def create_sessions(course: Course, data: SessionData, actor: User, *, repeat: str = "none",
                    weekdays: list[int] | None = None, until: dt.date | None = None,
                    override_reason: str | None = None) -> list[CourseSession]:
    """One session, or a daily/weekly series expanded in the course's local time (09:00
    stays 09:00 across a daylight-saving change)."""
    instructors = _check_refs(course, data)
    days = expand_days(data.day, repeat, weekdays or [], until, course)
    occurrences = [_times(course, replace(data, day=day)) for day in days]
    _guard_conflicts(occurrences, data, actor, override_reason, [], course)
    series_id = str(uuid.uuid4()) if len(days) > 1 else None
    created = []
    for starts_at, ends_at in occurrences:
        s = CourseSession(
            course_id=course.id, series_id=series_id, title=data.title, description=data.description, kind=data.kind,
            starts_at=starts_at, ends_at=ends_at, venue_id=data.venue_id, join_url=data.join_url,
            capacity=data.capacity, is_mandatory=data.is_mandatory, counts_for_attendance=data.counts_for_attendance,
            cohort_id=data.cohort_id, instructors=list(instructors),
        )
        db.session.add(s)
        created.append(s)
    db.session.flush()
    record("session.created", course, actor=actor, sessions=[s.id for s in created], series=series_id)
    return created


def expand_days(first: dt.date, repeat: str, weekdays: list[int], until: dt.date | None, course: Course) -> list[dt.date]:
    if repeat == "none":
        return [first]
    if repeat not in ("daily", "weekly"):
        raise ScheduleError(_("Unknown repetition."), field="repeat")
    if until is None or until < first:
        raise ScheduleError(_("A series needs an end date on or after its first day."), field="until")
    if until > course.ends_on:
        raise ScheduleError(_("A series cannot run past the course's last day."), field="until")
    if repeat == "weekly":
        weekdays = sorted(set(weekdays)) or [first.weekday()]
        if any(not 0 <= w <= 6 for w in weekdays):
            raise ScheduleError(_("Unknown weekday."), field="weekdays")
    days, day = [], first
    while day <= until:
        if repeat == "daily" or day.weekday() in weekdays:
            days.append(day)
        day += dt.timedelta(days=1)
    if not days:
        raise ScheduleError(_("These settings give no session at all."), field="weekdays")
    if len(days) > MAX_OCCURRENCES:
        raise ScheduleError(_("A series can have at most %(num)d sessions.", num=MAX_OCCURRENCES), field="until")
    return days


def data_of(session: CourseSession) -> SessionData:
    tz = session.course.timezone
    start, end = to_local(session.starts_at, tz), to_local(session.ends_at, tz)
    return SessionData(
        title=session.title, kind=session.kind, day=start.date(), start=start.time().replace(tzinfo=None),
        end=end.time().replace(tzinfo=None), description=session.description, venue_id=session.venue_id,
        join_url=session.join_url, capacity=session.capacity, is_mandatory=session.is_mandatory,
        counts_for_attendance=session.counts_for_attendance, cohort_id=session.cohort_id,
        instructor_ids=[i.id for i in session.instructors],
    )


def series_from(session: CourseSession) -> list[CourseSession]:
    """This session and the later ones of its series (just itself when it has none) —
    those still for the same cohort: a session given to another cohort has left the
    series, and changing "this and the following" never reaches into another cohort."""
    if not session.series_id:
        return [session]
    same_cohort = (CourseSession.cohort_id.is_(None) if session.cohort_id is None
                   else CourseSession.cohort_id == session.cohort_id)
    return list(db.session.scalars(
        sa.select(CourseSession)
        .where(CourseSession.series_id == session.series_id, CourseSession.starts_at >= session.starts_at,
               CourseSession.status == SessionStatus.SCHEDULED, same_cohort)
        .options(so.selectinload(CourseSession.instructors))
        .order_by(CourseSession.starts_at)
    ))


def update_sessions(session: CourseSession, data: SessionData, actor: User, *, scope: str = "this",
                    override_reason: str | None = None) -> list[CourseSession]:
    """Change one session, or this and the following ones of its series. For the
    following ones, each keeps its own day shifted by as many days as this one moved."""
    if session.status is SessionStatus.CANCELLED:
        raise ScheduleError(_("A cancelled session cannot be changed."))
    if scope not in ("this", "following"):
        raise ScheduleError(_("Unknown choice."), field="scope")
    course = session.course
    instructors = _check_refs(course, data)
    targets = series_from(session) if scope == "following" else [session]
    old = data_of(session)
    shift = data.day - old.day
    plans = []
    for target in targets:
        own = data_of(target)
        day = data.day if target.id == session.id else own.day + shift
        plans.append((target, _times(course, replace(data, day=day)), own))
    if data.capacity is not None:
        for target, _when, _own in plans:
            if target.seats_taken > data.capacity:
                raise ScheduleError(_("The places cannot be fewer than the %(taken)d sign-ups.", taken=target.seats_taken),
                                    field="capacity")
    _guard_conflicts([when for _t, when, _o in plans], data, actor, override_reason, [t.id for t in targets], course)
    moved, changed = [], []
    wanted_instructors = sorted(i.id for i in instructors)
    for target, (starts_at, ends_at), _own in plans:
        wanted = dict(title=data.title, kind=data.kind, description=data.description, starts_at=starts_at,
                      ends_at=ends_at, venue_id=data.venue_id, join_url=data.join_url, capacity=data.capacity,
                      is_mandatory=data.is_mandatory, counts_for_attendance=data.counts_for_attendance,
                      cohort_id=data.cohort_id)

        def already(t: CourseSession = target, w: dict = wanted) -> bool:
            return all(getattr(t, k) == v for k, v in w.items()) and sorted(i.id for i in t.instructors) == wanted_instructors

        if already():
            continue  # nothing to change here (a twin request, or an untouched session of the series)
        before = (target.starts_at, target.ends_at, target.venue_id, target.join_url)
        # The iCalendar SEQUENCE doubles as the row's version: one request per version wins.
        version = target.sequence
        if not compare_and_set(target, CourseSession.sequence == version, sequence=version + 1, **wanted):
            if already():
                continue
            raise Conflict(_("This session was changed by someone else meanwhile; look at it again."))
        target.instructors = list(instructors)
        changed.append(target)
        if before != (starts_at, ends_at, data.venue_id, data.join_url):
            moved.append((target, before))
    db.session.flush()
    if changed:
        record("session.updated", course, actor=actor, sessions=[t.id for t in changed], scope=scope)
    if len(moved) == 1:
        target, before = moved[0]
        notify_change(target, "moved", old_starts_at=before[0], old_ends_at=before[1])
    elif moved:
        _notify_series(
            [t for t, _b in moved], "moved_series", reason="")
    return [t for t, _w, _o in plans]


def cancel_sessions(session: CourseSession, actor: User, *, scope: str = "this", reason: str = "") -> list[CourseSession]:
    """Cancel one session or this and the following ones of its series. Each is a
    compare-and-set, so a double click cancels (and emails) once; a series sends each
    person one email listing their sessions, not one per session."""
    if session.status is SessionStatus.CANCELLED:
        raise Conflict(_("This session is already cancelled."))
    targets = series_from(session) if scope == "following" else [session]
    cancelled = [t for t in targets if compare_and_set(
        t, CourseSession.status == SessionStatus.SCHEDULED,
        status=SessionStatus.CANCELLED, sequence=CourseSession.sequence + 1)]
    if not cancelled:
        raise Conflict(_("This session is already cancelled."))
    record("session.cancelled", session.course, actor=actor, sessions=[t.id for t in cancelled], reason=reason or None)
    if len(cancelled) == 1:
        notify_change(cancelled[0], "cancelled", reason=reason)
    else:
        _notify_series(cancelled, "cancelled_series", reason)
    return cancelled


def _notify_series(sessions: list[CourseSession], change: str, reason: str) -> None:
    """One email per person for the sessions of a series that concerned them
    (`change` is "cancelled_series" or "moved_series")."""
    theirs: dict[int, tuple[User, list[CourseSession]]] = {}
    for s in sessions:
        for person in affected_people(s):
            theirs.setdefault(person.id, (person, []))[1].append(s)
    for person, own in theirs.values():
        queue_email(person, "session_changed", change=change, session=own[0], sessions=own,
                    course=own[0].course, tz=person.timezone, reason=reason)


def affected_people(session: CourseSession) -> list[User]:
    participants = db.session.scalars(
        sa.select(User).join(Enrolment, Enrolment.user_id == User.id)
        .join(CourseSession, CourseSession.course_id == Enrolment.course_id)
        .where(CourseSession.id == session.id, Enrolment.status == EnrolmentStatus.ACCEPTED, visible_to_enrolment_clause())
    ).all()
    people = {u.id: u for u in participants}
    for instructor in session.instructors:
        people.setdefault(instructor.id, instructor)
    return list(people.values())


def notify_change(session: CourseSession, change: str, **context: object) -> None:
    """Email everyone the session concerns, in their language and their time zone."""
    for person in affected_people(session):
        queue_email(person, "session_changed", change=change, session=session, course=session.course,
                    tz=person.timezone, **context)


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


# --- overlaps for a participant -----------------------------------------------------

def overlaps_with_my_courses(course: Course, user: User,
                             sessions: list[CourseSession] | None = None) -> list[tuple[CourseSession, CourseSession]]:
    """Pairs (session of this course, session of another accepted course) that overlap.
    Pass the course's `sessions` when they are loaded already; the user's own are read
    only within the course's span (the cost does not grow with years of history)."""
    if not user.is_authenticated:
        return []
    if sessions is None:
        sessions = course_sessions(course.id, include_cancelled=False)
    ours = [s for s in sessions if s.status is SessionStatus.SCHEDULED]
    if not ours:
        return []
    mine = personal_sessions(user, min(s.starts_at for s in ours), max(s.ends_at for s in ours), include_cancelled=False)
    mine = [s for s in mine if s.course_id != course.id]
    if not mine:
        return []
    pairs = []
    for s in ours:
        for other in mine:
            if s.starts_at < other.ends_at and other.starts_at < s.ends_at:
                pairs.append((s, other))
    return pairs


# --- venues -------------------------------------------------------------------------

def save_venue(venue: Venue | None, *, name: str, address: str, city: str, country: str | None, timezone: str,
               capacity: int | None, is_online: bool, actor: User) -> Venue:
    if not is_valid_zone(timezone):
        raise ScheduleError(_("Unknown time zone."), field="timezone")
    created = venue is None
    venue = venue or Venue()
    venue.name, venue.address, venue.city = name, address or "", city or ""
    venue.country, venue.timezone, venue.capacity, venue.is_online = country or None, timezone, capacity, is_online
    db.session.add(venue)
    db.session.flush()
    record("venue.created" if created else "venue.updated", venue, actor=actor)
    return venue
