"""Read-only public JSON API v1: published courses only."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from app.catalogue import services
from app.catalogue.models import Course, CourseStatus
from app.core.http import external_url
from app.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def course_json(course: Course) -> dict:
    return {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "kind": course.kind.value,
        "status": course.status.value,
        "programme": course.programme.slug if course.programme else None,
        "language": course.language,
        "online": course.is_online,
        "city": course.city,
        "country": course.country,
        "timezone": course.timezone,
        "starts_on": course.starts_on.isoformat(),
        "ends_on": course.ends_on.isoformat(),
        "capacity": course.capacity,
        "places_left": course.places_left,
        "enrolment_mode": course.enrolment_mode.value,
        "enrolment_open": services.enrolment_open(course),
        "enrolment_opens_at": course.enrolment_opens_at.isoformat() if course.enrolment_opens_at else None,
        "enrolment_closes_at": course.enrolment_closes_at.isoformat() if course.enrolment_closes_at else None,
        "url": external_url("catalogue.course_page", slug=course.slug),
    }


def published_course_or_404(slug: str) -> Course:
    course = db.session.scalar(services.public_courses().where(Course.slug == slug, Course.status == CourseStatus.PUBLISHED))
    if course is None:
        abort(404)
    return course


@bp.route("/courses")
def courses():
    filters = services.CourseFilters.from_args(request.args)
    try:
        stmt = services.filtered_courses(filters)
    except services.FilterError:
        abort(400)
    return paginated_json(stmt, course_json)


def paginated_json(stmt, to_json, default_per_page: int = 20):  # noqa: ANN001
    """One page of `stmt` as `{"items", "page", "pages", "total"}`: `page` (from 1) and
    `per_page` (1–100) from the query; out of range answers 400."""
    try:
        page_number = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default_per_page))
    except ValueError:
        abort(400)
    if page_number < 1 or not 1 <= per_page <= 100:
        abort(400)
    page = db.paginate(stmt, page=page_number, per_page=per_page, error_out=False)
    return jsonify(items=[to_json(item) for item in page.items], page=page.page, pages=page.pages, total=page.total)


@bp.route("/courses/<slug>")
def course(slug: str):
    return jsonify(course_json(published_course_or_404(slug)))
