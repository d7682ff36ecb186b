"""Time-zone helpers: store UTC, show a place's zone, and the viewer's beside it."""
from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from flask_babel import format_datetime, format_time, gettext as _

UTC = dt.timezone.utc

# The zones people pick from; any valid IANA zone is accepted, these come first.
COMMON_ZONES = (
    "Europe/Rome",
    "Asia/Shanghai",
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "America/New_York",
)


@lru_cache(maxsize=None)
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def is_valid_zone(name: str | None) -> bool:
    if not name or len(name) > 64:
        return False
    return name in all_zones()


def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def to_local(value: dt.datetime, tz_name: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused")
    return value.astimezone(zone(tz_name))


def local_date(value: dt.datetime, tz_name: str) -> dt.date:
    """The calendar day `value` falls on in `tz_name`: a course's "today" is its own
    zone's, never the UTC date (DESIGN.md rule 3)."""
    return to_local(value, tz_name).date()


def localize(naive: dt.datetime, tz_name: str) -> dt.datetime:
    """Attach a zone to a wall-clock time typed by a person; returns aware UTC.

    A time that does not exist (skipped by a daylight-saving jump) is refused; one that
    happens twice takes its first occurrence.
    """
    if naive.tzinfo is not None:
        raise ValueError("expected a wall-clock time without zone")
    tz = zone(tz_name)
    aware = naive.replace(tzinfo=tz, fold=0)
    roundtrip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if roundtrip != naive:
        raise ValueError(_("That time does not exist in %(zone)s (the clocks skip it).", zone=tz_name))
    return aware.astimezone(UTC)


def city_of(tz_name: str) -> str:
    names = {"Europe/Rome": _("Rome"), "Asia/Shanghai": _("Shanghai"), "UTC": "UTC"}
    return names.get(tz_name) or tz_name.rsplit("/", 1)[-1].replace("_", " ")


def format_in_zone(value: dt.datetime, tz_name: str, fmt: str = "medium") -> str:
    return format_datetime(to_local(value, tz_name), fmt, rebase=False)


def format_range(start: dt.datetime, end: dt.datetime, place_zone: str, viewer_zone: str | None) -> str:
    """'09:30–11:00 Rome · 15:30–17:00 Shanghai', with the viewer's day when it differs."""

    def span(tz_name: str) -> str:
        a, b = to_local(start, tz_name), to_local(end, tz_name)
        return f"{format_time(a, 'short', rebase=False)}–{format_time(b, 'short', rebase=False)} {city_of(tz_name)}"

    text = span(place_zone)
    if viewer_zone and viewer_zone != place_zone:
        text += " · " + span(viewer_zone)
        there = to_local(start, viewer_zone)
        if there.date() != to_local(start, place_zone).date():
            text += " (" + format_datetime(there, "EEE d MMM", rebase=False) + ")"
    return text
