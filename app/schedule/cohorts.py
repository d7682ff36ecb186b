"""What schedule needs to know of teaching: whether a cohort id belongs to a course, and
whether a user is on a course's staff. Read through the tables, so schedule imports no
teaching."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db


def cohort_belongs(cohort_id: int, course_id: int) -> bool:
    cohort = db.metadata.tables["cohort"]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(cohort).where(cohort.c.id == cohort_id, cohort.c.course_id == course_id)
    ) == 1


def on_staff(course_id: int, user_id: int) -> bool:
    """Whether the user is on the course's staff (any role, any cohort)."""
    staff = db.metadata.tables["course_staff"]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(staff).where(staff.c.course_id == course_id, staff.c.user_id == user_id)
    ) > 0
