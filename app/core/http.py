"""Small helpers for views: safe redirects, form errors from domain errors, CSV downloads."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from flask import Response, current_app, flash, has_request_context, request, url_for

from app.core.errors import DomainError


def safe_next(default: str) -> str:
    """The `next` target if it stays on this site, else `default`."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc and "\\" not in target:
        return target
    return default


def domain_error_to_form(error: DomainError, form) -> None:  # noqa: ANN001
    """Show a DomainError on its field when it names one, else as a flash."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "danger")


def external_url(endpoint: str, **values) -> str:  # noqa: ANN003
    """The absolute URL of `endpoint` at PONTE_BASE_URL, keeping any path prefix of it.

    Never built from the request's Host header (which anyone can forge): links in the
    API, feeds, calendars, check-in QR codes and emails always point to the public
    address. Works inside a request and outside one (jobs, commands).
    """
    base = current_app.config["PONTE_BASE_URL"].rstrip("/")
    return base + _app_path(endpoint, **values)


def _app_path(endpoint: str, **values) -> str:  # noqa: ANN003
    """The path of `endpoint` inside the application, without the mount point of the
    current request (a proxy's X-Forwarded-Prefix): the base URL carries the prefix."""
    if not has_request_context():
        with current_app.test_request_context("/"):
            return url_for(endpoint, **values)
    path = url_for(endpoint, **values)
    root = request.script_root
    return path[len(root):] if root and path.startswith(root + "/") else path


def csv_response(filename: str, header: list[str], rows) -> Response:  # noqa: ANN001
    """A CSV download that Excel opens correctly: UTF-8 with a BOM (Chinese names stay
    readable) and no cell that a spreadsheet would run as a formula."""
    def safe(value):  # noqa: ANN001, ANN202
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
        return value

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
