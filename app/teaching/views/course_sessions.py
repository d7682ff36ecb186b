"""The instructor's timetable and the sessions of a course: create, series, edit, cancel."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import staff_required
from app.catalogue.models import Course
from app.core.db import begin_write
from app.core.http import domain_error_to_form
from app.core.timeline import week_of
from app.core.writes import write
from app.extensions import db
from app.schedule import services as schedule
from app.schedule.forms import CancelSessionForm, SessionForm
from app.schedule.models import CourseSession, SessionKind, Venue
from app.schedule.timetable import by_course_day, course_sessions, group_by_local_day, personal_sessions
from app.teaching import staffing
from app.teaching.access import MANAGERS, course_for_staff, in_scope, staff_cohort, staff_role
from app.teaching.models import Cohort
from app.teaching.views.common import bp


def _session_or_404(course: Course, session_id: int) -> CourseSession:
    """A session this staff member may change: of this course and, for staff bound to a
    cohort, of that cohort (a whole-course session concerns every cohort); else 404."""
    session = db.session.get(CourseSession, session_id)
    if (session is None or session.course_id != course.id
            or not in_scope(session.cohort_id, staff_cohort(course.id, current_user))):
        abort(404)
    return session


def _form(course: Course, session: CourseSession | None = None, *, fresh: bool = False) -> SessionForm:
    """The session form: as posted, or (on a GET, or `fresh`) filled from the session."""
    form = SessionForm(formdata=None) if fresh else SessionForm()
    form.fill_choices(
        db.session.scalars(sa.select(Venue).order_by(Venue.name)),
        staffing.instructor_choices(course, current_user),
        [c for c in db.session.scalars(sa.select(Cohort).where(Cohort.course_id == course.id).order_by(Cohort.name))
         if in_scope(c.id, staff_cohort(course.id, current_user))],
    )
    if request.method == "GET" or fresh:
        if session is not None:
            data = schedule.data_of(session)
            form.title.data, form.kind.data, form.day.data = data.title, data.kind.value, data.day
            form.start.data, form.end.data, form.venue_id.data = data.start, data.end, data.venue_id or 0
            form.join_url.data, form.capacity.data, form.cohort_id.data = data.join_url, data.capacity, data.cohort_id or 0
            form.instructor_ids.data = data.instructor_ids
            form.is_mandatory.data, form.counts_for_attendance.data = data.is_mandatory, data.counts_for_attendance
            form.description.data = data.description
            form.version.data = str(session.sequence)
        else:
            form.day.data = course.starts_on
            form.start.data, form.end.data = dt.time(9, 30), dt.time(12, 30)
            form.venue_id.data = course.venue_id or 0
            form.instructor_ids.data = [current_user.id] if any(u == current_user.id for u, _n in form.instructor_ids.choices) else []
    return form


def _data(form: SessionForm, scope: int | None = None) -> schedule.SessionData:
    return schedule.SessionData(
        title=form.title.data, kind=SessionKind(form.kind.data), day=form.day.data, start=form.start.data,
        end=form.end.data, description=form.description.data or "", venue_id=form.venue_id.data or None,
        join_url=form.join_url.data or None, capacity=form.capacity.data, is_mandatory=form.is_mandatory.data,
        counts_for_attendance=form.counts_for_attendance.data, cohort_id=scope or form.cohort_id.data or None,
        instructor_ids=form.instructor_ids.data or [],
    )


@bp.route("/courses/<slug>/sessions")
@staff_required
def sessions(slug: str):
    course = course_for_staff(slug, current_user)
    can_manage = current_user.is_admin or staff_role(course.id, current_user) in MANAGERS
    scope = staff_cohort(course.id, current_user)
    # Staff bound to a cohort see the whole-course sessions and their cohort's, and may
    # change only their cohort's.
    visible = [s for s in course_sessions(course.id) if s.cohort_id is None or in_scope(s.cohort_id, scope)]
    return render_template(
        "teaching/sessions.html", course=course, can_manage=can_manage, cancel_form=CancelSessionForm(), scope=scope,
        days=group_by_local_day(visible, course.timezone),
        cohort_names=dict(db.session.execute(sa.select(Cohort.id, Cohort.name).where(Cohort.course_id == course.id)).tuples().all()),
    )


@bp.route("/courses/<slug>/sessions/new", methods=["GET", "POST"])
@staff_required
def new_session(slug: str):
    course = course_for_staff(slug, current_user, manage=True)
    form = _form(course)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        with write(begin=True) as outcome:
            staffing.join_staff_to_teach(course, form.instructor_ids.data or [], current_user)
            created = schedule.create_sessions(
                db.session.get_one(Course, course.id), _data(form, staff_cohort(course.id, current_user)), current_user, repeat=form.repeat.data,
                weekdays=form.weekdays.data or [], until=form.until.data, override_reason=form.override_reason.data)
        if not outcome.error:
            flash(ngettext_sessions(len(created)), "success")
            return redirect(url_for("teaching.sessions", slug=slug))
        domain_error_to_form(outcome.error, form)
        status = outcome.error.status_code
    return render_template("teaching/session_form.html", course=course, form=form, session=None), status


def ngettext_sessions(n: int) -> str:
    from flask_babel import ngettext

    return ngettext("%(num)d session added.", "%(num)d sessions added.", n)


@bp.route("/courses/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_session(slug: str, session_id: int):
    course = course_for_staff(slug, current_user, manage=True)
    session = _session_or_404(course, session_id)
    form = _form(course, session)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        begin_write()
        session = db.session.get_one(CourseSession, session_id)
        with write() as outcome:
            staffing.join_staff_to_teach(course, form.instructor_ids.data or [], current_user)
            schedule.update_sessions(session, _data(form, staff_cohort(course.id, current_user)), current_user, scope=form.scope.data,
                                     override_reason=form.override_reason.data,
                                     seen_version=int(form.version.data) if form.version.data else None)
        if isinstance(outcome.error, schedule.ChangedMeanwhile):  # show it as it is now, to change again
            flash(outcome.error.message, "warning")
            session = db.session.get_one(CourseSession, session_id)
            form, status = _form(course, session, fresh=True), outcome.error.status_code
        elif outcome.error:
            domain_error_to_form(outcome.error, form)
            status = outcome.error.status_code
        else:
            flash(_("Session saved; participants and instructors have been told of any change of time or place."), "success")
            return redirect(url_for("teaching.sessions", slug=slug))
    return render_template("teaching/session_form.html", course=course, form=form, session=session), status


@bp.route("/courses/<slug>/sessions/<int:session_id>/cancel", methods=["POST"])
@staff_required
def cancel_session(slug: str, session_id: int):
    course = course_for_staff(slug, current_user, manage=True)
    form = CancelSessionForm()
    if not form.validate_on_submit():
        abort(400)
    begin_write()
    session = _session_or_404(course, session_id)
    with write() as outcome:
        cancelled = schedule.cancel_sessions(session, current_user, scope=form.scope.data, reason=form.reason.data or "")
    if outcome.error:
        flash(outcome.error.message, "danger")
        return sessions(slug), outcome.error.status_code
    flash(_("%(num)d session(s) cancelled; everyone concerned has been emailed.", num=len(cancelled)), "success")
    return redirect(url_for("teaching.sessions", slug=slug))


@bp.route("/timetable")
@staff_required
def timetable():
    week = week_of(request.args.get("week"), current_user.timezone)
    if week is None:
        abort(400)
    items = personal_sessions(current_user, week.start_utc, week.end_utc)
    return render_template("schedule/week.html", week=week, by_day=by_course_day(items), endpoint="teaching.timetable",
                           title=_("My teaching timetable"))
