"""Staff bound to one cohort stay in it: every read and write on another cohort answers
404 and changes nothing; the same actions on their own cohort work; deleting their cohort
never widens their access.

Before (094c85b), an instructor bound to the Rome cohort could cancel a Shanghai
enrolment, move people into Rome, email Shanghai, rename or delete cohorts, edit and
cancel Shanghai sessions, mark attendance and record completion for Shanghai people, and
download their certificates; deleting Rome gave them the whole course."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.certificates import services as certificates
from app.certificates.models import CertificateKind
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.schedule.models import CourseSession, SessionStatus
from app.teaching import services as teaching
from app.teaching import staffing
from app.teaching.models import Attendance, Cohort, CourseStaff, StaffRole
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, SessionFactory, UserFactory


@pytest.fixture
def world(app):
    """A running course with a Rome and a Shanghai cohort, an instructor bound to Rome,
    people in each, a pending application, a session under way for each cohort and one
    for everyone, and a certificate of a Shanghai participant."""
    with app.app_context():
        now = utcnow()
        today = now.date()
        course = CourseFactory(starts_on=today - dt.timedelta(days=2), ends_on=today + dt.timedelta(days=2), capacity=20)
        rome, shanghai = Cohort(course=course, name="Rome"), Cohort(course=course, name="Shanghai")
        db.session.add_all([rome, shanghai])
        db.session.flush()
        bound = UserFactory(email="bound@example.org", role=Role.INSTRUCTOR)
        admin = UserFactory(email="admin@example.org", role=Role.ADMIN)
        db.session.add(CourseStaff(course_id=course.id, user_id=bound.id, role=StaffRole.INSTRUCTOR, cohort_id=rome.id))
        r1 = EnrolmentFactory(course=course, cohort_id=rome.id)
        s1 = EnrolmentFactory(course=course, cohort_id=shanghai.id)
        s2 = EnrolmentFactory(course=course, cohort_id=shanghai.id)
        pending = EnrolmentFactory(course=course, status=S.PENDING)
        course.seats_taken = 3
        start = now - dt.timedelta(minutes=10)
        in_rome = SessionFactory(course=course, cohort_id=rome.id, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        in_shanghai = SessionFactory(course=course, cohort_id=shanghai.id, starts_at=start,
                                     ends_at=start + dt.timedelta(hours=2), join_url="https://meet.example/sh")
        everyone = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        db.session.commit()
        db.session.add(Attendance(session_id=in_shanghai.id, enrolment_id=s2.id, status="present", method="sheet"))
        db.session.commit()
        cert = certificates.issue(s2, CertificateKind.ATTENDANCE, admin,
                                  progress=teaching.Progress(attended_hours=2, held_hours=2))
        db.session.commit()
        ids = dict(slug=course.slug, course=course.id, rome=rome.id, shanghai=shanghai.id, r1=r1.id, s1=s1.id, s2=s2.id,
                   pending=pending.id, in_rome=in_rome.id, in_shanghai=in_shanghai.id, everyone=everyone.id,
                   cert=cert.public_id, s1_email=s1.user.email)
        db.session.remove()
    return ids


def _state(app) -> tuple:
    """Everything the refused requests could have changed."""
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count(AuditEvent.id))),
            db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))),
            tuple(db.session.execute(sa.select(Enrolment.id, Enrolment.status, Enrolment.cohort_id).order_by(Enrolment.id))),
            tuple(db.session.execute(sa.select(Cohort.id, Cohort.name).order_by(Cohort.id))),
            tuple(db.session.execute(sa.select(CourseSession.id, CourseSession.status, CourseSession.title,
                                               CourseSession.join_url).order_by(CourseSession.id))),
            tuple(db.session.execute(sa.select(Attendance.id, Attendance.status).order_by(Attendance.id))),
        )


OUTSIDE = [
    ("POST", "/teach/courses/{slug}/enrolments/{s1}/cancel", {"reason": "x"}),
    ("POST", "/teach/courses/{slug}/enrolments/{s1}/reject", {"reason": "x"}),
    ("POST", "/teach/courses/{slug}/enrolments/{pending}/approve", {}),
    ("POST", "/teach/courses/{slug}/enrolments/{pending}/waitlist", {}),
    ("POST", "/teach/courses/{slug}/enrolments/bulk", {"action": "approve", "ids": "{pending}"}),
    ("POST", "/teach/courses/{slug}/enrolments/add", {"email": "{s1_email}"}),
    ("GET", "/teach/courses/{slug}/cohorts", {}),
    ("POST", "/teach/courses/{slug}/cohorts", {"name": "Milan"}),
    ("POST", "/teach/courses/{slug}/cohorts/{shanghai}/rename", {"name": "Mine now"}),
    ("POST", "/teach/courses/{slug}/cohorts/{rome}/rename", {"name": "Mine now"}),
    ("POST", "/teach/courses/{slug}/cohorts/{rome}/delete", {}),
    ("POST", "/teach/courses/{slug}/cohorts/assign", {"ids": "{s1}", "cohort_id": "{rome}"}),
    ("POST", "/teach/courses/{slug}/cohorts/balance", {}),
    ("POST", "/teach/courses/{slug}/email", {"cohort_id": "{shanghai}", "subject": "Hi", "body": "Hello"}),
    ("GET", "/teach/courses/{slug}/roster?cohort={shanghai}", {}),
    ("GET", "/teach/courses/{slug}/roster.csv?cohort={shanghai}", {}),
    ("GET", "/teach/courses/{slug}/sessions/{in_shanghai}/edit", {}),
    ("POST", "/teach/courses/{slug}/sessions/{in_shanghai}/edit", {"title": "Mine", "kind": "lecture"}),
    ("POST", "/teach/courses/{slug}/sessions/{in_shanghai}/cancel", {"scope": "this"}),
    ("POST", "/teach/courses/{slug}/sessions/{everyone}/cancel", {"scope": "this"}),
    ("GET", "/teach/courses/{slug}/sessions/{in_shanghai}/attendance", {}),
    ("POST", "/teach/courses/{slug}/sessions/{in_shanghai}/attendance", {"status-{s2}": "absent"}),
    ("POST", "/teach/courses/{slug}/sessions/{everyone}/attendance", {"status-{s1}": "absent"}),
    ("GET", "/teach/courses/{slug}/sessions/{in_shanghai}/checkin", {}),
    ("POST", "/teach/courses/{slug}/completion", {"ids": "{s1}", "outcome": "not_passed"}),
    ("GET", "/certificates/{cert}.pdf", {}),
]


@pytest.mark.parametrize("method,template,data", OUTSIDE, ids=[f"{m} {t}" for m, t, _ in OUTSIDE])
def test_staff_bound_to_a_cohort_get_404_outside_it_and_change_nothing(app, world, method, template, data):
    client = app.test_client()
    assert client.post("/auth/login", data={"email": "bound@example.org", "password": PASSWORD}).status_code == 302
    before = _state(app)
    fill = {k: str(v) for k, v in world.items()}
    path = template.format(**fill)
    form = {k.format(**fill): v.format(**fill) for k, v in data.items()}
    response = client.open(path, method=method, data=form)
    assert response.status_code == 404, (path, response.status_code)
    assert _state(app) == before


def test_the_same_staff_act_on_their_own_cohort(app, world, client):
    assert client.post("/auth/login", data={"email": "bound@example.org", "password": PASSWORD}).status_code == 302
    base = f"/teach/courses/{world['slug']}"
    roster = client.get(f"{base}/roster").get_data(as_text=True)
    listing = client.get(f"{base}/enrolments").get_data(as_text=True)
    sessions = client.get(f"{base}/sessions").get_data(as_text=True)
    csv = client.get(f"{base}/enrolments.csv").get_data(as_text=True)
    with app.app_context():
        r1, s1 = db.session.get(Enrolment, world["r1"]), db.session.get(Enrolment, world["s1"])
        assert r1.user.full_name in roster and s1.user.full_name not in roster
        assert r1.user.email in csv and s1.user.email not in csv
        assert s1.user.full_name not in listing
    assert "meet.example/sh" not in sessions and f'href="/teach/courses/{world["slug"]}/cohorts"' not in sessions
    with app.app_context():  # someone of Shanghai checks in to the whole-course session
        db.session.add(Attendance(session_id=world["everyone"], enrolment_id=world["s1"], status="present",
                                  method="self_checkin"))
        db.session.commit()
        s1_name = db.session.get(Enrolment, world["s1"]).user.full_name
    live = client.get(f"{base}/sessions/{world['everyone']}/checkin/live").get_json()
    assert s1_name not in live["html"] and "0 of 1" in live["html"].replace("\n", " ")
    mark = client.post(f"{base}/sessions/{world['in_rome']}/attendance", data={f"status-{world['r1']}": "late"})
    assert mark.status_code == 302
    everyone = client.post(f"{base}/sessions/{world['everyone']}/attendance", data={"all_present": "1"})
    assert everyone.status_code == 302
    with app.app_context():  # "everyone present" on a whole-course session: everyone in Rome
        marked = set(db.session.scalars(sa.select(Attendance.enrolment_id).where(
            Attendance.session_id == world["everyone"])))
        assert marked == {world["r1"], world["s1"]}  # Rome's person marked; Shanghai's own check-in untouched
    sent = client.post(f"{base}/email", data={"cohort_id": "0", "subject": "Hi", "body": "Hello Rome"})
    assert sent.status_code == 302
    with app.app_context():
        to = set(db.session.scalars(sa.select(OutboxMessage.recipient).where(OutboxMessage.template == "staff_message")))
        assert to == {db.session.get(Enrolment, world["r1"]).user.email}  # "everyone" = everyone in Rome
    assert client.post(f"{base}/enrolments/{world['r1']}/cancel", data={"reason": "Moved"}).status_code == 302
    with app.app_context():
        assert db.session.get(Enrolment, world["r1"]).status is S.CANCELLED


def test_deleting_the_cohort_of_bound_staff_never_widens_their_access(app, world):
    with app.app_context():
        rome = db.session.get(Cohort, world["rome"])
        with pytest.raises(teaching.TeachingError, match="staff member bound to it"):
            staffing.delete_cohort(rome, None)
        db.session.rollback()
        # Even a cohort row removed behind the application's back takes the binding with
        # it (ON DELETE CASCADE), never leaving a whole-course binding (SET NULL did).
        db.session.execute(sa.update(Enrolment).where(Enrolment.cohort_id == world["rome"]).values(cohort_id=None))
        db.session.execute(sa.delete(CourseSession).where(CourseSession.cohort_id == world["rome"]))
        db.session.execute(sa.delete(Cohort).where(Cohort.id == world["rome"]))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(CourseStaff.id))) == 0
    client = app.test_client()
    client.post("/auth/login", data={"email": "bound@example.org", "password": PASSWORD})
    assert client.get(f"/teach/courses/{world['slug']}/roster").status_code == 404


def test_an_admin_may_delete_a_cohort_once_its_staff_are_moved(app, world):
    with app.app_context():
        db.session.execute(sa.update(CourseStaff).values(cohort_id=world["shanghai"]))
        db.session.execute(sa.update(Enrolment).where(Enrolment.cohort_id == world["rome"]).values(cohort_id=None))
        db.session.execute(sa.update(CourseSession).where(CourseSession.cohort_id == world["rome"])
                           .values(status=SessionStatus.CANCELLED, cohort_id=world["shanghai"]))
        db.session.commit()
        staffing.delete_cohort(db.session.get(Cohort, world["rome"]), None)
        db.session.commit()
        assert db.session.get(Cohort, world["rome"]) is None
