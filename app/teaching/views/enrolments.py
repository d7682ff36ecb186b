"""The instructor's area (/teach): their courses and the enrolments of each."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.accounts.access import staff_required
from app.accounts.models import User
from app.catalogue.models import Course
from app.core.db import begin_write, contains
from app.core.http import csv_response, db_id, flash_form_errors
from app.core.labels import label
from app.core.writes import write
from app.enrolment import services as enrolment_services
from app.enrolment.forms import AddParticipantForm, BulkForm, ConfirmForm, EnrolmentFilterForm, ReasonForm
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.teaching.access import MANAGERS, course_for_staff, courses_of, in_scope, staff_cohort, staff_role
from app.teaching.views.common import bp, person_cells, person_header, seen_status


@bp.route("/")
@staff_required
def home():
    page = db.paginate(courses_of(current_user).options(so.joinedload(Course.programme)), per_page=20, error_out=False)
    return render_template("teaching/home.html", courses=page.items, page=page)


# --- enrolments of a course ------------------------------------------------------------

def _filtered_enrolments(course: Course, status: str, q: str) -> sa.Select:
    cohort = staff_cohort(course.id, current_user)
    stmt = (
        sa.select(Enrolment)
        .join(Enrolment.user)
        .where(Enrolment.course_id == course.id)
        .options(so.contains_eager(Enrolment.user))
        .order_by(Enrolment.created_at, Enrolment.id)
    )
    if cohort is not None:  # staff bound to one cohort see only it
        stmt = stmt.where(Enrolment.cohort_id == cohort)
    if status:
        try:
            stmt = stmt.where(Enrolment.status == EnrolmentStatus(status))
        except ValueError:
            abort(400)
    if q:
        like = contains(q)  # % and _ typed are taken literally, as everywhere else
        stmt = stmt.where(sa.or_(*(column.like(like, escape="\\") for column in (
            sa.func.lower(User.full_name), sa.func.lower(User.email), User.native_name,
            sa.func.lower(User.organisation)))))
    return stmt


def _filters() -> tuple[str, str]:
    form = EnrolmentFilterForm(request.args)
    if not form.validate():
        abort(400)
    return form.status.data or "", form.q.data or ""


def _enrolment_or_404(course: Course, enrolment_id: int) -> Enrolment:
    """An enrolment of this course within the staff member's cohort; else 404."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if (enrolment is None or enrolment.course_id != course.id
            or not in_scope(enrolment.cohort_id, staff_cohort(course.id, current_user))):
        abort(404)
    return enrolment


@bp.route("/courses/<slug>/enrolments")
@staff_required
def enrolments(slug: str):
    course = course_for_staff(slug, current_user)
    status, q = _filters()
    page = db.paginate(_filtered_enrolments(course, status, q), per_page=50, error_out=False)
    can_manage = current_user.is_admin or staff_role(course.id, current_user) in MANAGERS
    scope = staff_cohort(course.id, current_user)
    return render_template(
        "teaching/enrolments.html", course=course, page=page, status=status, q=q, statuses=list(EnrolmentStatus),
        counts=enrolment_services.status_counts(course.id, cohort_id=scope),
        positions=enrolment_services.waitlist_positions(course.id),
        can_manage=can_manage, whole_course=scope is None, confirm_form=ConfirmForm(), reason_form=ReasonForm(), add_form=AddParticipantForm(),
        bulk_form=BulkForm(),
    )


@bp.route("/courses/<slug>/enrolments.csv")
@staff_required
def export_enrolments(slug: str):
    course = course_for_staff(slug, current_user)
    status, q = _filters()
    rows = db.session.scalars(_filtered_enrolments(course, status, q)).all()
    positions = enrolment_services.waitlist_positions(course.id)
    header = person_header() + [_("Status"), _("Waiting list position"), _("Enrolled at (UTC)"), _("Motivation")]
    return csv_response(f"{course.slug}-enrolments.csv", header, (
        person_cells(e.user) + [label(e.status), positions.get(e.id, ""), e.created_at.strftime("%Y-%m-%d %H:%M"),
                                e.motivation or ""]
        for e in rows))


def _act(slug: str, enrolment_id: int, action):  # noqa: ANN001
    """Run one staff move on one enrolment, then back to the list (or the list with an error)."""
    course = course_for_staff(slug, current_user, manage=True)
    begin_write()
    enrolment = _enrolment_or_404(course, enrolment_id)
    with write() as outcome:
        message = action(enrolment)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return _list_again(slug, outcome.error.status_code)
    flash(message, "success")
    return redirect(url_for("teaching.enrolments", slug=slug, **_keep_filters()))


def _seen() -> EnrolmentStatus | None:
    return seen_status(request.form.get("seen"))


def _keep_filters() -> dict[str, Any]:
    return {k: v for k, v in (("status", request.args.get("status", "")), ("q", request.args.get("q", ""))) if v}


def _list_again(slug: str, status_code: int):
    response = enrolments(slug)
    return response if isinstance(response, Response) else (response, status_code)


@bp.route("/courses/<slug>/enrolments/<int:enrolment_id>/approve", methods=["POST"])
@staff_required
def approve(slug: str, enrolment_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)

    def action(e: Enrolment) -> str:
        status = enrolment_services.approve(e, current_user, seen=_seen())
        if status is EnrolmentStatus.ACCEPTED:
            return _("%(name)s is accepted.", name=e.user.full_name)
        return _("The activity is full: %(name)s is on the waiting list.", name=e.user.full_name)

    return _act(slug, enrolment_id, action)


@bp.route("/courses/<slug>/enrolments/<int:enrolment_id>/waitlist", methods=["POST"])
@staff_required
def waitlist(slug: str, enrolment_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)

    def action(e: Enrolment) -> str:
        enrolment_services.move_to_waitlist(e, current_user, seen=_seen())
        return _("%(name)s is on the waiting list.", name=e.user.full_name)

    return _act(slug, enrolment_id, action)


def _reason_action(slug: str, enrolment_id: int, move, done: str):  # noqa: ANN001
    form = ReasonForm()
    if not form.validate_on_submit():
        course_for_staff(slug, current_user, manage=True)
        flash_form_errors(form, _("Please give a reason; the participant will read it."))
        return _list_again(slug, 400)

    def action(e: Enrolment) -> str:
        move(e, current_user, form.reason.data, seen=_seen())
        return done % {"name": e.user.full_name}

    return _act(slug, enrolment_id, action)


@bp.route("/courses/<slug>/enrolments/<int:enrolment_id>/reject", methods=["POST"])
@staff_required
def reject(slug: str, enrolment_id: int):
    return _reason_action(slug, enrolment_id, enrolment_services.reject, _("%(name)s has been rejected."))


@bp.route("/courses/<slug>/enrolments/<int:enrolment_id>/cancel", methods=["POST"])
@staff_required
def cancel(slug: str, enrolment_id: int):
    return _reason_action(slug, enrolment_id, enrolment_services.cancel, _("The enrolment of %(name)s is cancelled."))


@bp.route("/courses/<slug>/enrolments/bulk", methods=["POST"])
@staff_required
def bulk(slug: str):
    course = course_for_staff(slug, current_user, manage=True)
    form = BulkForm()
    try:
        ids = [db_id(v) for v in request.form.getlist("ids")][:1000]
    except ValueError:
        abort(400)
    if not form.validate_on_submit() or not ids:
        flash(_("Choose at least one application and an action."), "danger")
        return _list_again(slug, 400)
    if form.action.data == "reject" and not form.reason.data:
        flash(_("Please give a reason; the participant will read it."), "danger")
        return _list_again(slug, 400)
    begin_write()
    chosen = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.id.in_(ids))
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    scope = staff_cohort(course.id, current_user)
    if len(chosen) != len(set(ids)) or not all(in_scope(e.cohort_id, scope) for e in chosen):
        abort(404)
    with write() as outcome:  # all or nothing: one refusal leaves every selected enrolment as it was
        decided = enrolment_services.decide_applications(chosen, current_user, approving=form.action.data == "approve",
                                                         reason=form.reason.data or "")
    if outcome.error:
        flash(outcome.error.message, "danger")
        return _list_again(slug, outcome.error.status_code)
    flash(ngettext("%(num)d enrolment updated.", "%(num)d enrolments updated.", len(chosen)), "success")
    if waiting := decided.count(EnrolmentStatus.WAITLISTED):
        flash(ngettext("%(num)d of them went on the waiting list: the activity is full.",
                       "%(num)d of them went on the waiting list: the activity is full.", waiting), "warning")
    return redirect(url_for("teaching.enrolments", slug=slug, **_keep_filters()))


@bp.route("/courses/<slug>/enrolments/add", methods=["POST"])
@staff_required
def add(slug: str):
    # A newcomer belongs to no cohort yet: adding people is for staff of the whole course.
    course = course_for_staff(slug, current_user, manage=True, whole_course=True)
    form = AddParticipantForm()
    if form.validate_on_submit():
        with write(begin=True) as outcome:
            enrolment = enrolment_services.add_participant(course.id, form.email.data, current_user)
        if outcome.error:
            flash(outcome.error.message, "danger")
            return _list_again(slug, outcome.error.status_code)
        flash(_("%(name)s added: %(status)s.", name=enrolment.user.full_name, status=label(enrolment.status)), "success")
        return redirect(url_for("teaching.enrolments", slug=slug))
    flash_form_errors(form)
    return _list_again(slug, 400)
