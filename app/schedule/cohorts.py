"""The one thing schedule needs to know of cohorts (which live in teaching): whether a
cohort id belongs to a course. Read through the table, so schedule imports no teaching."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db


def cohort_belongs(cohort_id: int, course_id: int) -> bool:
    cohort = db.metadata.tables["cohort"]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(cohort).where(cohort.c.id == cohort_id, cohort.c.course_id == course_id)
    ) == 1
