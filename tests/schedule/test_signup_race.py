"""Session places (a site-visit bus) cannot be overbooked either."""
import datetime as dt

import sqlalchemy as sa

from app.extensions import db
from app.schedule import services
from app.schedule.models import CourseSession, SessionKind, SessionSignup
from app.schedule.services import SessionData
from tests.enrolment.test_concurrency import _logged_in_clients, _rush
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory
from tests.integrity.harness import assert_doctor_clean


def test_24_people_rush_a_bus_with_8_seats(app):
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        course = CourseFactory(capacity=None, starts_on=dt.date.today() + dt.timedelta(days=3),
                               ends_on=dt.date.today() + dt.timedelta(days=4))
        [bus] = services.create_sessions(course, SessionData(
            title="Bus to the plant", kind=SessionKind.SITE_VISIT, day=course.starts_on, start=dt.time(8),
            end=dt.time(17), capacity=8), UserFactory())
        emails = [EnrolmentFactory(course=course).user.email for _ in range(24)]
        course.seats_taken = 24  # the factory enrols directly: count their places
        bus_id = bus.id
        db.session.commit()
        db.session.remove()
    clients = _logged_in_clients(app, emails)
    results, errors = _rush(clients, f"/sessions/{bus_id}/signup")
    assert errors == []
    assert sorted(results) == [302] * 8 + [409] * 16
    with app.app_context():
        assert db.session.get(CourseSession, bus_id).seats_taken == 8
        assert db.session.scalar(sa.select(sa.func.count(SessionSignup.id))) == 8
    assert_doctor_clean(app)  # the invariants hold after the race
