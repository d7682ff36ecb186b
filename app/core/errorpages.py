"""Friendly error pages in the user's language; JSON for the API."""
from __future__ import annotations

import logging

from babel.dates import format_timedelta
from babel.numbers import format_decimal
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.errors import DomainError
from app.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you sent and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Page not found"), _l("We could not find that page. It may have moved, or it may never have existed.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many attempts"), _l("Please wait a minute before you try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. It has been logged; please try again later.")),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    if _wants_json():
        return jsonify(error=str(detail or message), status=code), code
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def _retry_after(error: HTTPException) -> str:
    """The limit's window, in the reader's words ("1 hour", "1 ora", "1小时")."""
    item = getattr(getattr(error, "limit", None), "limit", None)
    seconds = item.get_expiry() if item is not None else 60
    return format_timedelta(seconds, threshold=1, locale=get_locale() or "en")


def _megabytes() -> str:
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return format_decimal(round(limit / (1024 * 1024), 1), locale=get_locale() or "en")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):  # noqa: ANN001
        db.session.rollback()
        return _render(400, str(_l("This form has expired or was not sent from Ponte. Please reload the page and try again.")))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return _render(error.status_code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        if code not in MESSAGES:
            return error
        if code == 429:  # say how long: a limit may be per minute, per hour or per day
            return _render(429, str(_l("Too many attempts. Please try again in %(wait)s.", wait=_retry_after(error))))
        if code == 413:  # say how much is allowed (a logo or a file over the request limit)
            return _render(413, str(_l("What you sent is too large: at most %(size)s MB can be sent at once. "
                                       "Go back and choose a smaller file.", size=_megabytes())))
        return _render(code)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500)
