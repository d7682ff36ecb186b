"""Dates that belong to a course are the course's own (DESIGN.md rule 3), and "today" in
a message is the recipient's: never the UTC date. Each of these answered by the UTC date
before (a Shanghai participant got "明天" for a session later the same day)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from app.catalogue.services import enrolment_window
from app.certificates import services as certificates
from app.certificates.models import CertificateKind
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.jobs import services as jobs
from app.notifications.models import OutboxMessage
from app.teaching import services as teaching
from app.teaching.services import Progress, TeachingError
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

UTC = dt.UTC
D = dt.date(2027, 3, 12)


@pytest.mark.usefixtures("app_ctx")
def test_enrolment_closes_when_the_course_ends_where_it_is_held():
    shanghai = CourseFactory(starts_on=D - dt.timedelta(days=3), ends_on=D, timezone="Asia/Shanghai",
                             enrolment_closes_at=None)
    rome = CourseFactory(starts_on=D - dt.timedelta(days=3), ends_on=D, timezone="Europe/Rome", enrolment_closes_at=None)
    evening = dt.datetime.combine(D, dt.time(17), UTC)  # 01:00 the next day in Shanghai, 18:00 in Rome
    assert not enrolment_window(shanghai, evening).open
    assert enrolment_window(rome, evening).open


@pytest.mark.usefixtures("app_ctx")
def test_completion_opens_on_the_last_day_in_the_course_zone():
    shanghai = CourseFactory(starts_on=D - dt.timedelta(days=3), ends_on=D, timezone="Asia/Shanghai")
    rome = CourseFactory(starts_on=D - dt.timedelta(days=3), ends_on=D, timezone="Europe/Rome")
    staff = UserFactory()
    night_before = dt.datetime.combine(D - dt.timedelta(days=1), dt.time(17), UTC)  # D 01:00 Shanghai, D-1 18:00 Rome
    assert teaching.record_completion(EnrolmentFactory(course=shanghai), True, "", staff, now=night_before)
    with pytest.raises(TeachingError, match="once the course has ended"):
        teaching.record_completion(EnrolmentFactory(course=rome), True, "", staff, now=night_before)


@pytest.mark.usefixtures("app_ctx")
def test_new_years_eve_in_shanghai_gives_next_years_serial_and_date():
    course = CourseFactory(starts_on=dt.date(2026, 12, 28), ends_on=dt.date(2026, 12, 31), timezone="Asia/Shanghai")
    enrolment = EnrolmentFactory(course=course, status=S.ACCEPTED)
    with time_machine.travel(dt.datetime(2026, 12, 31, 17, 0, tzinfo=UTC), tick=False):  # 1 Jan 01:00 there
        certificate = certificates.issue(enrolment, CertificateKind.ATTENDANCE, None,
                                         progress=Progress(attended_hours=3, held_hours=3))
    assert certificate.serial.startswith("PONTE-2027-") and certificate.year == 2027
    assert certificate.snapshot["issued_on"] == "2027-01-01"


def test_a_session_later_today_is_reminded_as_today(app):
    start = dt.datetime(2027, 3, 10, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai, 15:00 in Rome
    with app.app_context():
        course = CourseFactory(starts_on=dt.date(2027, 3, 8), ends_on=D, timezone="Europe/Rome")
        li = UserFactory(locale="zh", timezone="Asia/Shanghai")
        marco = UserFactory(locale="it", timezone="Europe/Rome")
        for person in (li, marco):
            EnrolmentFactory(course=course, user=person)
        session = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        db.session.commit()
        # 18:00 UTC the day before: already 02:00 on the session's day in Shanghai,
        # still 19:00 the evening before in Rome.
        with time_machine.travel(start - dt.timedelta(hours=20), tick=False):
            assert jobs.send_session_reminders() == {"queued": 2}
        subjects = dict(db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.subject)).all())
        assert subjects[li.email] == f"今天：{session.title}"
        assert subjects[marco.email] == f"Domani: {session.title}"
