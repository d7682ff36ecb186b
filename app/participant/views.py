from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.catalogue.models import Course
from app.enrolment import services as enrolment_services
from app.enrolment.forms import ConfirmForm
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db

bp = Blueprint("participant", __name__)


@bp.route("/me")
@login_required
def dashboard():
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.user_id == current_user.id)
        .join(Enrolment.course)
        .options(so.contains_eager(Enrolment.course))
        .order_by(Course.starts_on.desc())
    ).all()
    positions = {e.id: enrolment_services.waitlist_position(e) for e in enrolments if e.status is EnrolmentStatus.WAITLISTED}
    return render_template(
        "participant/dashboard.html", enrolments=enrolments, positions=positions,
        can_withdraw={e.id: enrolment_services.can_withdraw(e) for e in enrolments}, confirm_form=ConfirmForm(),
    )
