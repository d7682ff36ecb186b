"""The participant's side of self check-in: /checkin (what the QR code opens)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.db import begin_write
from app.core.errors import DomainError
from app.core.http import domain_error_to_form
from app.extensions import db, limiter
from app.teaching import services
from app.teaching.forms import CheckinForm

bp = Blueprint("checkin", __name__)


def _per_user() -> str:
    return f"checkin-user:{current_user.get_id() if current_user.is_authenticated else request.remote_addr}"


@bp.route("/checkin", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute;60 per hour", key_func=_per_user, methods=["POST"])
def checkin():
    form = CheckinForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:20]
    status = 200
    if form.validate_on_submit():
        begin_write()
        try:
            session = services.check_in(current_user, form.code.data)
        except DomainError as error:
            db.session.rollback()
            domain_error_to_form(error, form)
            status = error.status_code
        else:
            db.session.commit()
            flash(_("You are checked in for “%(session)s”. Welcome!", session=session.title), "success")
            return redirect(url_for("checkin.checkin"))
    elif request.method == "POST":
        status = 400
    return render_template("teaching/participant_checkin.html", form=form), status
