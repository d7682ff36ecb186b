"""The participant's side of self check-in: /checkin (what the QR code opens)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.http import domain_error_to_form
from app.core.writes import write
from app.extensions import limiter
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
        with write(begin=True) as outcome:
            session = services.check_in(current_user, form.code.data)
        if not outcome.error:
            flash(_("You are checked in for “%(session)s”. Welcome!", session=session.title), "success")
            return redirect(url_for("checkin.checkin"))
        domain_error_to_form(outcome.error, form)
        status = outcome.error.status_code
    elif request.method == "POST":
        status = 400
    return render_template("teaching/participant_checkin.html", form=form), status
