"""The admin's area: dashboard, programmes and courses."""
from __future__ import annotations

import base64
import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import admin_required
from app.admin.forms import CancelCourseForm, CourseForm, ProgrammeForm
from app.catalogue import services as catalogue
from app.catalogue.models import Course, CourseKind, CourseStatus, EnrolmentMode, Programme
from app.core.db import begin_write, contains
from app.core.errors import DomainError
from app.core.http import domain_error_to_form
from app.core.timezones import localize, to_local
from app.core.types import utcnow
from app.core.writes import write
from app.enrolment import services as enrolment
from app.enrolment.forms import ConfirmForm
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.schedule import services as schedule_services
from app.schedule.forms import VenueForm
from app.schedule.models import Venue
from app.teaching import staffing
from app.teaching.forms import StaffForm
from app.teaching.models import Cohort, CourseStaff, StaffRole

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@admin_required
def dashboard():
    """What needs attention: applications waiting, activities coming up and how full they
    are, emails and jobs that failed, and the latest recorded changes. Eight queries and
    at most ten rows a panel, however many years of rows lie behind them."""
    from app.audit.labels import action_label
    from app.audit.models import AuditEvent
    from app.jobs.models import JobOutcome, JobRun
    from app.notifications.models import OutboxMessage, OutboxStatus

    now = utcnow()
    counts = {status.value: n for status, n in
              db.session.execute(sa.select(Course.status, sa.func.count()).group_by(Course.status))}
    pending, pending_courses = db.session.execute(
        sa.select(sa.func.count(Enrolment.id), sa.func.count(sa.distinct(Enrolment.course_id)))
        .where(Enrolment.status == EnrolmentStatus.PENDING)).one()
    # The ten waiting longest (the rest are one link away): counted from the index
    # (status, course_id, created_at) first, then only those ten courses read.
    longest = (sa.select(Enrolment.course_id, sa.func.count(Enrolment.id).label("n"),
                         sa.func.min(Enrolment.created_at).label("oldest"))
               .where(Enrolment.status == EnrolmentStatus.PENDING).group_by(Enrolment.course_id)
               .order_by(sa.func.min(Enrolment.created_at), Enrolment.course_id).limit(10).subquery())
    pending_by_course = db.session.execute(
        sa.select(Course, longest.c.n).join(longest, longest.c.course_id == Course.id)
        .order_by(longest.c.oldest, Course.id)).all()
    waiting = (sa.select(sa.func.count(Enrolment.id)).where(Enrolment.course_id == Course.id,
                                                            Enrolment.status == EnrolmentStatus.WAITLISTED)
               .correlate(Course).scalar_subquery())
    upcoming = db.session.execute(
        sa.select(Course, waiting).where(Course.status == CourseStatus.PUBLISHED,
                                         Course.ends_on >= now.date() - dt.timedelta(days=1),
                                         Course.starts_on <= now.date() + dt.timedelta(days=60))
        .order_by(Course.starts_on, Course.id).limit(10)).all()
    failed_emails = db.session.scalar(sa.select(sa.func.count()).where(  # not those erasure stopped on purpose
        OutboxMessage.status == OutboxStatus.FAILED, ~OutboxMessage.undeliverable))
    failed_runs = db.session.scalars(
        sa.select(JobRun).where(JobRun.outcome == JobOutcome.ERROR, JobRun.started_at >= now - dt.timedelta(days=7))
        .order_by(JobRun.started_at.desc()).limit(5)).all()
    events = db.session.scalars(sa.select(AuditEvent).options(so.joinedload(AuditEvent.actor))
                                .order_by(AuditEvent.id.desc()).limit(10)).all()
    return render_template("admin/dashboard.html", counts=counts, pending_by_course=pending_by_course,
                           pending=pending, more_pending_courses=pending_courses - len(pending_by_course), upcoming=upcoming,
                           failed_emails=failed_emails, failed_runs=failed_runs, events=events, action_label=action_label)


# --- programmes ----------------------------------------------------------------------

@bp.route("/programmes")
@admin_required
def programmes():
    rows = db.session.execute(
        sa.select(Programme, sa.func.count(Course.id)).outerjoin(Course, Course.programme_id == Programme.id)
        .group_by(Programme.id).order_by(Programme.title)
    ).all()
    return render_template("admin/programmes.html", rows=rows)


@bp.route("/programmes/new", methods=["GET", "POST"])
@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@admin_required
def programme_form(programme_id: int | None = None):
    programme = db.get_or_404(Programme, programme_id) if programme_id else None
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        with write() as outcome:
            catalogue.save_programme(programme, title=form.title.data, slug=form.slug.data,
                                     description=form.description.data, actor=current_user,
                                     funding_statement=form.funding_statement.data, logo=form.logo_bytes,
                                     remove_logo=form.remove_logo.data)
        if not outcome.error:
            flash(_("Programme saved."), "success")
            return redirect(url_for("admin.programmes"))
        domain_error_to_form(outcome.error, form)
    status = 400 if request.method == "POST" else 200
    logo = programme.funding_logo if programme else None
    logo_src = None
    if logo:  # a small preview; the page's CSP allows data: images
        kind = "png" if logo.startswith(b"\x89PNG") else "jpeg"
        logo_src = f"data:image/{kind};base64,{base64.b64encode(logo).decode()}"
    return render_template("admin/programme_form.html", form=form, programme=programme, logo_src=logo_src), status


# --- courses -------------------------------------------------------------------------

@bp.route("/courses")
@admin_required
def courses():
    status = request.args.get("status", "")
    q = (request.args.get("q") or "").strip()[:100]
    stmt = sa.select(Course).options(so.joinedload(Course.programme)).order_by(Course.starts_on.desc(), Course.id)
    if status:
        try:
            stmt = stmt.where(Course.status == CourseStatus(status))
        except ValueError:
            abort(400)
    pending = request.args.get("pending") == "1"
    if pending:  # activities with applications waiting for a decision, the longest-waiting first
        waiting = (sa.select(Enrolment.course_id, sa.func.min(Enrolment.created_at).label("oldest"))
                   .where(Enrolment.status == EnrolmentStatus.PENDING).group_by(Enrolment.course_id).subquery())
        stmt = stmt.join(waiting, waiting.c.course_id == Course.id).order_by(None).order_by(waiting.c.oldest, Course.id)
    if q:  # title or address, in any script
        like = contains(q)
        stmt = stmt.where(sa.or_(sa.func.lower(Course.title).like(like, escape="\\"),
                                 sa.func.lower(Course.slug).like(like, escape="\\")))
    page = db.paginate(stmt, per_page=30, error_out=False)
    return render_template("admin/courses.html", page=page, status=status, q=q, pending=pending,
                           statuses=list(CourseStatus))


def _course_form(course: Course | None) -> CourseForm:
    form = CourseForm(obj=course) if request.method == "GET" else CourseForm()
    form.fill_choices(db.session.scalars(sa.select(Programme).order_by(Programme.title)),
                      db.session.scalars(sa.select(Venue).order_by(Venue.name)))
    if request.method == "GET":
        if course is not None:
            form.kind.data = course.kind.value
            form.enrolment_mode.data = course.enrolment_mode.value
            form.programme_id.data = course.programme_id or 0
            form.venue_id.data = course.venue_id or 0
            for name in ("enrolment_opens_at", "enrolment_closes_at", "withdrawal_deadline"):
                value = getattr(course, name)
                getattr(form, name).data = to_local(value, course.timezone).replace(tzinfo=None) if value else None
        else:
            form.timezone.data = "Europe/Rome"
            form.kind.data = CourseKind.COURSE.value
    return form


def _fields_from(form: CourseForm) -> dict:
    tz = form.timezone.data
    fields = {
        "title": form.title.data, "slug": form.slug.data, "summary": form.summary.data or "",
        "description": form.description.data or "", "kind": CourseKind(form.kind.data),
        "programme_id": form.programme_id.data or None, "language": form.language.data,
        "venue_id": form.venue_id.data or None, "is_online": form.is_online.data,
        "train_the_trainer": form.train_the_trainer.data, "city": form.city.data or None,
        "country": form.country.data or None, "timezone": tz, "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data, "capacity": form.capacity.data,
        "enrolment_mode": EnrolmentMode(form.enrolment_mode.data),
        "application_questions": form.application_questions.data or "",
    }
    for name in ("enrolment_opens_at", "enrolment_closes_at", "withdrawal_deadline"):
        value = getattr(form, name).data
        try:
            fields[name] = localize(value, tz) if value else None
        except ValueError as exc:
            raise DomainError(str(exc), field=name) from None
    return fields


@bp.route("/courses/new", methods=["GET", "POST"])
@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@admin_required
def course_form(course_id: int | None = None):
    course = db.get_or_404(Course, course_id) if course_id else None
    form = _course_form(course)
    if form.validate_on_submit():
        begin_write()
        if course is not None:
            course = db.session.get(Course, course.id)
        with write() as outcome:
            saved = catalogue.edit_course(course, _fields_from(form), current_user)
        if not outcome.error:
            flash(_("%(title)s saved.", title=saved.title), "success")
            return redirect(url_for("admin.course_detail", course_id=saved.id))
        domain_error_to_form(outcome.error, form)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/course_form.html", form=form, course=course), status


@bp.route("/courses/<int:course_id>")
@admin_required
def course_detail(course_id: int):
    course = db.get_or_404(Course, course_id)
    return render_template(
        "admin/course_detail.html", course=course, counts=enrolment.status_counts(course.id),
        confirm_form=ConfirmForm(), cancel_form=CancelCourseForm(),
    )


def _status_move(course_id: int, move, done: str):  # noqa: ANN001
    course = db.get_or_404(Course, course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with write() as outcome:
        move(course, current_user)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return course_detail(course_id), outcome.error.status_code
    flash(done, "success")
    return redirect(url_for("admin.course_detail", course_id=course_id))


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@admin_required
def publish(course_id: int):
    return _status_move(course_id, catalogue.publish_course, _("Published: the activity is now public."))


@bp.route("/courses/<int:course_id>/archive", methods=["POST"])
@admin_required
def archive(course_id: int):
    return _status_move(course_id, catalogue.archive_course, _("Archived."))


@bp.route("/courses/<int:course_id>/cancel", methods=["POST"])
@admin_required
def cancel(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = CancelCourseForm()
    if not form.validate_on_submit():
        flash(_("Please give a reason; the participants will read it."), "danger")
        return course_detail(course_id), 400
    begin_write()
    course = db.session.get_one(Course, course_id)
    with write() as outcome:
        n = enrolment.cancel_course(course, current_user, form.reason.data)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return course_detail(course_id), outcome.error.status_code
    flash(_("The activity is cancelled; %(num)d participants have been told by email.", num=n), "success")
    return redirect(url_for("admin.course_detail", course_id=course_id))


# --- venues --------------------------------------------------------------------------

@bp.route("/venues")
@admin_required
def venues():
    rows = db.session.scalars(sa.select(Venue).order_by(Venue.is_online, Venue.city, Venue.name)).all()
    return render_template("admin/venues.html", venues=rows)


@bp.route("/venues/new", methods=["GET", "POST"])
@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@admin_required
def venue_form(venue_id: int | None = None):
    venue = db.get_or_404(Venue, venue_id) if venue_id else None
    form = VenueForm(obj=venue)
    form.fill_choices()
    if request.method == "GET" and venue is None:
        form.timezone.data = "Europe/Rome"
    if form.validate_on_submit():
        with write() as outcome:
            schedule_services.save_venue(
                venue, name=form.name.data, address=form.address.data, city=form.city.data, country=form.country.data,
                timezone=form.timezone.data, capacity=form.capacity.data, is_online=form.is_online.data, actor=current_user)
        if not outcome.error:
            flash(_("Venue saved."), "success")
            return redirect(url_for("admin.venues"))
        domain_error_to_form(outcome.error, form)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/venue_form.html", form=form, venue=venue), status


# --- course staff ----------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/staff", methods=["GET", "POST"])
@admin_required
def course_staff(course_id: int):
    course = db.get_or_404(Course, course_id)
    form = _staff_form(course)
    status = 200
    if form.validate_on_submit():
        with write() as outcome:
            staffing.add_staff(course, form.email.data, StaffRole(form.role.data), form.cohort_id.data or None, current_user)
        if not outcome.error:
            flash(_("Staff updated."), "success")
            return redirect(url_for("admin.course_staff", course_id=course_id))
        domain_error_to_form(outcome.error, form)
        status = outcome.error.status_code
    elif request.method == "POST":
        status = 400
    return _staff_page(course, form, status)


def _staff_form(course: Course, formdata: bool = True) -> StaffForm:
    form = StaffForm() if formdata else StaffForm(formdata=None)
    form.fill_choices(db.session.scalars(sa.select(Cohort).where(Cohort.course_id == course.id).order_by(Cohort.name)).all())
    return form


def _staff_page(course: Course, form: StaffForm, status: int = 200):
    staff = db.session.scalars(sa.select(CourseStaff).where(CourseStaff.course_id == course.id)
                               .options(so.joinedload(CourseStaff.user), so.joinedload(CourseStaff.cohort))
                               .order_by(CourseStaff.role, CourseStaff.id)).all()
    return render_template("admin/course_staff.html", course=course, staff=staff, form=form,
                           confirm_form=ConfirmForm()), status


@bp.route("/courses/<int:course_id>/staff/<int:staff_id>/remove", methods=["POST"])
@admin_required
def remove_staff(course_id: int, staff_id: int):
    staff = db.session.get(CourseStaff, staff_id)
    if staff is None or staff.course_id != course_id or not ConfirmForm().validate_on_submit():
        abort(404)
    with write() as outcome:
        staffing.remove_staff(staff, current_user)
    if outcome.error:  # the last lead of an activity not yet ended
        flash(outcome.error.message, "danger")
        course = db.get_or_404(Course, course_id)
        return _staff_page(course, _staff_form(course, formdata=False), outcome.error.status_code)
    flash(_("Staff updated."), "success")
    return redirect(url_for("admin.course_staff", course_id=course_id))


# --- background jobs and the outbox -----------------------------------------------------

@bp.route("/jobs")
@admin_required
def jobs():
    from app.jobs.models import JobRequest, JobRun
    from app.jobs.table import job_table
    from app.notifications.models import OutboxMessage, OutboxStatus

    job_ids = list(job_table())
    latest = {}
    for run in db.session.scalars(
            sa.select(JobRun).where(JobRun.id.in_([  # each job's latest run, read from the index's end
                sa.select(sa.func.max(JobRun.id)).where(JobRun.job_id == job_id).scalar_subquery()
                for job_id in job_ids]))):
        latest[run.job_id] = run
    selected = request.args.get("job") or None
    if selected and selected not in job_ids:
        abort(404)
    runs_stmt = sa.select(JobRun).order_by(JobRun.id.desc()).limit(50)
    if selected:
        runs_stmt = runs_stmt.where(JobRun.job_id == selected)
    waiting = set(db.session.scalars(sa.select(JobRequest.job_id).where(JobRequest.taken_at.is_(None))))
    counts = dict(db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all())
    problems = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING)))
        .order_by(OutboxMessage.status.desc(), OutboxMessage.id.desc()).limit(50)).all()
    return render_template("admin/jobs.html", job_ids=job_ids, latest=latest, runs=db.session.scalars(runs_stmt).all(),
                           selected=selected, waiting=waiting, counts=counts, problems=problems, confirm_form=ConfirmForm())


@bp.route("/jobs/<job_id>/run", methods=["POST"])
@admin_required
def run_job(job_id: str):
    from app.jobs.requests import request_run

    if not ConfirmForm().validate_on_submit():
        abort(400)
    begin_write()
    try:
        requested = request_run(job_id, current_user)
    except KeyError:
        abort(404)
    db.session.commit()
    if requested is None:
        flash(_("%(job)s has already been asked for; it starts within seconds.", job=job_id), "info")
    else:
        flash(_("Asked the scheduler to run %(job)s; it starts within seconds.", job=job_id), "success")
    return redirect(url_for("admin.jobs"))


@bp.route("/outbox/<int:message_id>/resend", methods=["POST"])
@admin_required
def resend_message(message_id: int):
    from app.notifications.services import resend

    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with write(begin=True) as outcome:
            resend(message_id, current_user)
    except LookupError:
        abort(404)
    if outcome.error:  # not failed (any more): say how it stands
        flash(outcome.error.message, "warning")
        return jobs(), outcome.error.status_code
    flash(_("The message is queued again."), "success")
    return redirect(url_for("admin.jobs"))
