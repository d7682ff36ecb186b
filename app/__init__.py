"""Ponte — the application factory reads like a table of contents."""
from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from flask import Flask, current_app, request
from flask_login import current_user

from config import Config, config_from_env


def create_app(config_class: type[Config] | None = None) -> Flask:
    config_class = config_class or config_from_env()
    instance_path = os.environ.get("PONTE_INSTANCE_DIR")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=False)
    app.config.from_object(config_class)
    config_class.init_app(app)

    trust_proxies(app)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_attachments(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    configure_logging(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind PONTE_TRUSTED_PROXIES reverse proxies, take the client's address, scheme,
    host, port and path prefix from their X-Forwarded-* headers (the last N values), so
    that rate limits and the audit log see the client, not the proxy. With 0 (the
    default) those headers are ignored: anyone could send them."""
    hops = int(app.config.get("PONTE_TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)


# Forms with a file field check its size themselves ("The logo must be 1 MB or smaller")
# and keep the rest of what was typed: they may receive more than MAX_CONTENT_LENGTH.
UPLOAD_ENDPOINTS = {"admin.programme_form", "certificates.settings"}


def _room_for_uploads() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = current_app.config["PONTE_MAX_UPLOAD_LENGTH"]


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 - every table known to SQLAlchemy and Alembic
    from app.accounts.sessions import load_user
    from app.extensions import babel, bootstrap, cache, csrf, db, limiter, login_manager, migrate
    from app.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    app.before_request(_room_for_uploads)  # before CSRFProtect reads the form
    csrf.init_app(app)
    bootstrap.init_app(app)
    cache.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")

    with app.app_context():
        _configure_sqlite(db.engine)


def _configure_sqlite(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # noqa: ANN001
        # We emit BEGIN ourselves (below), so savepoints work and writers can take the
        # write lock up front; see SQLAlchemy's "pysqlite serializable" recipe.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    from app.core.db import sqlite_immediate

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if sqlite_immediate.get():
            mode = "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


def register_url_converters(app: Flask) -> None:
    from app.core.http import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added


def register_attachments(app: Flask) -> None:
    """What an email can carry, built at delivery from a kind and a reference: named here,
    so that what a job can attach does not depend on which module happened to be imported."""
    from app.certificates.services import certificate_attachment
    from app.notifications.services import register_attachment_provider
    from app.schedule.ical import session_attachment

    register_attachment_provider(app, "certificate", certificate_attachment)
    register_attachment_provider(app, "session_ics", session_attachment)


def register_blueprints(app: Flask) -> None:
    from app.accounts.views import bp as accounts_bp
    from app.admin.audit_log import bp as audit_log_bp
    from app.admin.people import bp as people_bp
    from app.admin.views import bp as admin_bp
    from app.catalogue.api import bp as api_bp
    from app.catalogue.feeds import bp as feeds_bp
    from app.catalogue.views import bp as catalogue_bp
    from app.certificates.views import bp as certificates_bp
    from app.core.views import bp as core_bp
    from app.enrolment.views import bp as enrolment_bp
    from app.feedback.views import bp as feedback_bp
    from app.impact.evidence_views import bp as evidence_bp
    from app.impact.views import bp as impact_bp
    from app.participant.views import bp as participant_bp
    from app.privacy.views import bp as privacy_bp
    from app.schedule.views import bp as schedule_bp
    from app.teaching.checkin import bp as checkin_bp
    from app.teaching.views import bp as teaching_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp, url_prefix="/auth")
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(enrolment_bp)
    app.register_blueprint(schedule_bp)
    app.register_blueprint(teaching_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(participant_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(audit_log_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(impact_bp)


def register_errorhandlers(app: Flask) -> None:
    from app.core.errorpages import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from app.core.db import register_write_requests

    register_write_requests(app)

    from app.core.http import check_query_args
    from app.core.writes import committed
    from app.notifications.services import deliver_on_commit, render_after_request

    committed.connect(deliver_on_commit)  # a write view's commit sends its emails when configured to
    app.before_request(check_query_args)
    app.after_request(render_after_request)  # emails queued by the request, rendered after its commit

    @app.after_request
    def security_headers(response):  # noqa: ANN001
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if current_user.is_authenticated and "Cache-Control" not in headers:
            headers["Cache-Control"] = "private, no-store"
        return response


def register_template_helpers(app: Flask) -> None:
    from app.core import templating

    templating.register(app)


def register_commands(app: Flask) -> None:
    from app.accounts.commands import users_cli
    from app.admin.demo import seed_cli
    from app.certificates.commands import certificates_cli
    from app.impact.commands import impact_cli
    from app.jobs.commands import doctor_command, scheduler_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(impact_cli)
    app.cli.add_command(doctor_command)


def configure_logging(app: Flask) -> None:
    level = logging.DEBUG if app.debug else logging.INFO
    if not app.testing:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(level)
