from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from app.catalogue import services, signals
from app.catalogue.models import Course, CourseKind
from app.core.cache import anonymous_page_cache
from app.extensions import db

bp = Blueprint("catalogue", __name__)
# Cards, pages and badges ask one rule whether people may enrol now.
bp.add_app_template_global(services.enrolment_window, "enrolment_window")


@bp.route("/")
@anonymous_page_cache
def home():
    courses = db.session.scalars(services.upcoming_courses(limit=12)).unique().all()
    return render_template("catalogue/home.html", courses=courses)


@bp.route("/courses")
@anonymous_page_cache
def course_list():
    filters = services.CourseFilters.from_args(request.args)
    try:
        stmt = services.filtered_courses(filters)
    except services.FilterError:
        abort(400)
    page = db.paginate(stmt, per_page=18, error_out=False, max_per_page=50)
    return render_template(
        "catalogue/list.html", page=page, filters=filters, args=filters.as_args(),
        kinds=list(CourseKind), choices=services.filter_choices(filters.include_past),
    )


@bp.route("/courses/<slug>")
def course_page(slug: str):
    course = db.session.scalar(services.public_courses().where(Course.slug == slug))
    if course is None:
        abort(404)
    context: dict = {}
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for _receiver, extra in signals.course_page.send(app, course=course, user=current_user):
        context.update(extra or {})
    return render_template("catalogue/course.html", course=course, **context)
