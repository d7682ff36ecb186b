"""Who may do what on a course: admins everything; staff only their own courses."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, has_request_context, request

from app.accounts.models import User
from app.catalogue.models import Course
from app.extensions import db
from app.schedule import signals as schedule_signals
from app.teaching.models import Cohort, CourseStaff, StaffRole

MANAGERS = (StaffRole.LEAD, StaffRole.INSTRUCTOR)


@schedule_signals.cohort_of_course.connect
def _cohort_of_course(course_id: int, cohort_id: int) -> bool:
    return db.session.scalar(sa.select(Cohort.id).where(Cohort.id == cohort_id, Cohort.course_id == course_id)) is not None


@schedule_signals.on_course_staff.connect
def _on_course_staff(course_id: int, user_id: int) -> bool:
    return db.session.scalar(sa.select(CourseStaff.id).where(
        CourseStaff.course_id == course_id, CourseStaff.user_id == user_id).limit(1)) is not None


def _staff_row(course_id: int, user: User) -> sa.Row | None:
    """(role, cohort_id) of `user` on the course's staff, or None. A page asks several
    times (the course, the role, the cohort): a GET reads it once and keeps it on the
    request; a write always reads it afresh."""
    memo = request.__dict__.setdefault("ponte_staff_rows", {}) if has_request_context() and request.method == "GET" else {}
    key = (course_id, user.id)
    if key not in memo:
        memo[key] = db.session.execute(sa.select(CourseStaff.role, CourseStaff.cohort_id).where(
            CourseStaff.course_id == course_id, CourseStaff.user_id == user.id)).first()
    return memo[key]


def staff_role(course_id: int, user: User) -> StaffRole | None:
    row = _staff_row(course_id, user)
    return row.role if row else None


def course_for_staff(slug: str, user: User, *, manage: bool = False, whole_course: bool = False) -> Course:
    """The course if `user` is an admin or on its staff (a lead or instructor when
    `manage`; not bound to one cohort when `whole_course`); otherwise 404, so that other
    people's courses are not even confirmed."""
    course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    if user.is_admin:
        return course
    row = _staff_row(course.id, user)
    if row is None or (manage and row.role not in MANAGERS) or (whole_course and row.cohort_id is not None):
        abort(404)
    return course


def in_scope(cohort_id: int | None, scope: int | None) -> bool:
    """Whether something of `cohort_id` (None = the whole course) is within a staff
    member's `scope` (None = the whole course; else their one cohort). Staff bound to a
    cohort reach only that cohort's people and sessions."""
    return scope is None or cohort_id == scope


def courses_of(user: User) -> sa.Select:
    stmt = sa.select(Course).order_by(Course.starts_on.desc(), Course.id)
    if not user.is_admin:
        stmt = stmt.where(Course.id.in_(sa.select(CourseStaff.course_id).where(CourseStaff.user_id == user.id)))
    return stmt


def staff_cohort(course_id: int, user: User) -> int | None:
    """The cohort a cohort-bound staff member is limited to; None for the whole course."""
    if user.is_admin:
        return None
    row = _staff_row(course_id, user)
    return row.cohort_id if row else None
