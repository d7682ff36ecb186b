from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template

from app.extensions import db, limiter

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/privacy")
def privacy():
    c = current_app.config
    retention = {"emails": c["PONTE_KEEP_EMAIL_BODIES_DAYS"], "audit_ips": c["PONTE_KEEP_AUDIT_IPS_DAYS"],
                 "login_sessions": c["PONTE_KEEP_ENDED_SESSIONS_DAYS"], "unverified": c["PONTE_UNVERIFIED_DAYS"]}
    return render_template("core/privacy.html", privacy_contact=c["PONTE_PRIVACY_CONTACT"], retention=retention)
