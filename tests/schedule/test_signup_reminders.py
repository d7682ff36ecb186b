"""A site visit with its own places: after enrolling, Ponte says the bus needs its own
sign-up (on the course page, in the email and on /me) until the person signs up or says
they are not coming."""
import datetime as dt

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.schedule import services
from app.schedule.models import SessionDecline, SessionKind
from app.schedule.services import SessionData
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def _course_with_a_bus(**kw):
    course = CourseFactory(title="Circular Economy", capacity=20, **kw)
    [bus] = services.create_sessions(course, SessionData(
        title="Bus to the Tongji plant", kind=SessionKind.SITE_VISIT, day=course.starts_on, start=dt.time(8),
        end=dt.time(17), capacity=8), UserFactory())
    [talk] = services.create_sessions(course, SessionData(
        title="Opening talk", kind=SessionKind.LECTURE, day=course.starts_on + dt.timedelta(days=1),
        start=dt.time(9), end=dt.time(10)), UserFactory())
    db.session.commit()
    return course, bus, talk


def _awaited(html: str) -> bool:
    return 'id="signups-awaited"' in html


def test_enrolling_says_the_bus_needs_its_own_sign_up_until_one_answers(client, auth, mail):
    course, bus, _talk = _course_with_a_bus()
    UserFactory(email="p@example.org")
    db.session.commit()
    auth.login("p@example.org")
    page = client.post(f"/courses/{course.slug}/enrol", follow_redirects=True).get_data(as_text=True)
    assert _awaited(page) and "Bus to the Tongji plant" in page and "Opening talk" not in page.split("signups-awaited")[1].split("</div>")[0]
    body = mail[-1].get_body(("plain",)).get_content()
    assert "needs its own sign-up" in body and "Bus to the Tongji plant" in body
    assert f"/courses/{course.slug}" in body
    assert _awaited(client.get("/me").get_data(as_text=True))

    answer = client.post(f"/sessions/{bus.id}/decline", follow_redirects=True)
    assert answer.status_code == 200
    assert not _awaited(answer.get_data(as_text=True))
    assert "You said you are not coming." in answer.get_data(as_text=True)
    assert not _awaited(client.get("/me").get_data(as_text=True))
    assert client.post(f"/sessions/{bus.id}/decline").status_code == 409  # once

    # changing one's mind: signing up removes the "not coming"; giving the place back records it again
    assert client.post(f"/sessions/{bus.id}/signup").status_code == 302
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SessionDecline.id))) == 0
    assert client.post(f"/sessions/{bus.id}/decline").status_code == 409  # has a place: give it up instead
    assert client.post(f"/sessions/{bus.id}/signup/cancel").status_code == 302
    assert not _awaited(client.get("/me").get_data(as_text=True))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SessionDecline.id))) == 1


def test_a_course_without_limited_sessions_reminds_of_nothing(client, auth, mail):
    course = CourseFactory(capacity=5)
    UserFactory(email="p@example.org")
    db.session.commit()
    auth.login("p@example.org")
    page = client.post(f"/courses/{course.slug}/enrol", follow_redirects=True).get_data(as_text=True)
    assert not _awaited(page)
    assert "sign-up" not in mail[-1].get_body(("plain",)).get_content()


def test_who_may_say_not_coming(app, client, auth):
    course, bus, talk = _course_with_a_bus()
    EnrolmentFactory(course=course, user=UserFactory(email="in@example.org"))
    UserFactory(email="out@example.org")
    db.session.commit()
    assert "/auth/login" in client.post(f"/sessions/{bus.id}/decline").headers["Location"]
    auth.login("out@example.org")
    assert client.post(f"/sessions/{bus.id}/decline").status_code == 404  # not in the course
    auth.logout()
    auth.login("in@example.org")
    assert client.post(f"/sessions/{talk.id}/decline").status_code == 400  # needs no sign-up
    assert client.post("/sessions/99999999/decline").status_code == 404
    assert client.get(f"/sessions/{bus.id}/decline").status_code == 405
