"""A short-lived cache for the pages anonymous visitors see most, on Flask-Caching.

The catalogue is read far more than it changes, and everyone who is not signed in sees
the same HTML for the same address and language. Such pages are kept for
`PONTE_PAGE_CACHE_SECONDS` (5 s by default; 0 turns it off): "3 places left" may lag by
that much, never the places themselves, which are only ever taken by the race-safe
enrol path. Signed-in users, pending flash messages and non-GET requests bypass it.

The store is Flask-Caching's: a SimpleCache in each worker process by default, or one
Redis shared by every worker when `PONTE_CACHE_REDIS_URL` is set. Benchmarks never
measure it in their headline figures (bench/pages.py turns it off and labels the one
cached figure it prints).
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from app.extensions import cache


def anonymous_page_cache(view):  # noqa: ANN001
    @wraps(view)
    def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003
        ttl = current_app.config.get("PONTE_PAGE_CACHE_SECONDS", 0)
        if not ttl or request.method != "GET" or current_user.is_authenticated or set(session) - {"lang"}:
            return view(*args, **kwargs)
        key = f"page:{request.endpoint}:{get_locale()}:{request.full_path}"
        hit = cache.get(key)
        if hit is not None:
            body, status, headers = hit
            return current_app.response_class(body, status=status, headers=headers)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough and "Set-Cookie" not in response.headers:
            cache.set(key, (response.get_data(), response.status_code, list(response.headers.items())),
                      timeout=max(1, round(ttl)))
        return response

    return wrapped
