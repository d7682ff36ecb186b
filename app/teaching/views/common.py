"""What the instructor's area shares: its blueprint (/teach), the template global that
says which cohort a staff member is bound to, the instructors panel of a course page,
and the person columns of its CSV exports."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import User
from app.catalogue import signals
from app.catalogue.models import Course
from app.core.labels import label
from app.enrolment.models import EnrolmentStatus
from app.extensions import db
from app.teaching.access import staff_cohort
from app.teaching.models import CourseStaff, StaffRole

bp = Blueprint("teaching", __name__, url_prefix="/teach")


@signals.course_page.connect
def _instructors(_app, course: Course, user) -> dict:  # noqa: ANN001
    staff = db.session.scalars(
        sa.select(CourseStaff)
        .join(User, User.id == CourseStaff.user_id)
        .where(CourseStaff.course_id == course.id, CourseStaff.role.in_((StaffRole.LEAD, StaffRole.INSTRUCTOR)),
               ~User.is_erased_sql())  # an erased instructor is not shown to the public
        .options(so.contains_eager(CourseStaff.user))
        .order_by(CourseStaff.role, CourseStaff.id)
    ).all()
    return {"instructors": staff}


@bp.app_template_global("staff_cohort_of")
def staff_cohort_of(course: Course) -> int | None:
    """The one cohort the signed-in staff member is bound to on `course` (None: all)."""
    return staff_cohort(course.id, current_user)


def person_header() -> list[str]:
    return [_("Full name"), _("Name in native script"), _("Email"), _("Organisation"), _("Type of organisation"),
            _("Country")]


def person_cells(u: User) -> list[str]:
    return [u.full_name, u.native_name or "", u.email, u.organisation or "",
            label(u.organisation_type) if u.organisation_type else "", u.country or ""]


def seen_status(value: str | None) -> EnrolmentStatus | None:
    """The status a staff form says its page showed (None when it does not say): a
    decision is about what was on the page. Anything else is a bad request."""
    try:
        return EnrolmentStatus(value) if value else None
    except ValueError:
        abort(400)
