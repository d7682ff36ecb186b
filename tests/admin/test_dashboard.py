"""The admin home says what needs attention: applications waiting (per activity),
activities coming up with how full they are, failed emails and jobs, recent changes."""
import datetime as dt

import pytest

from app.accounts.models import Role
from app.audit.services import record
from app.catalogue.models import EnrolmentMode
from app.core.types import utcnow
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.jobs.models import JobOutcome, JobRun
from app.notifications.models import OutboxMessage, OutboxStatus
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def _world(n_courses: int):
    admin = UserFactory(email="admin@example.org", role=Role.ADMIN)
    for i in range(n_courses):
        course = CourseFactory(title=f"School {i}", enrolment_mode=EnrolmentMode.APPROVAL, capacity=4,
                               starts_on=utcnow().date() + dt.timedelta(days=5 + i))
        for _ in range(2):
            EnrolmentFactory(course=course, status=S.PENDING)
        EnrolmentFactory(course=course, status=S.ACCEPTED)
        EnrolmentFactory(course=course, status=S.WAITLISTED)
        course.seats_taken = 3
        record("course.published", course, actor=admin)
    db.session.add(OutboxMessage(recipient="x@example.org", template="enrolment", subject="s", body_text="b",
                                 body_html="b", status=OutboxStatus.FAILED, last_error="550 no such user"))
    db.session.add(JobRun(job_id="deliver_outbox", outcome=JobOutcome.ERROR, error="boom", finished_at=utcnow()))
    db.session.commit()


def test_the_admin_home_shows_what_needs_attention(client, auth):
    _world(2)
    auth.login("admin@example.org")
    page = client.get("/admin/").get_data(as_text=True)
    assert "4 applications are waiting for a decision." in page
    assert "School 0" in page and "2 waiting" in page
    assert "/teach/courses/" in page and "status=pending" in page
    assert "3 / 4 · 75%" in page  # fill rate
    assert "1 email could not be sent." in page
    assert "Job deliver_outbox failed" in page
    assert "Activity published" in page


def test_a_quiet_day_says_so(client, auth):
    UserFactory(email="admin@example.org", role=Role.ADMIN)
    db.session.commit()
    auth.login("admin@example.org")
    page = client.get("/admin/").get_data(as_text=True)
    assert "0 applications are waiting for a decision." in page
    assert "Every email has been sent or is on its way." in page
    assert "No background job failed in the last seven days." in page
    assert "No activity in the next 60 days." in page


def test_the_admin_home_query_count_does_not_grow_with_rows(client, auth, query_counter):
    _world(2)
    auth.login("admin@example.org")
    with query_counter() as few:
        assert client.get("/admin/").status_code == 200
    for i in range(6):
        course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, starts_on=utcnow().date() + dt.timedelta(days=9 + i))
        EnrolmentFactory(course=course, status=S.PENDING)
        record("course.published", course, actor=None)
    db.session.commit()
    with query_counter() as many:
        assert client.get("/admin/").status_code == 200
    assert many["n"] == few["n"]


@pytest.mark.parametrize("role", ["participant", "instructor"])
def test_only_admins_see_it(client, auth, role):
    UserFactory(email="someone@example.org", role=Role(role))
    db.session.commit()
    auth.login("someone@example.org")
    assert client.get("/admin/").status_code in (403, 404)


def test_every_recorded_action_has_a_label_in_every_language():
    """The admin home names changes in words: every action the code records (and every
    enrolment state an `enrolment.<state>` event can carry) has a translated label."""
    import re
    from pathlib import Path

    from app.audit.labels import ACTIONS
    from app.enrolment.models import EnrolmentStatus

    source = "\n".join(p.read_text() for p in (Path(__file__).resolve().parents[2] / "app").rglob("*.py"))
    recorded = set(re.findall(r'record\(\s*"([a-z_]+\.[a-z_]+)"', source))
    recorded |= {f"enrolment.{s.value}" for s in EnrolmentStatus}
    assert recorded - set(ACTIONS) == set()


def test_applications_list_the_ten_waiting_longest_and_link_to_the_rest(client, auth):
    _world(13)
    auth.login("admin@example.org")
    page = client.get("/admin/").get_data(as_text=True)
    assert "26 applications are waiting for a decision." in page
    assert "School 9<" in page and "School 10<" not in page
    assert "3 more activities have applications waiting" in page and "/admin/courses?pending=1" in page
    listing = client.get("/admin/courses?pending=1").get_data(as_text=True)
    assert all(f"School {i}<" in listing for i in range(13))
    EnrolmentFactory(course=CourseFactory(title="No applications here"), status=S.ACCEPTED)
    db.session.commit()
    assert "No applications here" not in client.get("/admin/courses?pending=1").get_data(as_text=True)
