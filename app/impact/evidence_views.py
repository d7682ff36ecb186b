"""Downloads of the evidence for funders: a session's attendance list, a course's
participants list, and a ZIP of all its lists. Staff of the course (and admins) only;
staff bound to one cohort get their cohort's people and sessions, and 404 for a session
of another cohort. The documents are built in evidence.py; these views only decide who
may have them."""
from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_login import current_user

from app.accounts.access import staff_required
from app.extensions import db
from app.impact import evidence
from app.schedule.models import CourseSession
from app.teaching.access import course_for_staff, staff_cohort

bp = Blueprint("evidence", __name__, url_prefix="/teach")


def _download(filename: str, data: bytes, mimetype: str) -> Response:
    # The names are built from slugs, dates and ids (evidence.py): nothing to quote.
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/courses/<slug>/sessions/<int:session_id>/attendance.pdf")
@staff_required
def attendance_pdf(slug: str, session_id: int):
    course = course_for_staff(slug, current_user)
    scope = staff_cohort(course.id, current_user)
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    if scope is not None and session.cohort_id not in (None, scope):  # another cohort's session
        abort(404)
    return _download(*evidence.attendance_list(course.id, session.id, scope), "application/pdf")


@bp.route("/courses/<slug>/participants.pdf")
@staff_required
def participants_pdf(slug: str):
    course = course_for_staff(slug, current_user)
    return _download(*evidence.participants_list(course.id, staff_cohort(course.id, current_user)), "application/pdf")


@bp.route("/courses/<slug>/lists.zip")
@staff_required
def lists_zip(slug: str):
    course = course_for_staff(slug, current_user)
    return _download(*evidence.all_lists(course.id, staff_cohort(course.id, current_user)), "application/zip")
