"""/courses.ics and /courses.atom: upcoming published activities for other websites and calendars."""
from __future__ import annotations

import datetime as dt

import icalendar
from flask import Blueprint, Response, current_app, render_template

from app.catalogue import services
from app.core.http import external_url
from app.core.types import utcnow
from app.extensions import db

bp = Blueprint("feeds", __name__)


def _upcoming():
    return db.session.scalars(services.upcoming_courses(limit=200)).unique().all()


@bp.route("/courses.ics", endpoint="feed_ics")
def courses_ics():
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Ponte//Courses//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", current_app.config["PONTE_ORGANISATION"])
    for course in _upcoming():
        event = icalendar.Event()
        event.add("uid", f"course-{course.id}@ponte")
        event.add("summary", course.title)
        event.add("dtstart", course.starts_on)
        event.add("dtend", course.ends_on + dt.timedelta(days=1))  # all-day: DTEND is exclusive
        event.add("dtstamp", course.updated_at)
        event.add("last-modified", course.updated_at)
        event.add("description", course.summary)
        event.add("url", external_url("catalogue.course_page", slug=course.slug))
        event.add("location", "Online" if course.is_online else (course.venue.name if course.venue else course.city or ""))
        event.add("categories", [course.kind.value])
        cal.add_component(event)
    return Response(cal.to_ical(), content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="ponte-courses.ics"'})


@bp.route("/courses.atom", endpoint="feed_atom")
def courses_atom():
    courses = _upcoming()
    updated = max((c.updated_at for c in courses), default=utcnow())
    xml = render_template("catalogue/feed.atom.xml", courses=courses, updated=updated)
    return Response(xml, mimetype="application/atom+xml; charset=utf-8")
