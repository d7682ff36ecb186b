from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from app.catalogue import services
from app.catalogue.models import Course, CourseKind
from app.extensions import db

bp = Blueprint("catalogue", __name__)


@bp.route("/")
def home():
    courses = db.session.scalars(services.upcoming_courses(limit=12)).unique().all()
    return render_template("catalogue/home.html", courses=courses)


@bp.route("/courses")
def course_list():
    q = (request.args.get("q") or "").strip()[:100]
    kind = request.args.get("kind") or ""
    stmt = services.upcoming_courses()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Course.title).like(like), sa.func.lower(Course.summary).like(like)))
    if kind:
        try:
            stmt = stmt.where(Course.kind == CourseKind(kind))
        except ValueError:
            abort(400)
    page = db.paginate(stmt, per_page=20, error_out=False)
    return render_template("catalogue/list.html", page=page, q=q, kind=kind, kinds=list(CourseKind))


@bp.route("/courses/<slug>")
def course_page(slug: str):
    course = db.session.scalar(services.public_courses().where(Course.slug == slug))
    if course is None:
        abort(404)
    return render_template(
        "catalogue/course.html", course=course, enrolment_open=services.enrolment_open(course)
    )
