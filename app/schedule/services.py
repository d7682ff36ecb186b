"""Schedule rules: sessions and series in the course's local time (create, change,
cancel, one or the rest of a series), who is told of a change, venues. Double bookings
are in `conflicts`, sign-ups for sessions with their own places in `signups`, reading
timetables in `timetable`. Nothing here commits: the caller owns the transaction."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.models import Course
from app.core.cas import compare_and_set
from app.core.errors import Conflict, DomainError, NotFound
from app.core.timezones import is_valid_zone, localize, skeleton, to_local
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.notifications.services import queue_email
from app.schedule.conflicts import describe_clash, find_conflicts
from app.schedule.models import (
    CourseSession,
    SessionKind,
    SessionStatus,
    Venue,
)
from app.schedule.signals import cohort_belongs
from app.schedule.timetable import visible_to_enrolment_clause

MAX_OCCURRENCES = 200


class ScheduleError(DomainError):
    pass


class ChangedMeanwhile(Conflict):
    """The session changed since the form was opened (another tab, a colleague)."""


class ScheduleConflict(Conflict):
    """A venue or an instructor is already booked; staff may override with a reason."""

    def __init__(self, message: str, clashes: list[CourseSession]):
        super().__init__(message, field="override_reason")
        self.clashes = clashes


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
    if end_day != data.day and ends_at - starts_at > dt.timedelta(hours=12):
        raise ScheduleError(_("The session must end after it starts; one that runs past midnight can last at "
                              "most 12 hours."), field="end")
    if ends_at <= starts_at:
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
    if data.cohort_id is not None and not cohort_belongs(data.cohort_id, course.id):
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
                    override_reason: str | None = None, seen_version: int | None = None) -> list[CourseSession]:
    """Change one session, or this and the following ones of its series. For the
    following ones, each keeps its own day shifted by as many days as this one moved.
    `seen_version`: the session's version when the form was opened; a change made since
    (another tab, a colleague) wins, and this one is refused rather than undoing it."""
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
        # The iCalendar SEQUENCE doubles as the row's version: one request per version wins,
        # and for the session on the form, the version it was opened on.
        version = seen_version if target.id == session.id and seen_version is not None else target.sequence
        if not compare_and_set(target, CourseSession.sequence == version, sequence=target.sequence + 1, **wanted):
            if already():
                continue
            raise ChangedMeanwhile(_("This session was changed by someone else meanwhile; look at it again."))
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


def notify_change(session: CourseSession, change: str, **context: Any) -> None:
    """Email everyone the session concerns, in their language and their time zone."""
    for person in affected_people(session):
        queue_email(person, "session_changed", change=change, session=session, course=session.course,
                    tz=person.timezone, **context)


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
