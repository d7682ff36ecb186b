"""Weeks for timetables: ISO weeks in the viewer's zone, with previous and next."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.core.timezones import zone
from app.core.types import utcnow

#: The years a calendar parameter (?week=, ?month=) may name. Outside them a request is
#: malformed (400): the neighbours of year 1 or 9999 do not exist in `datetime`.
CALENDAR_YEARS = range(1900, 3000)


@dataclass(frozen=True)
class Week:
    monday: dt.date
    tz_name: str

    @property
    def key(self) -> str:
        year, week, _day = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(7)]

    @property
    def start_utc(self) -> dt.datetime:
        # a day of slack on both sides: sessions are placed on their course's local day
        return dt.datetime.combine(self.monday - dt.timedelta(days=1), dt.time(0), zone(self.tz_name)).astimezone(dt.UTC)

    @property
    def end_utc(self) -> dt.datetime:
        return dt.datetime.combine(self.monday + dt.timedelta(days=8), dt.time(0), zone(self.tz_name)).astimezone(dt.UTC)

    @property
    def previous(self) -> str:
        return Week(self.monday - dt.timedelta(days=7), self.tz_name).key

    @property
    def next(self) -> str:
        return Week(self.monday + dt.timedelta(days=7), self.tz_name).key


def week_of(key: str | None, tz_name: str) -> Week | None:
    """The week named `2026-W49`, or the current one in `tz_name`; None if malformed."""
    if not key:
        today = utcnow().astimezone(zone(tz_name)).date()
        return Week(today - dt.timedelta(days=today.weekday()), tz_name)
    match = re.fullmatch(r"(\d{4})-W(\d{2})", key)
    if not match or int(match.group(1)) not in CALENDAR_YEARS:
        return None
    try:
        monday = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None
    return Week(monday, tz_name)
