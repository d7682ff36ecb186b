from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.core.types import UTCDateTime, enum_column, utcnow
from app.extensions import Model

if TYPE_CHECKING:  # for the type checker only: catalogue imports no schedule at run time
    from app.schedule.models import Venue


class CourseKind(enum.Enum):
    SUMMER_SCHOOL = "summer_school"
    WINTER_SCHOOL = "winter_school"
    COURSE = "course"
    SEMINAR = "seminar"
    FORUM = "forum"
    SITE_VISIT = "site_visit"
    WEBINAR = "webinar"
    WORKSHOP = "workshop"


class EnrolmentMode(enum.Enum):
    OPEN = "open"
    APPROVAL = "approval"


class CourseStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


class Programme(Model):
    __tablename__ = "programme"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Printed on attendance and participant lists (evidence for funders): "Funded by …"
    # and the funder's logo (PNG or JPEG bytes, checked on upload).
    funding_statement: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    funding_logo: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    courses: so.WriteOnlyMapped[Course] = so.relationship(back_populates="programme")


class Course(Model):
    """One edition of an activity. `seats_taken` is the race-safe count of held places."""

    __tablename__ = "course"
    __table_args__ = (
        sa.CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        sa.CheckConstraint(
            "min_attendance_rate >= 0 AND min_attendance_rate <= 100", name="min_attendance_rate_percent"
        ),
        # "Not ended yet" reads recent and coming courses only, with their zones (catalogue.services.not_ended).
        sa.Index("ix_course_ends_on_timezone", "ends_on", "timezone"),
        # Public lists: a status and "not ended" read the recent end of the index, not ten years of it.
        sa.Index("ix_course_status_ends_on", "status", "ends_on"),
        # The cities of the catalogue's filter, read from the index alone. (No index may lead
        # with status then starts_on: SQLite, without statistics, prefers it for "starts
        # before" ranges, which read all of history; see tests/integrity/test_query_plans.py.)
        sa.Index("ix_course_status_city_is_online", "status", "city", "is_online"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    kind: so.Mapped[CourseKind] = so.mapped_column(enum_column(CourseKind, "course_kind"), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="en")
    venue_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("venue.id"), index=True)
    is_online: so.Mapped[bool] = so.mapped_column(default=False)
    # A "train the trainer" course: who completes it and later teaches multiplies its reach.
    train_the_trainer: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    city: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    starts_on: so.Mapped[dt.date] = so.mapped_column(sa.Date, index=True)
    ends_on: so.Mapped[dt.date] = so.mapped_column(sa.Date)
    capacity: so.Mapped[int | None] = so.mapped_column()
    seats_taken: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    enrolment_mode: so.Mapped[EnrolmentMode] = so.mapped_column(
        enum_column(EnrolmentMode, "enrolment_mode"), default=EnrolmentMode.OPEN
    )
    application_questions: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    enrolment_opens_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    enrolment_closes_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    withdrawal_deadline: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    status: so.Mapped[CourseStatus] = so.mapped_column(
        enum_column(CourseStatus, "course_status"), default=CourseStatus.DRAFT
    )
    # Certificate settings
    offers_attendance_certificate: so.Mapped[bool] = so.mapped_column(default=True)
    offers_completion_certificate: so.Mapped[bool] = so.mapped_column(default=True)
    min_attendance_rate: so.Mapped[int] = so.mapped_column(default=75)
    auto_issue_after_days: so.Mapped[int | None] = so.mapped_column()
    # Set when automatic issue has run for the course (cleared when completion changes),
    # so that the job does not scan finished courses forever.
    auto_issued_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    signatories: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    programme: so.Mapped[Programme | None] = so.relationship(back_populates="courses")
    venue: so.Mapped[Venue | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"

    @property
    def places_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_public(self) -> bool:
        return self.status in (CourseStatus.PUBLISHED, CourseStatus.CANCELLED, CourseStatus.ARCHIVED)
