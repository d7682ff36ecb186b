"""/auth/export (a copy of my data) and /auth/erase (erase my account). Admins erase on
request from a person's page (app/admin/people.py)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.accounts import two_factor
from app.accounts.models import User
from app.accounts.passwords import verify_password
from app.accounts.sessions import end_session
from app.core.db import begin_write
from app.core.forms import ConfirmForm, Form, strip
from app.core.writes import write
from app.extensions import db, limiter
from app.privacy import erasure, export

bp = Blueprint("privacy", __name__)


class EraseForm(Form):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])
    code = StringField(_l("Code from your authenticator app"), filters=[strip], validators=[Optional(), Length(max=20)])
    confirm = StringField(_l("Type ERASE to confirm"), filters=[strip], validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Erase my account"))


@bp.route("/auth/export", methods=["GET", "POST"])
@login_required
@limiter.limit("5 per day", key_func=lambda: f"export:{current_user.get_id()}", methods=["POST"])
def my_data():
    """Ask for a copy of everything Ponte holds about me; see how the last one stands."""
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        with write(begin=True) as outcome:
            export.request_export(db.session.get(User, current_user.id))
        if outcome.error:
            flash(outcome.error.message, "info")
            return render_template("privacy/export.html", latest=export.latest_export(current_user.id),
                                   form=ConfirmForm(formdata=None)), outcome.error.status_code
        flash(_("We are preparing your copy and will email you a link within a few minutes."), "success")
        return redirect(url_for("privacy.my_data"))
    return render_template("privacy/export.html", latest=export.latest_export(current_user.id), form=ConfirmForm())


@bp.route("/auth/export/<token>")
@login_required
def download(token: str):
    """The emailed link: the ZIP, for its owner only, for 24 hours."""
    found = export.ready_export(token, current_user.id)
    if found is None or found.path is None:
        return render_template("privacy/export_gone.html"), 404
    return send_file(found.path, mimetype="application/zip", as_attachment=True,
                     download_name="ponte-my-data.zip", max_age=0)


@bp.route("/auth/erase", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", key_func=lambda: f"erase:{current_user.get_id()}", methods=["POST"])
def erase_me():
    """Erase my account after my password (and my code, with two-factor sign-in)."""
    form = EraseForm()
    user = db.session.get(User, current_user.id)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        if form.confirm.data.upper() != "ERASE":
            form.confirm.errors = [_("Type the word ERASE to confirm.")]
        elif not verify_password(user.password_hash, form.password.data):
            form.password.errors = [_("Your password is not correct.")]
        else:
            begin_write()
            user = db.session.get(User, current_user.id)
            if user.has_two_factor and not two_factor.check(user, form.code.data or ""):
                db.session.rollback()
                form.code.errors = [_("That code is not right.")]
            else:
                with write() as outcome:
                    erasure.erase(user, user)
                    end_session()
                if not outcome.error:
                    flash(_("Your account has been erased. Thank you for taking part."), "info")
                    return redirect(url_for("catalogue.home"))
                status = outcome.error.status_code  # the page says why (only lead, last admin)
                if not erasure.only_lead_of(user):
                    flash(outcome.error.message, "danger")
    return render_template("privacy/erase.html", form=form, blocking=erasure.only_lead_of(user),
                           contact=current_app.config["PONTE_PRIVACY_CONTACT"]), status
