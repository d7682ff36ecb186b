import datetime as dt

import icalendar
import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule import services
from app.schedule.models import CourseSession, SessionKind
from app.schedule.services import SessionData
from app.teaching.models import CourseStaff, StaffRole
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory, VenueFactory
from tests.helpers import LOGIN, ROLES, build_world, check_access, login_as

pytestmark = pytest.mark.usefixtures("app_ctx")


def _session(course, day, start=(9, 30), end=(11, 0), series=None, **kw):
    data = SessionData(title=kw.pop("title", "Lecture"), kind=SessionKind.LECTURE, day=day, start=dt.time(*start),
                       end=dt.time(*end), **kw)
    made = services.create_sessions(course, data, UserFactory(), **(series or {}))
    db.session.commit()
    return made


def _events(body: bytes):
    return [e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]


def test_personal_feed_has_zones_uids_sequence_cancellations_and_join_links(client, auth):
    rome = CourseFactory(timezone="Europe/Rome", starts_on=dt.date(2027, 10, 25), ends_on=dt.date(2027, 11, 5))
    shanghai = CourseFactory(timezone="Asia/Shanghai", starts_on=dt.date(2027, 10, 25), ends_on=dt.date(2027, 11, 5))
    me = UserFactory(email="me@example.org", timezone="Asia/Shanghai")
    EnrolmentFactory(course=rome, user=me)
    EnrolmentFactory(course=shanghai, user=me)
    a, b = _session(rome, dt.date(2027, 10, 28), join_url="https://meet.example/rome",
                    series={"repeat": "weekly", "weekdays": [3], "until": dt.date(2027, 11, 4)})
    [c] = _session(shanghai, dt.date(2027, 10, 29), (14, 0), (15, 0))
    services.cancel_sessions(db.session.get(CourseSession, c.id), UserFactory())
    db.session.commit()
    response = client.get(f"/me/calendar/{me.calendar_token}.ics")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.data)
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} == {"Europe/Rome", "Asia/Shanghai"}
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"session-{a.id}@ponte", f"session-{b.id}@ponte", f"session-{c.id}@ponte"}
    first, second = events[f"session-{a.id}@ponte"], events[f"session-{b.id}@ponte"]
    assert first["DTSTART"].dt.tzinfo.key == "Europe/Rome"
    assert (first["DTSTART"].dt.hour, second["DTSTART"].dt.hour) == (9, 9)  # across the end of summer time
    assert first["DTSTART"].dt.utcoffset() != second["DTSTART"].dt.utcoffset()
    assert str(first["URL"]) == "https://meet.example/rome"
    assert str(events[f"session-{c.id}@ponte"]["STATUS"]) == "CANCELLED"
    assert int(events[f"session-{c.id}@ponte"]["SEQUENCE"]) == 1
    # the public course feed has no join link
    public = client.get(f"/courses/{rome.slug}/sessions.ics")
    assert b"meet.example" not in public.data
    assert len(_events(public.data)) == 2


def test_moving_a_session_raises_sequence_and_keeps_uid(client):
    course = CourseFactory(starts_on=dt.date(2027, 10, 25), ends_on=dt.date(2027, 11, 5))
    me = UserFactory()
    EnrolmentFactory(course=course, user=me)
    [s] = _session(course, dt.date(2027, 10, 28))
    data = services.data_of(db.session.get(CourseSession, s.id))
    data.start, data.end = dt.time(15, 0), dt.time(16, 0)
    services.update_sessions(db.session.get(CourseSession, s.id), data, UserFactory())
    db.session.commit()
    [event] = _events(client.get(f"/me/calendar/{me.calendar_token}.ics").data)
    assert str(event["UID"]) == f"session-{s.id}@ponte" and int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].dt.hour == 15


def test_regenerating_the_token_kills_the_old_address(client, auth):
    me = UserFactory(email="me@example.org")
    old = me.calendar_token
    auth.login("me@example.org")
    assert client.post("/me/calendar/regenerate").status_code == 302
    assert client.get(f"/me/calendar/{old}.ics").status_code == 404
    db.session.rollback()
    new = db.session.get(User, me.id).calendar_token
    assert new != old and client.get(f"/me/calendar/{new}.ics").status_code == 200
    assert client.get("/me/calendar/" + "x" * 500 + ".ics").status_code == 404


def test_join_link_only_for_accepted_participants_and_staff(client, auth):
    course = CourseFactory(capacity=1)
    _session(course, course.starts_on, join_url="https://meet.example/secret")
    UserFactory(email="in@example.org")
    EnrolmentFactory(course=course, user=db.session.scalar(sa.select(User).where(User.email == "in@example.org")))
    waiting = UserFactory(email="wait@example.org")
    EnrolmentFactory(course=course, user=waiting, status=S.WAITLISTED)
    assert b"meet.example" not in client.get(f"/courses/{course.slug}").data
    assert b"meet.example" not in client.get(f"/api/v1/courses/{course.slug}/sessions").data
    auth.login("wait@example.org")
    assert b"meet.example" not in client.get(f"/courses/{course.slug}").data
    auth.logout()
    auth.login("in@example.org")
    assert b"https://meet.example/secret" in client.get(f"/courses/{course.slug}").data


def test_timetable_week_view_in_my_zone_without_sliding_days(client, auth):
    course = CourseFactory(timezone="Europe/Rome", starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    me = UserFactory(email="li@example.org", timezone="Asia/Shanghai")
    EnrolmentFactory(course=course, user=me)
    _session(course, dt.date(2027, 1, 20), (20, 0), (21, 30), title="Evening talk")  # 03:00 next day in Shanghai
    auth.login("li@example.org")
    html = client.get("/me/timetable?week=2027-W03").get_data(as_text=True)
    wednesday = html.index("Wednesday, January 20, 2027")
    thursday = html.index("Thursday, January 21, 2027")
    talk = html.index("Evening talk")
    assert wednesday < talk < thursday
    assert "20:00–21:30 Rome · 03:00–04:30 Shanghai (Thu, Jan 21)" in html
    assert client.get("/me/timetable?week=2027-W99").status_code == 400
    assert client.get("/me/timetable?week=<script>").status_code == 400
    nav = client.get("/me/timetable?week=2027-W01").get_data(as_text=True)
    assert "week=2026-W53" in nav and "week=2027-W02" in nav


def test_timetable_query_count_is_constant(client, auth, query_counter):
    course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    me = UserFactory(email="me@example.org")
    EnrolmentFactory(course=course, user=me)
    _session(course, dt.date(2027, 1, 18))
    auth.login("me@example.org")

    def count(path):
        with query_counter() as n:
            assert client.get(path).status_code == 200
        return n["n"]

    small = (count("/me/timetable?week=2027-W03"), count(f"/courses/{course.slug}"), count("/me"))
    for day in range(18, 23):
        _session(course, dt.date(2027, 1, day), (13, 0), (14, 0), title=f"More {day}", venue_id=VenueFactory().id)
    large = (count("/me/timetable?week=2027-W03"), count(f"/courses/{course.slug}"), count("/me"))
    assert small == large


GOOD = {"title": "Circular design", "kind": "lecture", "day": "2027-01-19", "start": "09:30", "end": "11:00",
        "venue_id": "0", "cohort_id": "0", "repeat": "none"}


def _lead(course):
    lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR, timezone="Europe/Rome")
    db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
    db.session.commit()
    return lead


@pytest.mark.parametrize("changes,message", [
    ({"end": "09:00"}, "must end after it starts"),
    ({"end": "24:00"}, "Not a valid time value"),
    ({"day": "2027-02-30"}, "Not a valid date value"),
    ({"day": "2027-03-01"}, "within the course dates"),
    ({"title": ""}, "This field is required"),
    ({"join_url": "javascript:alert(1)"}, "https://"),
    ({"repeat": "weekly"}, "needs an end date"),
    ({"kind": "party"}, "Not a valid choice"),
    ({"capacity": "0"}, "Number must be between 1"),
])
def test_session_form_bad_input(client, auth, changes, message):
    course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    _lead(course)
    auth.login("lead@example.org")
    response = client.post(f"/teach/courses/{course.slug}/sessions/new", data=dict(GOOD, **changes))
    assert response.status_code in (400, 409) and message in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(CourseSession.id))) == 0


def test_instructor_adds_a_weekly_series_then_edits_and_cancels(client, auth, mail):
    course = CourseFactory(starts_on=dt.date(2027, 1, 4), ends_on=dt.date(2027, 1, 29))
    lead = _lead(course)
    EnrolmentFactory(course=course)
    auth.login("lead@example.org")
    response = client.post(f"/teach/courses/{course.slug}/sessions/new", data=dict(
        GOOD, day="2027-01-04", repeat="weekly", weekdays=["0", "2"], until="2027-01-27", instructor_ids=[str(lead.id)]))
    assert response.status_code == 302
    db.session.rollback()
    sessions = db.session.scalars(sa.select(CourseSession).order_by(CourseSession.starts_at)).all()
    assert len(sessions) == 8
    third = sessions[2]
    edit = client.post(f"/teach/courses/{course.slug}/sessions/{third.id}/edit", data=dict(
        GOOD, day="2027-01-11", start="10:00", end="11:30", scope="following", instructor_ids=[str(lead.id)]))
    assert edit.status_code == 302
    # six sessions moved: one email each for the participant and the instructor, listing all six
    assert len(mail) == 2
    assert all("6 sessions" in m["Subject"] and m.get_body(("plain",)).get_content().count("– ") == 6 for m in mail)
    again = client.post(f"/teach/courses/{course.slug}/sessions/{third.id}/edit", data=dict(
        GOOD, day="2027-01-11", start="10:00", end="11:30", scope="following", instructor_ids=[str(lead.id)]))
    assert again.status_code == 302 and len(mail) == 2  # the same save again changes nothing, tells nobody
    cancel = client.post(f"/teach/courses/{course.slug}/sessions/{sessions[0].id}/cancel", data={"scope": "this"})
    assert cancel.status_code == 302
    again = client.post(f"/teach/courses/{course.slug}/sessions/{sessions[0].id}/cancel", data={"scope": "this"})
    assert again.status_code == 409  # cancelled already: the outcome as it stands


def test_saving_a_session_from_an_older_tab_is_refused_and_the_newer_change_stays(client, auth, mail):
    """Two tabs open the same session; one moves it, the other (opened before) retitles it
    with the old times on the form: the second save is refused (409), the move stays, and
    nobody is emailed about a move back."""
    import re

    course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    _lead(course)
    [s] = _session(course, dt.date(2027, 1, 19), (18, 0), (19, 0))
    auth.login("lead@example.org")
    url = f"/teach/courses/{course.slug}/sessions/{s.id}/edit"
    version = re.search(r'name="version"[^>]*value="(\d+)"', client.get(url).get_data(as_text=True)).group(1)
    both = dict(GOOD, day="2027-01-19", start="18:00", end="19:00", scope="this", version=version)
    assert client.post(url, data=dict(both, start="18:30", end="19:30")).status_code == 302  # tab A moves it
    sent = len(mail)
    stale = client.post(url, data=dict(both, title="Renamed"))  # tab B, opened before
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    db.session.rollback()
    moved = db.session.get(CourseSession, s.id)
    assert moved.title == GOOD["title"] and moved.starts_at.astimezone(dt.UTC).strftime("%H:%M") == "17:30"
    assert len(mail) == sent


def test_an_admin_schedules_a_new_course_with_an_instructor_who_joins_its_staff(client, auth):
    course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    UserFactory(email="admin@example.org", role=Role.ADMIN)
    teacher = UserFactory(full_name="Li Na", role=Role.INSTRUCTOR)
    UserFactory(full_name="Pia Participant")
    db.session.commit()
    auth.login("admin@example.org")
    page = client.get(f"/teach/courses/{course.slug}/sessions/new").get_data(as_text=True)
    assert "Li Na (joins the staff)" in page and "Pia Participant" not in page
    response = client.post(f"/teach/courses/{course.slug}/sessions/new", data=dict(GOOD, instructor_ids=[str(teacher.id)]))
    assert response.status_code == 302
    db.session.rollback()
    staff = db.session.scalars(sa.select(CourseStaff).where(CourseStaff.course_id == course.id)).all()
    assert [(s.user_id, s.role) for s in staff] == [(teacher.id, StaffRole.INSTRUCTOR)]
    assert [i.id for i in db.session.scalars(sa.select(CourseSession)).one().instructors] == [teacher.id]
    assert "Li Na (joins the staff)" not in client.get(f"/teach/courses/{course.slug}/sessions/new").get_data(as_text=True)


def test_a_lead_instructor_cannot_put_an_outsider_on_a_session(client, auth):
    course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    _lead(course)
    outsider = UserFactory(role=Role.INSTRUCTOR)
    db.session.commit()
    auth.login("lead@example.org")
    response = client.post(f"/teach/courses/{course.slug}/sessions/new", data=dict(GOOD, instructor_ids=[str(outsider.id)]))
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(CourseSession.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(CourseStaff.id)).where(CourseStaff.user_id == outsider.id)) == 0


def test_clash_in_the_form_names_the_session_and_override_works(client, auth):
    course = CourseFactory(title="Green Finance", starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    room = VenueFactory(name="Aula Magna")
    other = CourseFactory(title="Circular Economy", starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    _session(other, dt.date(2027, 1, 19), title="Opening", venue_id=room.id)
    _lead(course)
    auth.login("lead@example.org")
    data = dict(GOOD, venue_id=str(room.id))
    response = client.post(f"/teach/courses/{course.slug}/sessions/new", data=data)
    assert response.status_code == 409
    assert "Aula Magna is already booked for “Opening” (Circular Economy)" in response.get_data(as_text=True)
    ok = client.post(f"/teach/courses/{course.slug}/sessions/new", data=dict(data, override_reason="Shared, split room"))
    assert ok.status_code == 302


def test_venue_admin(client, auth):
    UserFactory(email="admin@example.org", role=Role.ADMIN)
    auth.login("admin@example.org")
    bad = client.post("/admin/venues/new", data={"name": "X", "timezone": "Europe/Atlantis"})
    assert bad.status_code == 400 and "Unknown time zone" in bad.get_data(as_text=True)
    ok = client.post("/admin/venues/new", data={"name": "Tongji <b>C</b>", "city": "上海", "timezone": "Asia/Shanghai",
                                                "country": "CN", "capacity": "120"})
    assert ok.status_code == 302
    assert "Tongji &lt;b&gt;C&lt;/b&gt;" in client.get("/admin/venues").get_data(as_text=True)


MATRIX = [
    ("GET", "/teach/courses/{slug}/sessions", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/teach/courses/{slug}/sessions/new", [LOGIN, 404, 404, 404, 200, 200]),
    ("POST", "/teach/courses/{slug}/sessions/new", [LOGIN, 404, 404, 404, 400, 400]),
    ("GET", "/teach/courses/{slug}/sessions/{sid}/edit", [LOGIN, 404, 404, 404, 200, 200]),
    ("POST", "/teach/courses/{slug}/sessions/{sid}/cancel", [LOGIN, 404, 404, 404, 302, 302]),
    ("GET", "/teach/courses/{other}/sessions/{sid}/edit", [LOGIN, 404, 404, 404, 404, 404]),
    ("GET", "/teach/timetable", [LOGIN, 404, 404, 200, 200, 200]),
    ("GET", "/me/timetable", [LOGIN, 200, 200, 200, 200, 200]),
    ("POST", "/me/calendar/regenerate", [LOGIN, 302, 302, 302, 302, 302]),
    ("POST", "/sessions/{sid}/signup", [LOGIN, 302, 404, 404, 404, 404]),
    ("GET", "/admin/venues", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/venues/new", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/courses/{slug}/sessions.ics", [200, 200, 200, 200, 200, 200]),
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,template,expected", MATRIX, ids=[f"{m} {t}" for m, t, _ in MATRIX])
def test_access_matrix(app, role_index, role, method, template, expected):
    world = build_world(starts_on=dt.date.today() + dt.timedelta(days=10), ends_on=dt.date.today() + dt.timedelta(days=12))
    course = db.session.get(__import__("app.catalogue.models", fromlist=["Course"]).Course, world.course_id)
    [bus] = _session(course, course.starts_on, capacity=5, title="Bus")
    client = app.test_client()
    login_as(client, world, role)
    path = template.format(slug=world.slug, other=world.other_slug, sid=bus.id)
    check_access(client, method, path, expected[role_index])
