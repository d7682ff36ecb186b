"""Jinja filters and globals: times in a place's zone, labels for enums."""
from __future__ import annotations

import datetime as dt
import re

from flask import Flask, current_app, request
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2.ext import _make_new_gettext, _make_new_ngettext, _make_new_npgettext, _make_new_pgettext  # noqa: PLC2701 - the wrappers Jinja installs itself
from markupsafe import Markup, escape

from app.core import numbers, timezones
from app.core.http import external_url
from app.core.labels import label
from app.core.types import utcnow


def viewer_zone() -> str | None:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs: a blank line (however the browser ended its lines,
    and with spaces on it) starts a paragraph, a single line break stays one. Escaped."""
    blocks = re.split(r"\n[ \t]*\n\s*", (text or "").replace("\r\n", "\n").replace("\r", "\n").strip())
    return Markup("").join(Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n")))
                           for block in blocks if block.strip())


def register(app: Flask) -> None:
    app.add_template_global(external_url, "external_url")  # links at PONTE_BASE_URL, never at the Host header

    @app.template_filter("local")
    def local(value: dt.datetime | None, tz_name: str, fmt: str = "medium") -> str:
        if value is None:
            return ""
        return timezones.format_in_zone(value, tz_name, fmt)

    @app.template_filter("moment")
    def moment(value: dt.datetime | None, place_zone: str, fmt: str = "medium") -> str:
        """In the place's zone and the viewer's: "12 Dec 2026, 01:00 Rome (08:00 Shanghai)"."""
        if value is None:
            return ""
        return timezones.format_moment(value, place_zone, viewer_zone(), fmt)

    @app.template_global("time_range")
    def time_range(start: dt.datetime, end: dt.datetime, tz_name: str) -> str:
        return timezones.format_range(start, end, tz_name, viewer_zone())

    @app.template_global("time_in")
    def time_in(start: dt.datetime, end: dt.datetime, tz_name: str) -> str:
        """A date and time range in one zone, e.g. for an email in the reader's zone."""
        day = timezones.skeleton(timezones.to_local(start, tz_name).date(), "full_date")
        return f"{day}, {timezones.format_range(start, end, tz_name, None)}"

    @app.template_filter("day")
    def day(value: dt.date | None, fmt: str = "date") -> str:
        """A calendar day in the locale's order ("full" adds the weekday)."""
        if not value:
            return ""
        return timezones.skeleton(value, {"full": "full_date", "medium": "date", "long": "yMMMMd"}.get(fmt, fmt))

    @app.template_filter("days")
    def days(course, fmt: str = "date") -> str:  # noqa: ANN001 - anything with starts_on and ends_on
        """A course's dates: one day, or first – last."""
        first = day(course.starts_on, fmt)
        return first if course.ends_on == course.starts_on else f"{first} – {day(course.ends_on, fmt)}"

    @app.template_filter("isodate")
    def isodate(value: str) -> dt.date:
        return dt.date.fromisoformat(value)

    app.add_template_filter(paragraphs, "paragraphs")
    app.add_template_filter(numbers.percent, "percent")
    app.add_template_filter(numbers.decimal, "decimal")

    @app.template_filter("label")
    def label_filter(value) -> str:  # noqa: ANN001
        return label(value)

    @app.template_filter("city")
    def city(tz_name: str) -> str:
        return timezones.city_of(tz_name)

    @app.context_processor
    def translations_of_this_request():
        """The page's `_()`, `ngettext()`… bound to this request's catalogue: Flask-Babel's
        own look the catalogue up again through the request context for every string (a
        page has dozens). Same behaviour: Jinja's new-style wrappers (autoescape, %-format)."""
        t = get_translations()
        return {"gettext": _make_new_gettext(t.ugettext), "ngettext": _make_new_ngettext(t.ungettext),
                "pgettext": _make_new_pgettext(t.upgettext), "npgettext": _make_new_npgettext(t.unpgettext)}

    @app.context_processor
    def globals_():
        return {
            "current_locale": str(get_locale() or "en"),
            "languages": [("en", "English"), ("it", "Italiano"), ("zh", "中文")],
            "organisation_name": current_app.config["PONTE_ORGANISATION"],
            "viewer_zone": viewer_zone(),
            "now_utc": utcnow(),
            "request_path": request.full_path.rstrip("?") if request else "/",
        }
