"""Double bookings: sessions that overlap in the same venue or with the same instructor,
and how a clash is described to someone who may or may not see the other course."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import User
from app.catalogue.models import Course, CourseStatus
from app.core.timezones import format_range, skeleton, to_local
from app.extensions import db
from app.schedule.models import (
    CourseSession,
    SessionStatus,
    Venue,
    session_instructor,
)
from app.schedule.signals import on_staff

# --- conflicts ----------------------------------------------------------------------

def find_conflicts(starts_at: dt.datetime, ends_at: dt.datetime, venue_id: int | None, instructor_ids: list[int],
                   exclude_ids: Sequence[int] = ()) -> list[CourseSession]:
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
    if venue_id and clash.venue is not None and clash.venue_id == venue_id:
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
