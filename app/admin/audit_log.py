"""The audit log, `/admin/audit`: every recorded change with who, what, on which object
(linked), its details and the network address; filtered by actor, action, object type,
course (the course and everything in it), person and date range; paginated; CSV.

A screen that spans domains (DESIGN.md: admin), so the course scope that reaches into
enrolments, sessions, cohorts and certificates is built here, not in `audit`."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _

from app.accounts.access import admin_required
from app.accounts.models import User
from app.accounts.services import find_user_by_email
from app.audit.labels import ACTIONS, action_label
from app.audit.models import AuditEvent
from app.audit.services import EventFilters, events, object_types
from app.catalogue.models import Course
from app.certificates.models import Certificate
from app.core.http import csv_response, db_id
from app.core.templating import viewer_zone
from app.core.timezones import localize
from app.enrolment.models import Enrolment
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching.models import Cohort

bp = Blueprint("audit_log", __name__, url_prefix="/admin")

CSV_LIMIT = 50_000


def course_scope(course_id: int) -> sa.ColumnElement[bool]:
    """Events about the course or about anything in it."""
    enrolments = sa.select(Enrolment.id).where(Enrolment.course_id == course_id)
    return sa.or_(
        sa.and_(AuditEvent.object_type == "course", AuditEvent.object_id == course_id),
        sa.and_(AuditEvent.object_type == "enrolment", AuditEvent.object_id.in_(enrolments)),
        sa.and_(AuditEvent.object_type == "course_session",
                AuditEvent.object_id.in_(sa.select(CourseSession.id).where(CourseSession.course_id == course_id))),
        sa.and_(AuditEvent.object_type == "cohort",
                AuditEvent.object_id.in_(sa.select(Cohort.id).where(Cohort.course_id == course_id))),
        sa.and_(AuditEvent.object_type == "certificate",
                AuditEvent.object_id.in_(sa.select(Certificate.id).where(Certificate.enrolment_id.in_(enrolments)))),
    )


def _int_arg(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return db_id(raw)  # "²" is a digit to str.isdigit, not to int()
    except ValueError:
        abort(400)


def _day_arg(name: str) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not 1900 <= day.year <= 2999:
        abort(400)
    return day


def _filters() -> tuple[EventFilters, list, dict]:
    """The filters of the query string, the extra conditions, and what the page shows
    of them. Anything malformed answers 400."""
    zone = viewer_zone() or "Europe/Rome"
    actor_email = (request.args.get("actor") or "").strip()[:254]
    action = (request.args.get("action") or "").strip()
    object_type = (request.args.get("type") or "").strip()
    if action and action not in ACTIONS:
        abort(400)
    if object_type and (len(object_type) > 40 or not object_type.replace("_", "").isalpha()):
        abort(400)
    since, until = _day_arg("since"), _day_arg("until")
    f = EventFilters(action=action, object_type=object_type, object_id=_int_arg("object"), user_id=_int_arg("user"))
    if actor_email:
        actor = find_user_by_email(actor_email)
        f.actor_id = actor.id if actor else -1  # nobody: no event
    if since:
        f.since = localize(dt.datetime.combine(since, dt.time()), zone)
    if until:
        f.until = localize(dt.datetime.combine(until + dt.timedelta(days=1), dt.time()), zone)
    scope = []
    shown: dict[str, object] = {"actor": actor_email, "action": action, "type": object_type, "since": since,
                                "until": until}
    course_id = _int_arg("course")
    if course_id is not None:
        course = db.session.get(Course, course_id) or abort(404)
        scope.append(course_scope(course.id))
        shown["course"] = course
    if f.user_id is not None:
        shown["person"] = db.session.get(User, f.user_id) or abort(404)
    return f, scope, shown


def object_link(event: AuditEvent) -> str | None:
    """Where the event's object lives in the admin screens, if anywhere."""
    if event.object_id is None:
        return None
    if event.object_type == "course":
        return url_for("admin.course_detail", course_id=event.object_id)
    if event.object_type == "user":
        return url_for("people.person", user_id=event.object_id)
    return None


@bp.route("/audit")
@admin_required
def log():
    f, scope, shown = _filters()
    page = db.paginate(events(f, *scope), per_page=50, error_out=False, max_per_page=200)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    actions = sorted(ACTIONS, key=lambda a: action_label(a).lower())
    return render_template("admin/audit.html", page=page, shown=shown, args=args, actions=actions,
                           action_label=action_label, object_types=object_types(), object_link=object_link)


@bp.route("/audit.csv")
@admin_required
def export():
    f, scope, _shown = _filters()
    rows = db.session.scalars(events(f, *scope).limit(CSV_LIMIT)).all()
    header = [_("When (UTC)"), _("Who"), _("Action"), _("What it means"), _("Object"), _("Object id"), _("Details"),
              _("Network address")]
    return csv_response("ponte-audit.csv", header, (
        [e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.actor.email if e.actor else "", e.action, action_label(e.action),
         e.object_type or "", e.object_id if e.object_id is not None else "",
         "; ".join(f"{k}={v}" for k, v in sorted((e.details or {}).items())), e.ip or ""]
        for e in rows))
