"""Time-zone helpers: store UTC, show a place's zone, and the viewer's beside it."""
from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime, match_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _

UTC = dt.UTC

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


@cache
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


# Formats by skeleton: the locale orders the pieces ("12 dic 2026, 01:00",
# "2026年12月12日 01:00"), never a hand-joined pattern; minutes, no seconds.
SKELETONS = {"short": "yMMMdHm", "medium": "yMMMdHm", "long": "yMMMMdHm", "full": "yMMMMEEEEdHm",
             "date": "yMMMd", "day": "MMMEd", "time": "Hm"}


_TIME_FIELDS = set("HhKkmsajB")


def skeleton(value: dt.datetime | dt.date, name_or_skeleton: str) -> str:
    """`value` in the current locale's pattern for a skeleton (or one of SKELETONS).
    A date-and-time skeleton is formatted as its two halves glued with the locale's own
    date-time pattern (CLDR's "{1}, {0}"), as CLDR prescribes."""
    pattern = SKELETONS.get(name_or_skeleton, name_or_skeleton)
    locale = _locale(str(get_locale() or "en"))
    if name_or_skeleton == "full_date":  # the locale's own full date, weekday spelt out
        return format_date(value.date() if isinstance(value, dt.datetime) else value, "full", locale=locale)
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(12), UTC)
    date_format, time_format, glue = _formats(locale, pattern)

    def fmt(part: str) -> str:
        return format_datetime(value, part, tzinfo=value.tzinfo, locale=locale)

    if date_format and time_format:
        return glue.replace("{1}", fmt(date_format)).replace("{0}", fmt(time_format))
    return fmt(date_format or time_format or "")


@lru_cache(maxsize=8)
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


@lru_cache(maxsize=256)
def _formats(locale: Locale, pattern: str) -> tuple[str | None, str | None, str]:
    """The locale's (date pattern, time pattern, glue) for a skeleton: matching a skeleton
    against CLDR's list is the slow part of formatting, and its answer never changes."""
    date_part = "".join(ch for ch in pattern if ch not in _TIME_FIELDS)
    time_part = "".join(ch for ch in pattern if ch in _TIME_FIELDS)

    def best(part: str) -> str | None:
        if not part:
            return None
        skeletons = locale.datetime_skeletons
        return str(skeletons[part if part in skeletons else (match_skeleton(part, skeletons) or part)])

    return best(date_part), best(time_part), str(locale.datetime_formats.get("medium", "{1} {0}"))


def format_in_zone(value: dt.datetime, tz_name: str, fmt: str = "medium") -> str:
    return skeleton(to_local(value, tz_name), fmt)


def format_moment(value: dt.datetime, place_zone: str, viewer_zone: str | None = None, fmt: str = "medium") -> str:
    """A moment as people read it: "12 Dec 2026, 01:00 Rome (08:00 Shanghai)" — in the
    place's zone, then the viewer's when it differs (with the day when that differs)."""
    here = to_local(value, place_zone)
    text = f"{skeleton(here, fmt)} {city_of(place_zone)}"
    if viewer_zone and viewer_zone != place_zone:
        there = to_local(value, viewer_zone)
        other = skeleton(there, "time" if there.date() == here.date() else "MMMdHm")
        text += f" ({other} {city_of(viewer_zone)})"
    return text


def format_range(start: dt.datetime, end: dt.datetime, place_zone: str, viewer_zone: str | None) -> str:
    """'09:30–11:00 Rome · 15:30–17:00 Shanghai', with the viewer's day when it differs."""

    def span(tz_name: str) -> str:
        a, b = to_local(start, tz_name), to_local(end, tz_name)
        return f"{skeleton(a, 'time')}–{skeleton(b, 'time')} {city_of(tz_name)}"

    text = span(place_zone)
    if viewer_zone and viewer_zone != place_zone:
        text += " · " + span(viewer_zone)
        there = to_local(start, viewer_zone)
        if there.date() != to_local(start, place_zone).date():
            text += " (" + skeleton(there, "day") + ")"
    return text
