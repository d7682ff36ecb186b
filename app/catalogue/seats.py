"""Race-safe places: one conditional UPDATE per place taken or released.

Count-then-insert overbooks under concurrency (measured: 16 of 10 places on SQLite,
61 of 50 on PostgreSQL). This does not: the database checks the capacity and changes
the counter in one statement, inside the caller's transaction. The same two helpers
count the places of a course and of a session with its own places (the site-visit bus):
any model with `id`, `capacity` (None = unlimited) and `seats_taken`.
"""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from app.catalogue.models import Course
from app.core.cas import changed_rows
from app.extensions import db

log = logging.getLogger(__name__)


def take_place(model: Any, row_id: int) -> bool:
    """Take one place of `model` row `row_id` if one is free. True if taken."""
    return changed_rows(
        sa.update(model)
        .where(model.id == row_id, sa.or_(model.capacity.is_(None), model.seats_taken < model.capacity))
        .values(seats_taken=model.seats_taken + 1)
    ) == 1


def release_place(model: Any, row_id: int) -> bool:
    """Give one place back. Finding none taken breaks an invariant: it is logged (and
    `flask doctor` reports the counter), never turned into an error for the user."""
    if changed_rows(
        sa.update(model).where(model.id == row_id, model.seats_taken > 0).values(seats_taken=model.seats_taken - 1)
    ) == 1:
        return True
    log.error("integrity: released a place of %s %s that was not taken", model.__tablename__, row_id)
    return False


def take_seat(course_id: int) -> bool:
    """Take one place of a course if one is free. True if taken."""
    return take_place(Course, course_id)


def release_seat(course_id: int) -> bool:
    return release_place(Course, course_id)


def lock_course(course_id: int) -> None:
    """Serialise the enrolment moves of one course (PostgreSQL: a row lock held to the
    end of the transaction; SQLite: every web write already holds the database's write
    lock). Taking the course first, always, keeps the lock order of every move the same
    — enrolment rows after the course row — so concurrent moves queue, never deadlock."""
    db.session.execute(sa.select(Course.id).where(Course.id == course_id).with_for_update())


def refresh_counts(course: Course) -> None:
    """Reload the counters after a conditional update (the ORM copy is stale)."""
    db.session.refresh(course, attribute_names=["seats_taken", "capacity"])
