from __future__ import annotations

from flask import Blueprint, Response, abort, flash, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalogue import signals
from app.catalogue.api import paginated_json, published_course_or_404
from app.catalogue.models import Course, CourseStatus
from app.catalogue.views import course_page
from app.core.db import begin_write
from app.core.timezones import to_local
from app.core.writes import write
from app.enrolment.forms import ConfirmForm
from app.extensions import db
from app.schedule import signups
from app.schedule.ical import build_calendar
from app.schedule.models import CourseSession
from app.schedule.timetable import (
    course_sessions,
    course_sessions_query,
    group_by_local_day,
    join_link_sessions,
    overlaps_with_my_courses,
)

bp = Blueprint("schedule", __name__)
# Sessions with their own places still waiting for a "sign up" or "not coming": the
# course page, /me and the enrolment email remind of them.
bp.add_app_template_global(signups.signups_awaited, "signups_awaited")


@signals.course_page.connect
def _schedule_preview(_app, course: Course, user) -> dict:  # noqa: ANN001
    sessions = course_sessions(course.id)
    join_links = join_link_sessions(sessions, course, user)
    signed_up = signups.my_signups(user, [s.id for s in sessions if s.capacity]) if user.is_authenticated else set()
    awaited = signups.signups_awaited(user, course.id)
    return {
        "awaited": awaited,
        "schedule_days": group_by_local_day(sessions, course.timezone),
        "join_links": join_links,
        "signed_up": signed_up,
        "overlaps": overlaps_with_my_courses(course, user, sessions),
        "signup_form": ConfirmForm(),
    }


@bp.route("/api/v1/courses/<slug>/sessions")
def api_sessions(slug: str):
    course = published_course_or_404(slug)

    def session_json(s) -> dict:  # noqa: ANN001
        return {
            "id": s.id,
            "title": s.title,
            "kind": s.kind.value,
            "status": s.status.value,
            "starts_at": to_local(s.starts_at, course.timezone).isoformat(),
            "ends_at": to_local(s.ends_at, course.timezone).isoformat(),
            "timezone": course.timezone,
            "venue": {"name": s.venue.name, "city": s.venue.city, "online": s.venue.is_online} if s.venue else None,
            "mandatory": s.is_mandatory,
        }

    return paginated_json(course_sessions_query(course.id), session_json, default_per_page=50)


@bp.route("/courses/<slug>/sessions.ics")
def course_calendar(slug: str):
    course = published_course_or_404(slug)
    body = build_calendar(course_sessions(course.id), name=course.title)
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{course.slug}.ics"'})


def _session_for_participant(session_id: int) -> CourseSession:
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course.status is not CourseStatus.PUBLISHED:
        abort(404)
    return session


def _signup_move(session_id: int, move, done: str, category: str):  # noqa: ANN001
    """Sign up or give up a place, then back to the course page (with the reason and a 4xx if refused)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    begin_write()
    session = _session_for_participant(session_id)
    slug, title = session.course.slug, session.title
    with write() as outcome:
        move(session, current_user)
    if outcome.error:
        flash(outcome.error.message, "danger")
        response = make_response(course_page(slug))
        response.status_code = outcome.error.status_code
        return response
    flash(done % {"session": title}, category)
    return redirect(url_for("catalogue.course_page", slug=slug))


@bp.route("/sessions/<int:session_id>/signup", methods=["POST"])
@login_required
def signup(session_id: int):
    return _signup_move(session_id, signups.sign_up, _("You have a place on “%(session)s”."), "success")


@bp.route("/sessions/<int:session_id>/decline", methods=["POST"])
@login_required
def decline(session_id: int):
    return _signup_move(session_id, signups.decline, _("Noted: you are not coming to “%(session)s”."), "info")


@bp.route("/sessions/<int:session_id>/signup/cancel", methods=["POST"])
@login_required
def cancel_signup(session_id: int):
    return _signup_move(session_id, signups.cancel_signup, _("You have given up your place on “%(session)s”."), "info")
