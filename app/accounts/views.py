from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import services
from app.accounts.forms import (
    LanguageForm,
    LoginForm,
    LogoutEverywhereForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    ResetForm,
    ResetRequestForm,
)
from app.accounts.models import OrganisationType, Role, User
from app.accounts.sessions import end_other_sessions, end_session, start_session
from app.core.db import begin_write, deferred_reads
from app.core.http import domain_error_to_form, safe_next
from app.extensions import csrf, db, limiter
from app.notifications.services import deliver_after_commit

bp = Blueprint("accounts", __name__)


def _login_email_key() -> str:
    return "login-email:" + services.normalise_email(request.form.get("email", ""))[:254]


def _login_limit() -> str:
    return current_app.config["PONTE_LOGIN_LIMIT"]


def _failed(response) -> bool:  # noqa: ANN001
    # Only failed attempts count: a successful login redirects.
    return response.status_code != 302


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("participant.dashboard"))
    form = RegisterForm()
    form.fill_choices()
    account_exists = False
    if request.method == "GET":
        form.locale.data = session.get("lang") or request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"
        # Without JavaScript (which reads the browser's zone and region), guess by language.
        form.timezone.data = "Asia/Shanghai" if form.locale.data == "zh" else "Europe/Rome"
        form.country.data = {"zh": "CN", "it": "IT"}.get(form.locale.data, "")
    if form.validate_on_submit():
        data = services.Registration(
            email=form.email.data,
            password=form.password.data,
            full_name=form.full_name.data,
            native_name=form.native_name.data,
            organisation=form.organisation.data,
            organisation_type=OrganisationType(form.organisation_type.data) if form.organisation_type.data else None,
            country=form.country.data,
            locale=form.locale.data,
            timezone=form.timezone.data,
            privacy_consent=form.privacy_consent.data,
        )
        begin_write()
        try:
            user = services.register_user(data)
        except services.AccountError as error:
            db.session.rollback()
            domain_error_to_form(error, form)
            account_exists = isinstance(error, services.AccountExists)
        else:
            start_session(user)
            db.session.commit()
            flash(_("Welcome to Ponte, %(name)s! Your account is ready.", name=user.full_name), "success")
            return redirect(url_for("participant.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form, account_exists=account_exists), status


def _home_of(user: User) -> str:
    """Where a login lands without a `next`: each role's own start page."""
    return url_for({Role.ADMIN: "admin.dashboard", Role.INSTRUCTOR: "teaching.home"}.get(user.role, "participant.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_login_email_key, methods=["POST"], deduct_when=_failed)
@limiter.limit("30 per minute", methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(_home_of(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        with deferred_reads():
            user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            # Hash checked outside the write lock; then write the login in a short
            # transaction that takes the lock up front (16 people at once all get in).
            begin_write()
            user = db.session.get(User, user.id)
            services.rehash_if_needed(user, form.password.data)
            start_session(user)
            db.session.commit()
            flash(_("You are logged in."), "success")
            return redirect(safe_next(_home_of(user)))
        db.session.rollback()
        form.password.errors = [_("Email or password is not correct.")]
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    # A POST with a CSRF token: a link on another site cannot log anyone out.
    if current_user.is_authenticated:
        begin_write()
        end_session()
        db.session.commit()
        flash(_("You are logged out."), "info")
    return redirect(url_for("catalogue.home"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        begin_write()
        services.request_password_reset(form.email.data)
        db.session.commit()
        deliver_after_commit()
        flash(_("If an account exists for that address, we have sent it a link to choose a new password."), "info")
        return redirect(url_for("accounts.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    if services.valid_reset_token(token) is None:
        db.session.rollback()
        flash(_("This reset link is invalid or has expired. Ask for a new one."), "danger")
        return redirect(url_for("accounts.reset_request"))
    form = ResetForm()
    if form.validate_on_submit():
        begin_write()
        try:
            services.reset_password(token, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("accounts.reset_request"))
        if current_user.is_authenticated:
            end_session()
        db.session.commit()
        flash(_("Your password has been changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset.html", form=form), status


def _profile_page(form=None, password_form=None, status=200):  # noqa: ANN001
    if form is None:
        form = ProfileForm(obj=current_user, formdata=None)
        form.organisation_type.data = current_user.organisation_type.value if current_user.organisation_type else ""
    form.fill_choices()
    return render_template(
        "accounts/profile.html",
        form=form,
        password_form=password_form or PasswordChangeForm(prefix="pw", formdata=None),
        everywhere_form=LogoutEverywhereForm(prefix="all", formdata=None),
    ), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    if request.method == "GET":
        return _profile_page()
    form = ProfileForm()
    form.fill_choices()
    if form.validate_on_submit():
        begin_write()
        try:
            services.update_profile(
                current_user,
                full_name=form.full_name.data,
                native_name=form.native_name.data,
                organisation=form.organisation.data,
                organisation_type=OrganisationType(form.organisation_type.data) if form.organisation_type.data else None,
                country=form.country.data,
                locale=form.locale.data,
                timezone=form.timezone.data,
            )
        except services.AccountError as error:
            db.session.rollback()
            domain_error_to_form(error, form)
        else:
            db.session.commit()
            session["lang"] = current_user.locale
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(form=form, status=400)


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        begin_write()
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except services.AccountError as error:
            db.session.rollback()
            domain_error_to_form(error, form)
        else:
            end_other_sessions(current_user)
            db.session.commit()
            flash(_("Your password has been changed; other devices have been logged out."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(password_form=form, status=400)


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = LogoutEverywhereForm(prefix="all")
    if not form.validate_on_submit():
        abort(400)
    begin_write()
    end_other_sessions(current_user)
    db.session.commit()
    flash(_("Every other device has been logged out."), "success")
    return redirect(url_for("accounts.profile"))


@bp.route("/language", methods=["POST"])
@csrf.exempt
def set_language():
    # Anonymous visitors only change a cookie of their own: no token needed, so that
    # public pages carry none. A signed-in user's profile changes: CSRF applies.
    if current_user.is_authenticated and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    form = LanguageForm(meta={"csrf": False})
    if not form.validate_on_submit():
        abort(400)
    session["lang"] = form.lang.data
    if current_user.is_authenticated and current_user.locale != form.lang.data:
        begin_write()
        current_user.locale = form.lang.data
        db.session.commit()
    return redirect(safe_next(url_for("catalogue.home")))
