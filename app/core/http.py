"""Small helpers for views: safe redirects, form errors from domain errors, CSV downloads."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from flask import Response, abort, current_app, flash, has_request_context, request, url_for
from werkzeug.routing import IntegerConverter

from app.core.errors import DomainError

MAX_DB_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL (and we use)


def db_id(value: str | int) -> int:
    """An id typed into a form or a query: a positive integer a database id can be,
    else ValueError (which the view turns into a 400)."""
    number = int(value)
    if not 1 <= number <= MAX_DB_ID:
        raise ValueError(f"id out of range: {value!r}")
    return number


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in routes: numbers a database id can be, so that
    /…/99999999999999999999/… is a 404 like any unknown id, never an overflow."""

    def __init__(self, url_map, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(url_map, *args, **kwargs)


MAX_PAGE = 100_000


# Bidirectional embeddings, overrides and isolates (U+202A–E, U+2066–9): "Evil\u202egnp.exe"
# shows as "Evilexe.png". Nobody needs them in a name, an organisation or a title; the
# plain direction marks (U+200E, U+200F) stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_chars(text: str) -> bool:
    """NUL and the other C0/C1 control characters, bar tab and newlines, and the bidi
    overrides: nobody types them, PostgreSQL refuses NUL in text, they would break CSV
    exports and PDFs, and an override makes a name read as something else."""
    return any((ord(c) < 32 and c not in "\t\n\r") or 127 <= ord(c) < 160 or c in _BIDI_CONTROLS for c in text)


def posted_control_chars() -> bool:
    """Whether any value of the posted form carries control characters (for the few
    sheets that read `request.form` directly instead of through a `Form`)."""
    return any(has_control_chars(value) for value in request.form.values())


def check_query_args() -> None:
    """Before every request: no control characters in the query string (400), and
    `page` and `per_page` are small positive integers, else 400 (a huge page would reach
    the database as an overflowing OFFSET)."""
    if any(has_control_chars(key) or has_control_chars(value) for key, value in request.args.items(multi=True)):
        abort(400)
    for name in ("page", "per_page"):
        value = request.args.get(name)
        if value is None:
            continue
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PAGE):
            abort(400)


def _gettable(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(urlsplit(path).path, method="GET")
    except Exception:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect: not a page to land on
        return False
    return True


def safe_next(default: str) -> str:
    """The `next` target if it is a page of this site one can open (a POST-only address
    such as a withdraw button leads to its parent page), else `default`."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc or "\\" in target
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or len(target) > 2000):
        return default
    if _gettable(target):
        return target
    parent = parts.path.rstrip("/").rsplit("/", 1)[0]
    return parent if parent and _gettable(parent) else default


def flash_form_errors(form, fallback: str | None = None) -> None:  # noqa: ANN001
    """Flash what is wrong with a form shown elsewhere (a button's small form on a list
    page): each field's message with its label, or `fallback` when there is none."""
    shown = False
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        label = field.label.text if field is not None and name != "csrf_token" else ""
        for message in errors:
            flash(f"{label}: {message}" if label else message, "danger")
            shown = True
    if not shown and fallback:
        flash(fallback, "danger")


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


def spreadsheet_safe(value):  # noqa: ANN001, ANN201
    """A cell no spreadsheet runs as a formula (CSV or XLSX): text starting with = + - @
    or a tab or carriage return is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows) -> Response:  # noqa: ANN001
    """A CSV download that Excel opens correctly: UTF-8 with a BOM (Chinese names stay
    readable) and no cell that a spreadsheet would run as a formula."""
    safe = spreadsheet_safe
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return Response(out.getvalue(), mimetype="text/csv",  # Flask adds "; charset=utf-8"
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
