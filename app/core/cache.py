"""A short-lived, per-process cache for pages anonymous visitors see most.

The catalogue is read far more than it changes, and everyone who is not signed in sees
the same HTML for the same address and language. Such pages are kept for
`PONTE_PAGE_CACHE_SECONDS` (5 s by default; 0 turns it off): "3 places left" may lag by
that much, never the places themselves, which are only ever taken by the race-safe
enrol path. Signed-in users, pending flash messages and non-GET requests bypass it.
"""
from __future__ import annotations

import time
from functools import wraps
from threading import Lock

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

MAX_ENTRIES = 512


class PageCache:
    def __init__(self) -> None:
        self._store: dict[tuple, tuple[float, bytes, int, list]] = {}
        self._lock = Lock()

    def get(self, key: tuple):
        entry = self._store.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1:]

    def put(self, key: tuple, ttl: float, body: bytes, status: int, headers: list) -> None:
        with self._lock:
            if len(self._store) >= MAX_ENTRIES:
                now = time.monotonic()
                for k in [k for k, v in self._store.items() if v[0] < now] or list(self._store)[: MAX_ENTRIES // 2]:
                    self._store.pop(k, None)
            self._store[key] = (time.monotonic() + ttl, body, status, headers)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()


def _cache() -> PageCache:
    return current_app.extensions.setdefault("ponte_page_cache", PageCache())


def anonymous_page_cache(view):  # noqa: ANN001
    @wraps(view)
    def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003
        ttl = current_app.config.get("PONTE_PAGE_CACHE_SECONDS", 0)
        if not ttl or request.method != "GET" or current_user.is_authenticated or set(session) - {"lang"}:
            return view(*args, **kwargs)
        key = (request.endpoint, request.full_path, str(get_locale()))
        hit = _cache().get(key)
        if hit is not None:
            body, status, headers = hit
            return current_app.response_class(body, status=status, headers=headers)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough and "Set-Cookie" not in response.headers:
            _cache().put(key, ttl, response.get_data(), response.status_code, list(response.headers.items()))
        return response

    return wrapped
