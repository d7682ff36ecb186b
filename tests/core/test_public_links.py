"""Absolute links come from PONTE_BASE_URL (keeping its path prefix), never from the
request's Host header: a request sent with `Host: evil.example` must not make the API,
the feeds, the personal calendar address, the check-in QR code or an email point there."""
import datetime as dt
import re

import icalendar
import pytest
import time_machine

from app import create_app
from app.accounts.models import Role
from app.core.types import utcnow
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching import services as teaching
from app.teaching.models import CourseStaff, StaffRole
from tests.conftest import Config, FreshContextClient
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

BASE = "https://ponte.example.org/training"
EVIL = {"Host": "evil.example"}


@pytest.fixture
def app(app):
    app.config["PONTE_BASE_URL"] = BASE + "/"  # a trailing slash is fine too
    return app


def _ics_urls(body: bytes) -> list[str]:
    return [str(e["URL"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]


def _login(client, email: str) -> None:
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}, headers=EVIL).status_code == 302


@pytest.mark.usefixtures("app_ctx")
def test_api_atom_and_course_calendars_link_to_the_base_url(client):
    course = CourseFactory(slug="green-finance")
    SessionFactory(course=course)
    page = f"{BASE}/courses/green-finance"
    assert client.get("/api/v1/courses/green-finance", headers=EVIL).json["url"] == page
    assert client.get("/api/v1/courses", headers=EVIL).json["items"][0]["url"] == page
    atom = client.get("/courses.atom", headers=EVIL).get_data(as_text=True)
    assert f"<id>{BASE}/courses.atom</id>" in atom and f'href="{page}"' in atom and f'href="{BASE}/courses"' in atom
    assert _ics_urls(client.get("/courses.ics", headers=EVIL).data) == [page]
    assert _ics_urls(client.get("/courses/green-finance/sessions.ics", headers=EVIL).data) == [page]
    for path in ("/api/v1/courses", "/courses.atom", "/courses.ics", "/courses/green-finance/sessions.ics"):
        assert b"evil.example" not in client.get(path, headers=EVIL).data, path


@pytest.mark.usefixtures("app_ctx")
def test_the_personal_feed_and_its_address_on_me_use_the_base_url(client):
    course = CourseFactory(slug="circular-economy")
    me = UserFactory(email="me@example.org")
    EnrolmentFactory(course=course, user=me)
    SessionFactory(course=course)
    token = me.calendar_token
    db.session.remove()
    _login(client, "me@example.org")
    timetable = client.get("/me/timetable", headers=EVIL).get_data(as_text=True)
    assert f'value="{BASE}/me/calendar/{token}.ics"' in timetable and "evil.example" not in timetable
    feed = client.get(f"/me/calendar/{token}.ics", headers=EVIL).data
    assert _ics_urls(feed) == [f"{BASE}/courses/circular-economy"]


@pytest.mark.usefixtures("app_ctx")
def test_the_checkin_address_and_qr_code_use_the_base_url(app, client):
    now = utcnow()
    course = CourseFactory(starts_on=now.date() - dt.timedelta(days=1), ends_on=now.date() + dt.timedelta(days=2))
    session = SessionFactory(course=course, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=2))
    lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
    db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
    db.session.commit()
    _login(client, "lead@example.org")
    from app.teaching.views.attendance import _checkin_state

    with time_machine.travel(now + dt.timedelta(seconds=1), tick=False):
        html = client.get(f"/teach/courses/{course.slug}/sessions/{session.id}/checkin", headers=EVIL).get_data(as_text=True)
        with app.test_request_context("/", headers=EVIL):
            state = _checkin_state(db.session.get(CourseSession, session.id), None)
        code = teaching.code_at(session, utcnow())
    assert f"Go to {BASE}/checkin and type this code" in html and "evil.example" not in html
    assert state["url"] == f"{BASE}/checkin?code={code}"  # what the QR code holds


def test_an_email_sent_from_a_request_links_to_the_base_url(app, client, mail):
    with app.app_context():
        UserFactory(email="sara@example.org")
    assert client.post("/auth/reset", data={"email": "sara@example.org"}, headers=EVIL).status_code == 302
    body = mail[-1].get_body(preferencelist=("plain",)).get_content()
    html = mail[-1].get_body(preferencelist=("html",)).get_content()
    assert re.search(re.escape(BASE) + r"/auth/reset/\S+", body)
    assert f'href="{BASE}/auth/reset/' in html and "evil.example" not in body + html


def test_behind_a_proxy_with_a_path_prefix_links_are_not_prefixed_twice(app):
    """The proxy mounts the app at /training (X-Forwarded-Prefix); the base URL carries it once."""
    proxied = create_app(type("PrefixedConfig", (Config,), {"PONTE_TRUSTED_PROXIES": 1, "PONTE_BASE_URL": BASE}))
    proxied.test_client_class = FreshContextClient
    try:
        with proxied.app_context():
            CourseFactory(slug="green-finance")
        headers = {"X-Forwarded-Prefix": "/training", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
        response = proxied.test_client().get("/api/v1/courses/green-finance", headers=headers)
        assert response.json["url"] == f"{BASE}/courses/green-finance"
    finally:
        with proxied.app_context():
            db.session.remove()
            db.engine.dispose()


def test_links_outside_a_request_use_the_base_url(app):
    from app.core.http import external_url

    with app.app_context():
        assert external_url("catalogue.course_page", slug="x") == f"{BASE}/courses/x"
        assert external_url("catalogue.home") == f"{BASE}/"
    with app.test_request_context("/", headers=EVIL):
        assert external_url("checkin.checkin", code="123456") == f"{BASE}/checkin?code=123456"
