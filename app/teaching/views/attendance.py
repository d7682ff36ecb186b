"""Rosters, cohorts, attendance sheets, self check-in and completion for course staff."""
from __future__ import annotations

from collections.abc import Sequence

import segno
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from app.accounts.access import staff_required
from app.accounts.models import User
from app.catalogue.models import Course
from app.core.db import begin_write
from app.core.http import csv_response, db_id, external_url, flash_form_errors, posted_control_chars
from app.core.labels import label
from app.core.timezones import local_date
from app.core.types import utcnow
from app.core.writes import write
from app.enrolment.forms import ConfirmForm
from app.enrolment.models import HOLDS_PLACE, Enrolment
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching import services, staffing
from app.teaching.access import MANAGERS, course_for_staff, in_scope, staff_cohort, staff_role
from app.teaching.forms import BalanceForm, CohortForm, EmailCohortForm
from app.teaching.models import Attendance, AttendanceStatus, Cohort
from app.teaching.views.common import bp, person_cells, person_header, seen_status


def _scope(course: Course) -> int | None:
    return staff_cohort(course.id, current_user)


def _can_manage(course: Course) -> bool:
    return current_user.is_admin or staff_role(course.id, current_user) in MANAGERS


def _cohorts(course: Course) -> list[Cohort]:
    return list(db.session.scalars(sa.select(Cohort).where(Cohort.course_id == course.id).order_by(Cohort.name)))


def _roster(course: Course, cohort_id: int | None) -> list[Enrolment]:
    stmt = (sa.select(Enrolment).join(Enrolment.user)
            .where(Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE))
            .options(so.contains_eager(Enrolment.user)).order_by(User.full_name, Enrolment.id))
    if cohort_id:
        stmt = stmt.where(Enrolment.cohort_id == cohort_id)
    return list(db.session.scalars(stmt))


def _cohort_arg(course: Course) -> int | None:
    scope = _scope(course)
    try:
        wanted = db_id(request.args["cohort"]) if request.args.get("cohort") else None
    except ValueError:
        abort(400)
    if scope is not None:
        if wanted not in (None, scope):
            abort(404)
        return scope
    return wanted


# --- roster ------------------------------------------------------------------------------

@bp.route("/courses/<slug>/roster")
@staff_required
def roster(slug: str):
    course = course_for_staff(slug, current_user)
    cohort_id = _cohort_arg(course)
    people = _roster(course, cohort_id)
    email_form = EmailCohortForm()
    scope = _scope(course)
    cohorts = [c for c in _cohorts(course) if scope is None or c.id == scope]
    email_form.cohort_id.choices = ([(0, _("Everyone accepted"))] if scope is None else []) + [(c.id, c.name) for c in cohorts]
    email_form.cohort_id.data = cohort_id or 0
    return render_template(
        "teaching/roster.html", course=course, people=people, cohorts=cohorts, cohort_id=cohort_id,
        progress=services.progress_for(course, people), can_manage=_can_manage(course), email_form=email_form,
        cohort_names={c.id: c.name for c in cohorts},
    )


@bp.route("/courses/<slug>/roster.csv")
@staff_required
def roster_csv(slug: str):
    course = course_for_staff(slug, current_user)
    cohort_id = _cohort_arg(course)
    people = _roster(course, cohort_id)
    progress = services.progress_for(course, people)
    names = {c.id: c.name for c in _cohorts(course)}
    header = person_header() + [_("Cohort"), _("Status"), _("Attendance rate (%)"), _("Hours attended")]
    return csv_response(f"{course.slug}-roster.csv", header, (
        [*person_cells(e.user), names.get(e.cohort_id, "") if e.cohort_id else "", label(e.status),
         "" if progress[e.id].rate is None else progress[e.id].rate, round(progress[e.id].attended_hours, 2)]
        for e in people))


@bp.route("/courses/<slug>/email", methods=["POST"])
@staff_required
def email_people(slug: str):
    course = course_for_staff(slug, current_user, manage=True)
    scope = _scope(course)
    form = EmailCohortForm()
    form.cohort_id.choices = [(0, "")] + [(c.id, c.name) for c in _cohorts(course)]
    if not form.validate_on_submit():
        flash(_("Write a subject and a message."), "danger")
        return roster(slug), 400
    cohort_id = form.cohort_id.data or None
    if scope is not None and cohort_id not in (None, scope):
        abort(404)
    with write():  # refuses nothing: the form said what was wrong
        n = services.email_cohort(course, scope or cohort_id, form.subject.data, form.body.data, current_user)
    flash(ngettext("Your message is on its way to %(num)d person.", "Your message is on its way to %(num)d people.", n), "success")
    return redirect(url_for("teaching.roster", slug=slug, cohort=form.cohort_id.data or None))


# --- cohorts ---------------------------------------------------------------------------

@bp.route("/courses/<slug>/cohorts", methods=["GET", "POST"])
@staff_required
def cohorts(slug: str):
    course = course_for_staff(slug, current_user, manage=True, whole_course=True)
    form = CohortForm()
    status = 200
    if form.validate_on_submit():
        with write() as outcome:
            staffing.save_cohort(course, None, form.name.data, current_user)
        if not outcome.error:
            flash(_("Cohort created."), "success")
            return redirect(url_for("teaching.cohorts", slug=slug))
        flash(outcome.error.message, "danger")
        status = outcome.error.status_code
    elif request.method == "POST":
        flash_form_errors(form)
        status = 400
    return _cohorts_page(course, form, status)


def _cohorts_page(course: Course, form: CohortForm | None = None, status: int = 200):
    """The cohorts page; a refused rename, move, balance or delete shows it again with a
    blank "new cohort" form (the posted fields were not meant for it)."""
    all_cohorts = _cohorts(course)
    people = _roster(course, None)
    sizes = {c.id: sum(1 for e in people if e.cohort_id == c.id) for c in all_cohorts}
    return render_template("teaching/cohorts.html", course=course, cohorts=all_cohorts, people=people, sizes=sizes,
                           form=form or CohortForm(formdata=None), rename_form=CohortForm(formdata=None),
                           balance_form=BalanceForm(), confirm_form=ConfirmForm()), status


def _cohort_or_404(course: Course, cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or cohort.course_id != course.id:
        abort(404)
    return cohort


def _cohort_action(slug: str, action, done: str):  # noqa: ANN001
    """Cohorts are arranged by staff of the whole course; someone bound to one cohort
    gets 404 here, as for anything outside their cohort."""
    course = course_for_staff(slug, current_user, manage=True, whole_course=True)
    with write(begin=True) as outcome:
        action(course)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return _cohorts_page(course, status=outcome.error.status_code)
    flash(done, "success")
    return redirect(url_for("teaching.cohorts", slug=slug))


@bp.route("/courses/<slug>/cohorts/<int:cohort_id>/rename", methods=["POST"])
@staff_required
def rename_cohort(slug: str, cohort_id: int):
    course = course_for_staff(slug, current_user, manage=True, whole_course=True)  # access first: others get 404
    form = CohortForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _cohorts_page(course, status=400)
    return _cohort_action(slug, lambda c: staffing.save_cohort(c, _cohort_or_404(c, cohort_id), form.name.data, current_user),
                          _("Cohort renamed."))


@bp.route("/courses/<slug>/cohorts/<int:cohort_id>/delete", methods=["POST"])
@staff_required
def delete_cohort(slug: str, cohort_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _cohort_action(slug, lambda c: staffing.delete_cohort(_cohort_or_404(c, cohort_id), current_user),
                          _("Cohort deleted."))


@bp.route("/courses/<slug>/cohorts/assign", methods=["POST"])
@staff_required
def assign_cohort(slug: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ids = [db_id(v) for v in request.form.getlist("ids")][:2000]
        cohort_id = db_id(request.form["cohort_id"]) if request.form.get("cohort_id") not in (None, "", "0") else None
    except ValueError:
        abort(400)
    if not ids:
        course = course_for_staff(slug, current_user, manage=True, whole_course=True)
        flash(_("Choose at least one participant."), "danger")
        return _cohorts_page(course, status=400)
    return _cohort_action(slug, lambda c: staffing.assign_cohort(c, ids, cohort_id, current_user), _("Cohorts updated."))


@bp.route("/courses/<slug>/cohorts/balance", methods=["POST"])
@staff_required
def balance_cohorts(slug: str):
    form = BalanceForm()
    if not form.validate_on_submit():
        abort(400)
    return _cohort_action(slug, lambda c: staffing.balance_cohorts(c, current_user, by_country=form.by_country.data),
                          _("Participants spread over the cohorts."))


# --- attendance sheet --------------------------------------------------------------------

def _session_for_staff(course: Course, session_id: int) -> CourseSession:
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    scope = _scope(course)
    if scope is not None and session.cohort_id not in (None, scope):
        abort(404)
    return session


def _notes_refusal(limit: int) -> str | None:
    """Why the notes typed on a sheet cannot be saved (control characters, or longer than
    `limit`), or None. A refused sheet saves nothing."""
    if posted_control_chars():
        return _("A note contains characters that are not allowed; nothing was saved.")
    if any(len(v) > limit for k, v in request.form.items() if k.startswith("note-")):
        return _("A note is longer than %(num)d characters; nothing was saved.", num=limit)
    return None


def _save_sheet(course: Course, session_id: int, entries: dict, seen: dict) -> int:
    """Save the posted sheet in one write; the status to answer (200 when saved)."""
    begin_write()
    session = db.session.get_one(CourseSession, session_id)
    with write() as outcome:
        if request.form.get("all_present"):
            n = services.mark_all_present(session, current_user, cohort_id=_scope(course))
        else:
            n = services.save_sheet(session, entries, current_user, cohort_id=_scope(course), seen=seen)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return outcome.error.status_code
    flash(ngettext("%(num)d change saved.", "%(num)d changes saved.", n), "success")
    return 200


@bp.route("/courses/<slug>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@staff_required
def attendance_sheet(slug: str, session_id: int):
    course = course_for_staff(slug, current_user)
    session = _session_for_staff(course, session_id)
    status = 200
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        entries, seen = {}, {}
        for key, value in request.form.items():
            if key.startswith("status-"):
                try:
                    entries[db_id(key[7:])] = (AttendanceStatus(value), request.form.get(f"note-{key[7:]}", ""))
                    if f"seen-{key[7:]}" in request.form:
                        shown = request.form[f"seen-{key[7:]}"]
                        seen[db_id(key[7:])] = AttendanceStatus(shown) if shown else None
                except ValueError:
                    abort(400)
        refusal = _notes_refusal(500)
        if refusal:
            flash(refusal, "danger")
            status = 400
        else:
            status = _save_sheet(course, session_id, entries, seen)
            if status == 200:
                return redirect(url_for("teaching.attendance_sheet", slug=slug, session_id=session_id))
        session = db.session.get_one(CourseSession, session_id)
    expected = services.expected_enrolments(session, cohort_id=_scope(course))
    rows = {a.enrolment_id: a for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.session_id == session.id).options(so.joinedload(Attendance.recorded_by)))}
    return render_template("teaching/attendance.html", course=course, session=session, expected=expected, rows=rows,
                           statuses=list(AttendanceStatus),
                           history=services.attendance_history(
                               session, enrolment_ids=None if _scope(course) is None else {e.id for e in expected}),
                           confirm_form=ConfirmForm(), names={e.id: e.user.full_name for e in expected}), status


# --- self check-in: the instructor's screen ----------------------------------------------

def _checkin_state(session: CourseSession, scope: int | None) -> dict:
    """What the check-in screen shows: the code, the QR and who has checked in — of the
    staff member's cohort only, when they are bound to one."""
    now = utcnow()
    is_open = services.checkin_open(session, now)
    code = services.code_at(session, now) if is_open else None
    url = external_url("checkin.checkin", code=code) if code else None
    qr = Markup(segno.make(url, error="m").svg_inline(scale=6, dark="#0b5d4b")) if url else None
    # Of those still holding a place (the count is "of the expected"), named as pages name
    # people (an erased account in the reader's language).
    checked = [(user.full_name, user.native_name, status, when) for user, status, when in db.session.execute(
        sa.select(User, Attendance.status, Attendance.recorded_at)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id).join(User, User.id == Enrolment.user_id)
        .where(Attendance.session_id == session.id, Attendance.status.in_(services.ATTENDED),
               Enrolment.status.in_(HOLDS_PLACE), sa.true() if scope is None else Enrolment.cohort_id == scope)
        .order_by(Attendance.recorded_at.desc())
    ).tuples()]
    return {"open": is_open, "code": code, "qr": qr, "url": url, "seconds_left": services.seconds_left(now),
            "checked": checked, "expected": len(services.expected_enrolments(session, cohort_id=scope))}


@bp.route("/courses/<slug>/sessions/<int:session_id>/checkin")
@staff_required
def checkin_screen(slug: str, session_id: int):
    course = course_for_staff(slug, current_user)
    session = _session_for_staff(course, session_id)
    return render_template("teaching/checkin.html", course=course, session=session, state=_checkin_state(session, _scope(course)))


@bp.route("/courses/<slug>/sessions/<int:session_id>/checkin/live")
@staff_required
def checkin_live(slug: str, session_id: int):
    course = course_for_staff(slug, current_user)
    session = _session_for_staff(course, session_id)
    state = _checkin_state(session, _scope(course))
    html = render_template("teaching/_checkin_live.html", session=session, state=state)
    return jsonify(html=html, seconds_left=state["seconds_left"])


# --- completion -----------------------------------------------------------------------------

def _record_completions(chosen: Sequence[Enrolment], passed: bool) -> int:
    """The write behind the completion form: 302 when done, else the refusal's status (flashed)."""
    notes = {e.id: request.form.get(f"note-{e.id}", "") for e in chosen}
    seen = {e.id: seen_status(request.form.get(f"seen-{e.id}")) for e in chosen}
    with write() as done:
        changed = services.record_completions(chosen, passed, notes, current_user, seen=seen)
    if done.error:
        flash(done.error.message, "danger")
        return done.error.status_code
    if changed:
        flash(ngettext("Completion recorded for %(num)d participant.",
                       "Completion recorded for %(num)d participants.", changed), "success")
    else:
        flash(_("Nothing changed: that outcome was already recorded."), "info")
    return 302


@bp.route("/courses/<slug>/completion", methods=["GET", "POST"])
@staff_required
def completion(slug: str):
    course = course_for_staff(slug, current_user, manage=True)
    status = 200
    ended = local_date(utcnow(), course.timezone) >= course.ends_on
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            ids = [db_id(v) for v in request.form.getlist("ids")][:2000]
        except ValueError:
            abort(400)
        outcome = request.form.get("outcome")
        begin_write()
        chosen = db.session.scalars(sa.select(Enrolment).where(
            Enrolment.course_id == course.id, Enrolment.id.in_(ids))).all()
        if len(chosen) != len(set(ids)) or not all(in_scope(e.cohort_id, _scope(course)) for e in chosen):
            abort(404)  # someone else's participant, first
        status = 400
        if not ended:  # only a page opened earlier can post (its buttons are disabled now): the banner says why
            db.session.rollback()
        elif outcome not in ("passed", "not_passed") or not ids:
            flash(_("Choose at least one participant and an outcome."), "danger")
        elif refusal := _notes_refusal(2000):
            flash(refusal, "danger")
        else:
            status = _record_completions(chosen, outcome == "passed")
            if status == 302:
                return redirect(url_for("teaching.completion", slug=slug))
    people = _roster(course, _scope(course))
    return render_template("teaching/completion.html", course=course, people=people,
                           progress=services.progress_for(course, people), confirm_form=ConfirmForm(), ended=ended), status
