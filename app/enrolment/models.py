from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.catalogue.models import Course
from app.core.types import UTCDateTime, enum_column, utcnow
from app.extensions import Model


class EnrolmentStatus(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"


HOLDS_PLACE = (EnrolmentStatus.ACCEPTED, EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)
ACTIVE = (EnrolmentStatus.PENDING, EnrolmentStatus.ACCEPTED, EnrolmentStatus.WAITLISTED)


class Enrolment(Model):
    __tablename__ = "enrolment"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "user_id"),
        # Rosters, waiting lists and counts of one course by status.
        sa.Index("ix_enrolment_course_id_status", "course_id", "status"),
        # Applications waiting, by course and age (the admin home), from the index alone.
        sa.Index("ix_enrolment_status_course_id_created_at", "status", "course_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    status: so.Mapped[EnrolmentStatus] = so.mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status")
    )
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id", ondelete="SET NULL"), index=True)
    motivation: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    answers: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # First in, first promoted: the time the participant joined the waiting list.
    waitlisted_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    decided_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    completion_passed: so.Mapped[bool | None] = so.mapped_column()
    completion_note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    completion_recorded_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course: so.Mapped[Course] = so.relationship()
    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    decided_by: so.Mapped[User | None] = so.relationship(foreign_keys=[decided_by_id])

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE
