"""Participant-facing enrolment: enrol, apply, withdraw; the enrolment panel of a course page."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalogue import signals
from app.catalogue.models import Course, CourseStatus, EnrolmentMode
from app.catalogue.views import course_page
from app.core.db import begin_write, deferred_reads
from app.core.errors import DomainError
from app.core.http import domain_error_to_form
from app.core.writes import write
from app.enrolment import services
from app.enrolment.forms import ConfirmForm, application_form_for
from app.enrolment.models import ACTIVE, HOLDS_PLACE, EnrolmentStatus
from app.extensions import db

bp = Blueprint("enrolment", __name__)

S = EnrolmentStatus


def _public_course_or_404(slug: str) -> Course:
    course = db.session.scalar(
        sa.select(Course).where(Course.slug == slug, Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.CANCELLED)))
    )
    if course is None:
        abort(404)
    return course


def questions_of(course: Course) -> list[str]:
    return [line.strip() for line in (course.application_questions or "").splitlines() if line.strip()][:10]


@signals.course_page.connect
def _enrolment_panel(_app, course: Course, user) -> dict:  # noqa: ANN001
    enrolment = services.get_enrolment(course.id, user.id) if user.is_authenticated else None
    return {
        "window": services.enrolment_window(course),
        "my_enrolment": enrolment,
        "my_position": services.waitlist_position(enrolment) if enrolment else None,
        "can_withdraw": services.can_withdraw(enrolment) if enrolment else False,
        "waitlist_length": services.waitlist_length(course.id),
        "confirm_form": ConfirmForm(),
    }


def _refused(error: DomainError, slug: str):
    """Show the course page again with the reason, and a 4xx status."""
    flash(error.message, "danger")
    response = make_response(course_page(slug))
    response.status_code = error.status_code
    return response


def _flash_outcome(enrolment) -> None:  # noqa: ANN001
    """Say how it went. Read after the commit, without SQLite's write lock: a rush of
    enrolments should queue for its writes only."""
    with deferred_reads():
        if enrolment.status is S.ACCEPTED:
            flash(_("You are enrolled in %(course)s. We have sent you a confirmation email.", course=enrolment.course.title), "success")
        elif enrolment.status is S.WAITLISTED:
            flash(_("%(course)s is full: you are on the waiting list, in position %(position)d. You will get a place automatically if one frees up.",
                    course=enrolment.course.title, position=services.waitlist_position(enrolment)), "warning")
        elif enrolment.status is S.PENDING:
            flash(_("Your application for %(course)s has been sent. The organisers will review it and email you.",
                    course=enrolment.course.title), "success")


@bp.route("/courses/<slug>/enrol", methods=["POST"])
@login_required
def enrol(slug: str):
    course = _public_course_or_404(slug)
    if course.enrolment_mode is EnrolmentMode.APPROVAL:
        return redirect(url_for("enrolment.apply", slug=slug))
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with write(begin=True) as outcome:
        enrolment = services.enrol(course.id, current_user)
    if outcome.error:
        return _refused(outcome.error, slug)
    _flash_outcome(enrolment)
    return redirect(url_for("catalogue.course_page", slug=slug))


def _already_applied(enrolment) -> bool:  # noqa: ANN001
    """What the apply page shows instead of the form (enrolment/apply.html)."""
    return enrolment is not None and enrolment.status in (*ACTIVE, *HOLDS_PLACE)


@bp.route("/courses/<slug>/apply", methods=["GET", "POST"])
@login_required
def apply(slug: str):
    course = _public_course_or_404(slug)
    if course.enrolment_mode is not EnrolmentMode.APPROVAL:
        return redirect(url_for("catalogue.course_page", slug=slug))
    questions = questions_of(course)
    form = application_form_for(questions)
    window = services.enrolment_window(course)
    existing = services.get_enrolment(course.id, current_user.id)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.validate_on_submit():
        answers = {q: getattr(form, f"answer_{i}").data for i, q in enumerate(questions)}
        motivation = form.motivation.data
        with write(begin=True) as outcome:
            enrolment = services.enrol(course.id, current_user, motivation=motivation, answers=answers)
        if not outcome.error:
            _flash_outcome(enrolment)
            return redirect(url_for("participant.dashboard"))
        status = outcome.error.status_code
        # A second tab (or a second click) applied first: the page's own banner says so once.
        existing = services.get_enrolment(course.id, current_user.id)
        if not _already_applied(existing):
            domain_error_to_form(outcome.error, form)
    return render_template("enrolment/apply.html", course=course, form=form, window=window, existing=existing,
                           already_applied=_already_applied(existing)), status


@bp.route("/courses/<slug>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(slug: str):
    """GET asks "Withdraw from this course?" and says what it means; POST withdraws."""
    course = _public_course_or_404(slug)
    form = ConfirmForm()
    if request.method == "GET":
        enrolment = services.get_enrolment(course.id, current_user.id)
        if enrolment is None:
            abort(404)
        return render_template("enrolment/withdraw.html", course=course, enrolment=enrolment, form=form,
                               can_withdraw=services.can_withdraw(enrolment))
    if not form.validate_on_submit():
        abort(400)
    begin_write()
    enrolment = services.get_enrolment(course.id, current_user.id)
    if enrolment is None:
        abort(404)
    with write() as outcome:
        services.withdraw(enrolment, current_user)
    if outcome.error:
        return _refused(outcome.error, slug)
    flash(_("You have withdrawn from %(course)s.", course=course.title), "info")
    return redirect(url_for("participant.dashboard"))
