"""Schedule queries: sessions of a course, grouped by day in the course's zone."""
from __future__ import annotations

import datetime as dt
from itertools import groupby

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.core.timezones import to_local
from app.extensions import db
from app.schedule.models import CourseSession, SessionStatus


def course_sessions(course_id: int, *, include_cancelled: bool = True) -> list[CourseSession]:
    stmt = (
        sa.select(CourseSession)
        .where(CourseSession.course_id == course_id)
        .options(so.joinedload(CourseSession.venue), so.selectinload(CourseSession.instructors))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if not include_cancelled:
        stmt = stmt.where(CourseSession.status == SessionStatus.SCHEDULED)
    return list(db.session.scalars(stmt).unique())


def group_by_local_day(sessions: list[CourseSession], tz_name: str) -> list[tuple[dt.date, list[CourseSession]]]:
    """Days in the place's zone, so a session never slides across midnight for a viewer."""
    return [(day, list(items)) for day, items in groupby(sessions, key=lambda s: to_local(s.starts_at, tz_name).date())]
