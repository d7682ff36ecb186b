from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.forms import ReportingForm
from app.accounts.models import User
from app.accounts.services import dismiss_reporting_request, regenerate_calendar_token, update_profile
from app.catalogue.models import Course
from app.certificates import services as certificate_services
from app.certificates.models import Certificate, CertificateStatus
from app.core.db import begin_write
from app.core.http import external_url
from app.core.timeline import week_of
from app.core.types import utcnow
from app.enrolment import services as enrolment_services
from app.enrolment.forms import ConfirmForm
from app.enrolment.models import Enrolment
from app.extensions import db, limiter
from app.feedback.services import waiting_for
from app.schedule.ical import build_calendar
from app.schedule.timetable import by_course_day, personal_sessions
from app.teaching import services as teaching

bp = Blueprint("participant", __name__, url_prefix="/me")


@bp.route("")
@login_required
def dashboard():
    return _dashboard_page()


def _dashboard_page(reporting_form: ReportingForm | None = None, status: int = 200):
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.user_id == current_user.id)
        .join(Enrolment.course)
        .options(so.contains_eager(Enrolment.course))
        .order_by(Course.starts_on.desc())
    ).all()
    positions = enrolment_services.positions_of(enrolments)
    upcoming = personal_sessions(current_user, start=utcnow(), end=utcnow() + dt.timedelta(days=14),
                                          include_cancelled=False, limit=8)
    placed = [e for e in enrolments if e.holds_place]
    progress = teaching.progress_for(None, placed)
    issued = db.session.scalars(
        sa.select(Certificate).where(Certificate.enrolment_id.in_([e.id for e in enrolments] or [0]))
        .order_by(Certificate.issued_at.desc())
    ).all()
    # A revoked certificate stays listed (marked, with the reason) until a new one replaces it.
    valid = {(c.enrolment_id, c.kind) for c in issued if c.status is CertificateStatus.VALID}
    certificates = [c for c in issued if c.status is CertificateStatus.VALID
                    or (c.status is CertificateStatus.REVOKED and (c.enrolment_id, c.kind) not in valid)]
    return render_template(
        "participant/dashboard.html", enrolments=enrolments, positions=positions, upcoming=upcoming,
        progress=progress, certificates=certificates,
        eligibility=certificate_services.eligibility(None, [e for e in placed if e.course.ends_on <= utcnow().date()],
                                                     progress=progress),
        course_of={e.id: e.course for e in enrolments},
        can_withdraw={e.id: enrolment_services.can_withdraw(e) for e in enrolments},
        surveys=waiting_for(current_user),
        reporting_form=reporting_form or (_reporting_form() if current_user.reporting_asked_at is None else None),
    ), status


def _reporting_form(formdata=None) -> ReportingForm:  # noqa: ANN001
    form = ReportingForm(obj=current_user, formdata=formdata)
    if formdata is None:
        form.fill_reporting(current_user)
    return form


@bp.route("/reporting", methods=["POST"])
@login_required
def reporting():
    """The one-time request on /me for the optional reporting fields: save, or never ask again."""
    form = ReportingForm()
    if form.dismiss.data and form.is_submitted():
        if not ConfirmForm().validate_on_submit():
            abort(400)
        begin_write()
        dismiss_reporting_request(current_user)
        db.session.commit()
        flash(_("All right, we won't ask again. You can fill these in on your profile at any time."), "info")
        return redirect(url_for("participant.dashboard"))
    if not form.validate_on_submit():
        return _dashboard_page(reporting_form=form, status=400)
    begin_write()
    update_profile(current_user, **form.reporting_values())
    db.session.commit()
    flash(_("Thank you. You can change these on your profile at any time."), "success")
    return redirect(url_for("participant.dashboard"))


@bp.route("/timetable")
@login_required
def timetable():
    week = week_of(request.args.get("week"), current_user.timezone)
    if week is None:
        abort(400)
    items = personal_sessions(current_user, week.start_utc, week.end_utc)
    feed_url = external_url("participant.calendar_feed", token=current_user.calendar_token)
    return render_template("schedule/week.html", week=week, by_day=by_course_day(items), endpoint="participant.timetable",
                           title=_("My timetable"), feed_url=feed_url, regenerate_form=ConfirmForm(),
                           join_links={s.id for s in items if s.join_url})


@bp.route("/calendar/regenerate", methods=["POST"])
@login_required
def regenerate_calendar():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    begin_write()
    regenerate_calendar_token(current_user)
    db.session.commit()
    flash(_("Your calendar has a new address. Subscribe again with it; the old one no longer works."), "success")
    return redirect(url_for("participant.timetable"))


def _feed_token() -> str:
    """Rate-limit the feed per address token, not per client address: the subscribers of
    a whole office behind one NAT must not lock each other out."""
    return "calendar-feed:" + str((request.view_args or {}).get("token", ""))[:64]


@bp.route("/calendar/<token>.ics")
@limiter.limit("120 per hour", key_func=_feed_token)
def calendar_feed(token: str):
    # No login: calendar apps cannot log in. The secret token in the address is the key.
    if len(token) > 64:
        abort(404)
    user = db.session.scalar(sa.select(User).where(User.calendar_token == token))
    if user is None or not user.is_active:
        abort(404)
    sessions = personal_sessions(user)
    body = build_calendar(sessions, name=_("Ponte — %(name)s", name=user.full_name),
                          join_links_for={s.id for s in sessions if s.join_url})
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="ponte.ics"', "Cache-Control": "private, max-age=300"})
