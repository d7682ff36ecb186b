from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import services, two_factor
from app.accounts.forms import (
    CodeForm,
    ConsentForm,
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
from app.core.forms import ConfirmForm
from app.core.http import domain_error_to_form, safe_next
from app.core.types import utcnow
from app.core.writes import write
from app.extensions import csrf, db, limiter

bp = Blueprint("accounts", __name__)


def _login_email_key() -> str:
    return "login-email:" + services.normalise_email(request.form.get("email", ""))[:254]


def _login_limit() -> str:
    return current_app.config["PONTE_LOGIN_LIMIT"]


def _failed(response) -> bool:  # noqa: ANN001
    # Only failed attempts count: a successful login redirects.
    return response.status_code != 302


def _register_email_key() -> str:
    return "register-email:" + services.normalise_email(request.form.get("email", ""))[:254]


def _register_limit() -> str:
    return current_app.config["PONTE_REGISTER_LIMIT"]


def _register_client_limit() -> str:
    return current_app.config["PONTE_REGISTER_CLIENT_LIMIT"]


def _sent(response) -> bool:  # noqa: ANN001
    # Only registrations that went through (and sent an email) count: a form error does not.
    return response.status_code == 302


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, key_func=_register_email_key, methods=["POST"], deduct_when=_sent)
@limiter.limit(_register_client_limit, methods=["POST"], deduct_when=_sent)
def register():
    if current_user.is_authenticated:
        return redirect(url_for("participant.dashboard"))
    form = RegisterForm()
    form.fill_choices()
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
            transfer_consent=form.transfer_consent.data,
            reporting=form.reporting_values(),
        )
        with write(begin=True) as outcome:
            services.register_by_email(data)
        if not outcome.error:
            # The same answer whether the address is new or has an account (its owner is told by email).
            session["ponte_registered"] = services.normalise_email(data.email)
            return redirect(url_for("accounts.register_sent"))
        domain_error_to_form(outcome.error, form)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/register/sent")
def register_sent():
    """"Check your inbox": where every registration lands, new address or not."""
    email = session.get("ponte_registered")
    if not email:
        return redirect(url_for("accounts.register"))
    return render_template("accounts/register_sent.html", email=email)


@bp.route("/verify/<token>")
def verify(token: str):
    """The link emailed at registration: confirms the address and signs its owner in."""
    begin_write()
    try:
        user, outcome = services.verify_email(token)
    except services.AccountError as error:
        db.session.rollback()
        return render_template("accounts/verify_failed.html", message=error.message), 400
    if outcome is services.VerifyOutcome.ALREADY:
        db.session.commit()
        flash(_("Your email address is already confirmed."), "info")
        return redirect(url_for("participant.dashboard") if current_user.is_authenticated else url_for("accounts.login"))
    if current_user.is_authenticated and current_user.id != user.id:
        # Someone else is signed in on this browser: confirm, but never switch accounts.
        db.session.commit()
        flash(_("The address %(email)s is confirmed. You are still signed in as %(name)s.", email=user.email,
                name=current_user.full_name), "info")
        return redirect(url_for("participant.dashboard"))
    if not current_user.is_authenticated:
        start_session(user)
    db.session.commit()
    session.pop("ponte_registered", None)
    with force_locale(user.locale):
        flash(_("Thank you, your email address is confirmed. Welcome to Ponte, %(name)s!", name=user.full_name),
              "success")
    return redirect(url_for("participant.dashboard"))


def _resend_key() -> str:
    return f"verify-resend:{current_user.get_id()}"


def _resend_limit() -> str:
    return current_app.config["PONTE_VERIFY_RESEND_LIMIT"]


@bp.route("/verify/resend", methods=["POST"])
@login_required
@limiter.limit(_resend_limit, key_func=_resend_key)
def resend_verification():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if current_user.is_verified:
        flash(_("Your email address is already confirmed."), "info")
        return redirect(safe_next(url_for("participant.dashboard")))
    with write(begin=True):  # refuses nothing
        services.send_verification(db.session.get(User, current_user.id))
    flash(_("We have sent a new link to %(email)s. It works for 48 hours.", email=current_user.email), "info")
    return redirect(safe_next(url_for("participant.dashboard")))


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
        if user is not None and user.has_two_factor:
            # The password was right; the session starts once the second factor is given.
            begin_write()
            services.rehash_if_needed(db.session.get(User, user.id), form.password.data)
            db.session.commit()
            lang = session.get("lang")
            session.clear()
            session.update({"2fa_user": user.id, "2fa_since": int(utcnow().timestamp()),
                            "2fa_next": safe_next(_home_of(user))} | ({"lang": lang} if lang else {}))
            return redirect(url_for("accounts.two_factor_login"))
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


# --- two-factor sign-in -----------------------------------------------------------------

TWO_FACTOR_WINDOW = 300  # seconds between the password and the code


def _pending_two_factor() -> User | None:
    user_id, since = session.get("2fa_user"), session.get("2fa_since", 0)
    if not isinstance(user_id, int) or utcnow().timestamp() - since > TWO_FACTOR_WINDOW:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active and user.has_two_factor else None


def _two_factor_key() -> str:
    return f"2fa:{session.get('2fa_user')}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", key_func=_two_factor_key, methods=["POST"], deduct_when=_failed)
def two_factor_login():
    """The second step of signing in: a code from the app, or a recovery code."""
    user = _pending_two_factor()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        begin_write()
        user = db.session.get(User, user.id)
        code = form.code.data
        accepted = two_factor.check(user, code) or (len(code) > 6 and two_factor.use_recovery_code(user, code))
        if accepted:
            target = session.get("2fa_next") or _home_of(user)
            start_session(user)
            db.session.commit()
            if len(code) > 6:
                flash(ngettext("You used a recovery code; %(num)d is left. Make new ones on the two-factor page.",
                               "You used a recovery code; %(num)d are left. Make new ones on the two-factor page if "
                               "you are running out.", two_factor.recovery_codes_left(user)), "warning")
            flash(_("You are logged in."), "success")
            return redirect(safe_next(target))
        two_factor.record_failure(user)
        db.session.commit()
        form.code.errors = [_("That code is not right, or it has been used already.")]
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/two_factor_login.html", form=form), status


@bp.route("/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Turn on two-factor sign-in (scan, then type a code), see how many recovery codes
    are left, make new ones, or (not admins) turn it off."""
    form = CodeForm()
    user = db.session.get(User, current_user.id)
    if user.has_two_factor:
        return render_template("accounts/two_factor.html", form=form, codes_left=two_factor.recovery_codes_left(user))
    secret = session.get("2fa_pending_secret")  # the same key on every visit until it is confirmed
    if not secret:
        secret = session["2fa_pending_secret"] = two_factor.new_secret()
    status = 200
    if form.validate_on_submit():
        with write(begin=True) as outcome:
            codes = two_factor.enable(db.session.get(User, current_user.id), secret, form.code.data)
        if not outcome.error:
            session.pop("2fa_pending_secret", None)
            flash(_("Two-factor sign-in is on."), "success")
            return render_template("accounts/recovery_codes.html", codes=codes)
        domain_error_to_form(outcome.error, form)
        status = outcome.error.status_code
    elif request.method == "POST":
        status = 400
    return render_template("accounts/two_factor.html", form=form, secret=secret, qr=two_factor.qr_svg(user, secret)), status


def _with_a_code(move):  # noqa: ANN001
    """Run a two-factor change that a code from the app confirms; a wrong code goes back
    to the two-factor page with the reason."""
    form = CodeForm()
    if not form.validate_on_submit():
        abort(400)
    with write(begin=True) as outcome:
        result = move(db.session.get(User, current_user.id), form.code.data)
    if outcome.error:
        flash(outcome.error.message, "danger")
        user = db.session.get(User, current_user.id)  # the page again, with the reason and a 4xx
        page = render_template("accounts/two_factor.html", form=CodeForm(formdata=None),
                               codes_left=two_factor.recovery_codes_left(user))
        return None, (page, outcome.error.status_code)
    return result, None


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@login_required
@limiter.limit("5 per minute", key_func=lambda: f"2fa-codes:{current_user.get_id()}")
def two_factor_new_codes():
    codes, refused = _with_a_code(two_factor.regenerate_recovery_codes)
    return refused or render_template("accounts/recovery_codes.html", codes=codes)


@bp.route("/two-factor/off", methods=["POST"])
@login_required
@limiter.limit("5 per minute", key_func=lambda: f"2fa-off:{current_user.get_id()}")
def two_factor_off():
    _done, refused = _with_a_code(two_factor.disable)
    if refused:
        return refused
    flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("accounts.profile"))


@bp.route("/consent", methods=["GET", "POST"])
@login_required
def consent():
    """A new privacy notice, or a transfer consent not given yet: agree to go on."""
    need_privacy, need_transfer = services.consents_needed(current_user)
    if not (need_privacy or need_transfer):
        return redirect(safe_next(url_for("participant.dashboard")))
    form = ConsentForm()
    status = 200
    if form.validate_on_submit():
        with write(begin=True) as outcome:
            services.give_consent(db.session.get(User, current_user.id), privacy=form.privacy.data,
                                  transfer=form.transfer.data)
        if not outcome.error:
            flash(_("Thank you."), "success")
            return redirect(safe_next(url_for("participant.dashboard")))
        flash(outcome.error.message, "danger")
        status = outcome.error.status_code
    elif request.method == "POST":
        status = 400
    return render_template("accounts/consent.html", form=form, need_privacy=need_privacy, need_transfer=need_transfer,
                           version=services.privacy_version()), status


_OPEN_BEFORE_CONSENT = {"accounts.consent", "accounts.logout", "accounts.set_language", "accounts.two_factor_setup",
                        "accounts.profile",
                        "static", "bootstrap.static", "core.healthz", "core.privacy"}


@bp.before_app_request
def consent_to_the_current_notice_first():
    """Someone signed in who has not agreed to the current notice (or, in China, to the
    transfer) is asked to before anything else."""
    if (current_user.is_authenticated and request.endpoint not in _OPEN_BEFORE_CONSENT
            and any(services.consents_needed(current_user))):
        return redirect(url_for("accounts.consent", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    return None


_OPEN_TO_ADMINS_WITHOUT_TWO_FACTOR = {"accounts.two_factor_setup", "accounts.logout", "accounts.set_language", "static",
                                      "accounts.consent",
                                      "core.healthz", "core.privacy", "bootstrap.static"}


@bp.before_app_request
def admins_set_up_two_factor_first():
    """An administrator without two-factor sign-in is sent to set it up (PONTE_ADMIN_TWO_FACTOR)."""
    if (current_app.config.get("PONTE_ADMIN_TWO_FACTOR") and current_user.is_authenticated and current_user.is_admin
            and not current_user.has_two_factor and request.endpoint not in _OPEN_TO_ADMINS_WITHOUT_TWO_FACTOR):
        if request.method == "GET":
            flash(_("Administrators sign in with a second factor. Please set it up now."), "warning")
        return redirect(url_for("accounts.two_factor_setup"))
    return None


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
        with write(begin=True):  # refuses nothing: the same answer for every address
            services.request_password_reset(form.email.data)
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
        with write(begin=True) as outcome:
            services.reset_password(token, form.password.data)
            if current_user.is_authenticated:
                end_session()
        if outcome.error:
            flash(outcome.error.message, "danger")
            return redirect(url_for("accounts.reset_request"))
        flash(_("Your password has been changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset.html", form=form), status


def _profile_page(form=None, password_form=None, status=200):  # noqa: ANN001
    if form is None:
        form = ProfileForm(obj=current_user, formdata=None)
        form.organisation_type.data = current_user.organisation_type.value if current_user.organisation_type else ""
        form.fill_reporting(current_user)
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
        with write(begin=True) as outcome:
            services.update_profile(
                current_user,
                full_name=form.full_name.data,
                native_name=form.native_name.data,
                organisation=form.organisation.data,
                organisation_type=OrganisationType(form.organisation_type.data) if form.organisation_type.data else None,
                country=form.country.data,
                locale=form.locale.data,
                timezone=form.timezone.data,
                **form.reporting_values(),
            )
        if not outcome.error:
            session["lang"] = current_user.locale
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
        domain_error_to_form(outcome.error, form)
    return _profile_page(form=form, status=400)


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        with write(begin=True) as outcome:
            services.change_password(current_user, form.current_password.data, form.password.data)
            end_other_sessions(current_user)
        if not outcome.error:
            flash(_("Your password has been changed; other devices have been logged out."), "success")
            return redirect(url_for("accounts.profile"))
        domain_error_to_form(outcome.error, form)
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
