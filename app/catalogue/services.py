"""Catalogue queries: what the public may see."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.catalogue.models import Course, CourseStatus
from app.core.types import utcnow


def public_courses() -> sa.Select:
    """Published (and cancelled, so people learn of it) courses, never drafts or archives."""
    return (
        sa.select(Course)
        .where(Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.CANCELLED)))
        .options(so.joinedload(Course.programme), so.joinedload(Course.venue))
    )


def upcoming_courses(limit: int | None = None, today: dt.date | None = None) -> sa.Select:
    today = today or utcnow().date()
    stmt = (
        public_courses()
        .where(Course.status == CourseStatus.PUBLISHED, Course.ends_on >= today)
        .order_by(Course.starts_on, Course.id)
    )
    return stmt.limit(limit) if limit else stmt


def enrolment_open(course: Course, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    if course.status is not CourseStatus.PUBLISHED:
        return False
    if course.enrolment_opens_at and now < course.enrolment_opens_at:
        return False
    if course.enrolment_closes_at and now >= course.enrolment_closes_at:
        return False
    return True
