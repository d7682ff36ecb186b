from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.catalogue.models import Course
from app.core.types import UTCDateTime, enum_column, utcnow
from app.enrolment.models import Enrolment
from app.extensions import Model
from app.schedule.models import CourseSession


class StaffRole(enum.Enum):
    LEAD = "lead"
    INSTRUCTOR = "instructor"
    ASSISTANT = "assistant"


class AttendanceStatus(enum.Enum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"


class AttendanceMethod(enum.Enum):
    SHEET = "sheet"
    SELF_CHECKIN = "self_checkin"
    IMPORT = "import"


class Cohort(Model):
    __tablename__ = "cohort"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "name"),
        # "Rome" and "rome" are one cohort: two requests creating or renaming at once
        # cannot both win.
        sa.Index("uq_cohort_course_id_lower_name", "course_id", sa.text("lower(name)"), unique=True),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    course: so.Mapped[Course] = so.relationship()


class CourseStaff(Model):
    __tablename__ = "course_staff"
    __table_args__ = (sa.UniqueConstraint("course_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[StaffRole] = so.mapped_column(enum_column(StaffRole, "staff_role"))
    # Bound to one cohort. Deleting that cohort must never widen the binding to the
    # whole course (SET NULL would): the service refuses, and the database removes the
    # binding with its access should a cohort row ever go anyway.
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id", ondelete="CASCADE"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    course: so.Mapped[Course] = so.relationship()
    user: so.Mapped[User] = so.relationship()
    cohort: so.Mapped[Cohort | None] = so.relationship()


class Attendance(Model):
    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "enrolment_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_session.id", ondelete="CASCADE"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[AttendanceStatus] = so.mapped_column(enum_column(AttendanceStatus, "attendance_status"))
    method: so.Mapped[AttendanceMethod] = so.mapped_column(enum_column(AttendanceMethod, "attendance_method"))
    note: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    session: so.Mapped[CourseSession] = so.relationship()
    enrolment: so.Mapped[Enrolment] = so.relationship()
    recorded_by: so.Mapped[User | None] = so.relationship()
