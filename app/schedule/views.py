from __future__ import annotations

from flask import Blueprint, jsonify

from app.catalogue import signals
from app.catalogue.api import published_course_or_404
from app.core.timezones import to_local
from app.catalogue.models import Course
from app.schedule import services

bp = Blueprint("schedule", __name__)


@signals.course_page.connect
def _schedule_preview(_app, course: Course, user) -> dict:  # noqa: ANN001
    sessions = services.course_sessions(course.id)
    return {"schedule_days": services.group_by_local_day(sessions, course.timezone)}


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

    items = [session_json(s) for s in services.course_sessions(course.id)]
    return jsonify(items=items, page=1, pages=1, total=len(items))
