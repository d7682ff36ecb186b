"""Reading the schedule: a course's sessions, a person's timetable (only what their
enrolment lets them see), join links, days in a zone, overlaps with one's other courses."""
from __future__ import annotations

import datetime as dt
from itertools import groupby

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.catalogue.models import Course
from app.core.timezones import to_local
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.schedule.models import (
    CourseSession,
    SessionStatus,
    session_instructor,
)

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
        # One set of ids (a few dozen, whatever the years around them), then the sessions by
        # key: with an OR of two sets PostgreSQL read every session and every course.
        .where(CourseSession.id.in_(sa.union(as_participant, as_instructor)))
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
    cohort_id = enrolment.cohort_id if enrolment is not None else None
    return {
        s.id for s in with_links
        if any(i.id == user.id for i in s.instructors)
        or (holds and (s.cohort_id is None or s.cohort_id == cohort_id))
    }


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
