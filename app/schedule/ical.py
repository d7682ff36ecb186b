"""iCalendar for sessions: stable UIDs, SEQUENCE raised on change, cancelled sessions as
STATUS:CANCELLED, a VTIMEZONE for every zone used. Join links only where allowed."""
from __future__ import annotations

from collections.abc import Set as AbstractSet

import icalendar

from app.accounts.models import User
from app.core.http import external_url
from app.core.timezones import zone
from app.extensions import db
from app.schedule.models import CourseSession, SessionStatus


def session_uid(session: CourseSession) -> str:
    return f"session-{session.id}@ponte"


def build_calendar(sessions: list[CourseSession], *, name: str, join_links_for: AbstractSet[int] = frozenset()) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Ponte//Timetable//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-published-ttl", "PT1H")
    for s in sessions:
        tz = zone(s.course.timezone)
        event = icalendar.Event()
        event.add("uid", session_uid(s))
        event.add("summary", f"{s.title} — {s.course.title}")
        event.add("dtstart", s.starts_at.astimezone(tz))
        event.add("dtend", s.ends_at.astimezone(tz))
        event.add("dtstamp", s.updated_at)
        event.add("last-modified", s.updated_at)
        event.add("sequence", s.sequence)
        event.add("status", "CANCELLED" if s.status is SessionStatus.CANCELLED else "CONFIRMED")
        description = s.description or ""
        if s.id in join_links_for and s.join_url:
            event.add("url", s.join_url)
            description = (description + "\n\n" if description else "") + s.join_url
        else:
            event.add("url", external_url("catalogue.course_page", slug=s.course.slug))
        if description:
            event.add("description", description)
        if s.venue is not None:
            place = ", ".join(p for p in (s.venue.name, s.venue.address, s.venue.city) if p)
            event.add("location", place)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def session_attachment(ref: str) -> tuple[str, bytes, str, str]:
    """A session's calendar entry attached to its reminder ("<session id>:<person id>"),
    with the join link when that person may have it (registered by create_app)."""
    session_id, person_id = (int(x) for x in ref.split(":"))
    session = db.session.get_one(CourseSession, session_id)  # a reminder of a deleted session fails, and is not sent
    person = db.session.get(User, person_id)
    join = {session.id} if session.join_url and person is not None else set()
    return "session.ics", build_calendar([session], name=session.course.title, join_links_for=join), "text", "calendar"
