from __future__ import annotations

import datetime as dt
import enum
import secrets

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.catalogue.models import Course
from app.core.types import UTCDateTime, enum_column, utcnow
from app.extensions import Model, db


class SessionKind(enum.Enum):
    LECTURE = "lecture"
    WORKSHOP = "workshop"
    SEMINAR = "seminar"
    FORUM = "forum"
    SITE_VISIT = "site_visit"
    WEBINAR = "webinar"
    ASSESSMENT = "assessment"
    BREAK = "break"


class SessionStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Venue(Model):
    __tablename__ = "venue"
    __table_args__ = (sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    city: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    capacity: so.Mapped[int | None] = so.mapped_column()
    is_online: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Venue {self.name}>"


session_instructor = sa.Table(
    "session_instructor",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("course_session.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_session_instructor_user_id", "user_id"),  # an instructor's sessions
)


def _checkin_secret() -> str:
    return secrets.token_hex(32)


class CourseSession(Model):
    __tablename__ = "course_session"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        sa.CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"),
        sa.CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        # Check-in looks for the sessions of a person's courses around now.
        sa.Index("ix_course_session_course_id_starts_at", "course_id", "starts_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id", ondelete="SET NULL"), index=True)
    series_id: so.Mapped[str | None] = so.mapped_column(sa.String(36), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    kind: so.Mapped[SessionKind] = so.mapped_column(enum_column(SessionKind, "session_kind"))
    status: so.Mapped[SessionStatus] = so.mapped_column(
        enum_column(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    starts_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), index=True)
    ends_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime())
    venue_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("venue.id"), index=True)
    join_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    capacity: so.Mapped[int | None] = so.mapped_column()
    seats_taken: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    is_mandatory: so.Mapped[bool] = so.mapped_column(default=False)
    counts_for_attendance: so.Mapped[bool] = so.mapped_column(default=True)
    sequence: so.Mapped[int] = so.mapped_column(default=0)  # iCalendar SEQUENCE, raised on change
    checkin_secret: so.Mapped[str] = so.mapped_column(sa.String(64), default=_checkin_secret)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course: so.Mapped[Course] = so.relationship()
    venue: so.Mapped[Venue | None] = so.relationship()
    instructors: so.Mapped[list[User]] = so.relationship(secondary=session_instructor)

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class SessionSignup(Model):
    """A place on a session with its own capacity (a site-visit bus)."""

    __tablename__ = "session_signup"
    __table_args__ = (sa.UniqueConstraint("session_id", "enrolment_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_session.id", ondelete="CASCADE"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class SessionDecline(Model):
    """"I am not coming": a participant's answer to a session with its own places, so
    that Ponte stops reminding them to sign up. Signing up later removes it."""

    __tablename__ = "session_decline"
    __table_args__ = (sa.UniqueConstraint("session_id", "enrolment_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_session.id", ondelete="CASCADE"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
