"""People, `/admin/users`: find a person (name in either script, email, organisation,
country, role, state), read what Ponte holds about them, change their role, deactivate
or reactivate the account, send a password-reset link or the confirmation link again.
Every change is a compare-and-set, audited, and the person is told by email."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import AnyOf, Optional

from app.accounts import services as accounts
from app.accounts.access import admin_required
from app.accounts.models import LoginSession, Role, User
from app.audit.labels import action_label
from app.audit.services import EventFilters, events
from app.catalogue.models import Course
from app.certificates.models import Certificate
from app.core.db import begin_write, contains
from app.core.forms import ConfirmForm, Form
from app.core.http import csv_response
from app.core.labels import label
from app.core.writes import write
from app.enrolment.models import Enrolment
from app.extensions import db
from app.privacy import erasure
from app.teaching.models import Attendance, AttendanceStatus

bp = Blueprint("people", __name__, url_prefix="/admin")

STATES = {"active": _l("Active"), "deactivated": _l("Deactivated"), "unconfirmed": _l("Email not confirmed")}


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=[])
    # The role the page showed: a change made since (another admin, another tab) wins.
    seen = HiddenField(validators=[Optional(), AnyOf([r.value for r in Role])])
    submit = SubmitField(_l("Change role"))

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, label(r.value)) for r in Role]  # in the reader's language


def _people_query() -> tuple[sa.Select, dict]:
    q = (request.args.get("q") or "").strip()[:100]
    country = (request.args.get("country") or "").strip().upper()[:2]
    role = request.args.get("role") or ""
    state = request.args.get("state") or ""
    stmt = sa.select(User).order_by(User.full_name, User.id)
    if q:
        like = contains(q)
        stmt = stmt.where(sa.or_(*(sa.func.lower(col).like(like, escape="\\") for col in
                                   (User.full_name, User.native_name, User.email, User.organisation))))
    if country:
        if not country.isalpha():
            abort(400)
        stmt = stmt.where(User.country == country)
    if role:
        try:
            stmt = stmt.where(User.role == Role(role))
        except ValueError:
            abort(400)
    if state == "active":
        stmt = stmt.where(User.is_active_account.is_(True))
    elif state == "deactivated":
        stmt = stmt.where(User.is_active_account.is_(False))
    elif state == "unconfirmed":
        stmt = stmt.where(User.email_verified_at.is_(None))
    elif state:
        abort(400)
    return stmt, {"q": q, "country": country, "role": role, "state": state}


@bp.route("/users")
@admin_required
def people():
    stmt, shown = _people_query()
    page = db.paginate(stmt, per_page=50, error_out=False, max_per_page=200)
    args = {k: v for k, v in shown.items() if v}
    return render_template("admin/people.html", page=page, shown=shown, args=args, roles=list(Role), states=STATES)


@bp.route("/users.csv")
@admin_required
def export():
    stmt, _shown = _people_query()
    header = [_("Full name"), _("Name in native script"), _("Email"), _("Organisation"), _("Type of organisation"),
              _("Country"), _("Role"), _("State"), _("Email confirmed (UTC)"), _("Account created (UTC)"),
              _("Last login (UTC)")]

    def when(value) -> str:  # noqa: ANN001
        return value.strftime("%Y-%m-%d %H:%M") if value else ""

    return csv_response("ponte-people.csv", header, (
        [u.full_name, u.native_name or "", u.email, u.organisation or "",
         label(u.organisation_type) if u.organisation_type else "", u.country or "", label(u.role),
         str(STATES["deactivated" if not u.is_active_account else "active" if u.is_verified else "unconfirmed"]),
         when(u.email_verified_at),
         when(u.created_at), when(u.last_login_at)]
        for u in db.session.scalars(stmt.limit(100_000))))


def _person_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users/<int:user_id>")
@admin_required
def person(user_id: int):
    user = _person_or_404(user_id)
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.user_id == user.id).options(so.joinedload(Enrolment.course))
        .join(Course, Course.id == Enrolment.course_id).order_by(Course.starts_on.desc(), Enrolment.id)).all()
    attendance: dict[AttendanceStatus, int] = dict(db.session.execute(
        sa.select(Attendance.status, sa.func.count()).join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(Enrolment.user_id == user.id).group_by(Attendance.status)).tuples().all())
    certificates = db.session.scalars(
        sa.select(Certificate).join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .where(Enrolment.user_id == user.id).order_by(Certificate.id.desc())).all()
    logins = db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)
                                .order_by(LoginSession.last_seen_at.desc()).limit(10)).all()
    recent = db.session.scalars(events(EventFilters(user_id=user.id)).limit(15)).all()
    courses = {e.course_id: e.course for e in enrolments}
    return render_template(
        "admin/person.html", person=user, enrolments=enrolments, courses=courses, certificates=certificates,
        attendance=[(status, attendance.get(status, 0)) for status in AttendanceStatus], logins=logins, events=recent,
        action_label=action_label, role_form=RoleForm(formdata=None, role=user.role.value, seen=user.role.value), confirm_form=ConfirmForm())


def _change(user_id: int, move, done: str):  # noqa: ANN001
    """Run one change on one person, then back to their page (with the reason if refused)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    begin_write()
    user = _person_or_404(user_id)
    with write() as outcome:
        move(user)
    if outcome.error:
        flash(outcome.error.message, "danger")
        response = make_response(person(user_id))  # the page again, with the reason and a 4xx
        response.status_code = outcome.error.status_code
        return response
    flash(done, "success")
    return redirect(url_for("people.person", user_id=user_id))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    role = Role(form.role.data)
    seen = Role(form.seen.data) if form.seen.data else None
    return _change(user_id, lambda u: accounts.set_role(u, role, actor=current_user, notify=True, seen=seen),
                   _("The role is now %(role)s; the person has been told by email.", role=label(role)))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(user_id: int):
    return _change(user_id, lambda u: accounts.deactivate_user(u, current_user),
                   _("The account is deactivated: signed out everywhere, no login and no email from now on."))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(user_id: int):
    return _change(user_id, lambda u: accounts.reactivate_user(u, current_user), _("The account is active again."))


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
@admin_required
def send_reset(user_id: int):
    def move(user: User) -> None:
        accounts.not_erased(user)
        if not user.is_active_account:
            raise accounts.AccountError(_("This account is deactivated: reactivate it first."))
        accounts.request_password_reset(user.email, actor=current_user)

    return _change(user_id, move, _("A password-reset link has been emailed to the person."))


@bp.route("/users/<int:user_id>/verification", methods=["POST"])
@admin_required
def send_verification(user_id: int):
    def move(user: User) -> None:
        accounts.not_erased(user)
        if user.is_verified:
            raise accounts.AccountError(_("This email address is already confirmed."))
        accounts.send_verification(user, actor=current_user)

    return _change(user_id, move, _("The confirmation link has been emailed to the person again."))


@bp.route("/users/<int:user_id>/erase", methods=["POST"])
@admin_required
def erase(user_id: int):
    """Erase a person who asked (by email or letter): the same anonymisation as their own
    /auth/erase, audited with the admin as actor. Not oneself: that is /auth/erase."""
    def move(user: User) -> None:
        if user.id == current_user.id:
            raise accounts.AccountError(_("Erase your own account from your profile."))
        erasure.erase(user, db.session.get_one(User, current_user.id))

    return _change(user_id, move, _("The person's account has been erased."))
