"""What a fresh pair of eyes found by using the integrity work from outside; each test
failed before its fix."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import Role
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.jobs.models import JobRequest
from app.schedule import services as schedule
from app.schedule.models import CourseSession, SessionStatus
from app.teaching import services as teaching
from app.teaching import staffing
from app.teaching.models import Attendance, Cohort, CourseStaff, StaffRole
from app.teaching.models import AttendanceStatus as A
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.integrity.harness import Shot, no_5xx, race, signed_in

UTC = dt.UTC


@pytest.mark.usefixtures("app_ctx")
def test_this_and_the_following_never_reaches_a_session_given_to_another_cohort():
    course = CourseFactory(starts_on=dt.date(2027, 5, 3), ends_on=dt.date(2027, 5, 7))
    rome, shanghai = Cohort(course=course, name="Rome"), Cohort(course=course, name="Shanghai")
    db.session.add_all([rome, shanghai])
    db.session.flush()
    start = dt.datetime(2027, 5, 3, 8, tzinfo=UTC)
    series = [SessionFactory(course=course, cohort_id=rome.id, series_id="s", starts_at=start + dt.timedelta(days=i),
                             ends_at=start + dt.timedelta(days=i, hours=2)) for i in range(3)]
    series[1].cohort_id = shanghai.id  # the middle one was given to Shanghai
    db.session.commit()
    cancelled = schedule.cancel_sessions(series[0], UserFactory(), scope="following")
    assert [s.id for s in cancelled] == [series[0].id, series[2].id]
    assert db.session.get(CourseSession, series[1].id).status is SessionStatus.SCHEDULED


def test_a_stale_attendance_sheet_does_not_undo_a_check_in(app, client):
    now = dt.datetime.now(UTC).replace(second=5, microsecond=0)
    with app.app_context():
        course = CourseFactory(starts_on=now.date() - dt.timedelta(days=1), ends_on=now.date() + dt.timedelta(days=1))
        session = SessionFactory(course=course, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1))
        e, other = EnrolmentFactory(course=course), EnrolmentFactory(course=course)
        lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        db.session.commit()
        ids = (course.slug, session.id, e.id, other.id)
        with time_machine.travel(now, tick=False):
            teaching.check_in(e.user, teaching.code_at(session, now), now=now)  # after the sheet was opened
        db.session.commit()
    slug, sid, eid, oid = ids
    client.post("/auth/login", data={"email": "lead@example.org", "password": PASSWORD})
    sheet = f"/teach/courses/{slug}/sessions/{sid}/attendance"
    # The sheet showed nobody marked; the lead marks the other person only: the check-in stays.
    assert client.post(sheet, data={f"status-{oid}": "present", f"seen-{oid}": "",
                                    f"seen-{eid}": ""}).status_code == 302
    # The lead marks the checked-in person absent from the stale sheet: refused, nothing saved.
    stale = client.post(sheet, data={f"status-{eid}": "absent", f"seen-{eid}": ""})
    assert stale.status_code == 409 and "Look at the sheet again" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Attendance.status).where(Attendance.enrolment_id == eid)) is A.PRESENT
    # From a fresh sheet (it shows "present") the correction goes through.
    assert client.post(sheet, data={f"status-{eid}": "absent", f"seen-{eid}": "present"}).status_code == 302


def test_renaming_cohorts_to_one_name_at_once_answers_no_500_and_ignores_case(app):
    with app.app_context():
        course = CourseFactory()
        lead = UserFactory(role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        cohorts = [Cohort(course=course, name=f"C{i}") for i in range(8)]
        db.session.add_all(cohorts)
        db.session.commit()
        slug, email, ids = course.slug, lead.email, [c.id for c in cohorts]
    shots = [Shot(signed_in(app, email), f"/teach/courses/{slug}/cohorts/{cid}/rename",
                  {"name": "Same name" if i % 2 else "SAME NAME"}) for i, cid in enumerate(ids)]
    codes = race(shots)
    no_5xx(codes)
    assert sorted(codes).count(302) == 1
    with app.app_context():
        names = db.session.scalars(sa.select(sa.func.lower(Cohort.name))).all()
        assert names.count("same name") == 1


@pytest.mark.parametrize("path", [
    "/admin/courses/99999999999999999999",
    "/admin/courses/3000000000",
    "/teach/courses/x/sessions/99999999999999999999/attendance",
    "/verify/99999999999999999999",
    "/courses?page=99999999999999999999",
    "/api/v1/courses?page=922337203685477580",
    "/admin/courses?page=99999999999999999999",
])
def test_huge_numbers_in_addresses_are_not_found_or_bad_requests(app, path):
    with app.app_context():
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert client.get(path).status_code in (400, 404)


def test_huge_ids_in_forms_are_bad_requests(app):
    with app.app_context():
        course = CourseFactory()
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        db.session.commit()
        slug, cid = course.slug, course.id
    client = app.test_client()
    client.post("/auth/login", data={"email": "admin@example.org", "password": PASSWORD})
    huge = "99999999999999999999"
    for path, data in [(f"/teach/courses/{slug}/enrolments/bulk", {"action": "approve", "ids": huge}),
                       (f"/teach/courses/{slug}/completion", {"ids": huge, "outcome": "passed"}),
                       (f"/teach/courses/{slug}/cohorts/assign", {"ids": huge}),
                       (f"/teach/courses/{slug}/roster?cohort={huge}", None),
                       (f"/admin/courses/{cid}/certificates/issue", {"enrolment_id": huge, "kind": "attendance"})]:
        response = client.post(path, data=data) if data is not None else client.get(path)
        assert response.status_code == 400, (path, response.status_code)


def test_after_logging_in_from_a_button_one_lands_on_its_page(app):
    with app.app_context():
        course = CourseFactory()
        UserFactory(email="p@example.org")
        db.session.commit()
        slug = course.slug
    client = app.test_client()
    response = client.post(f"/auth/login?next=/courses/{slug}/enrol", data={"email": "p@example.org",
                                                                              "password": PASSWORD})
    assert response.headers["Location"].endswith(f"/courses/{slug}")
    bad = app.test_client().post("/auth/login?next=/%0D//evil.example", data={"email": "p@example.org",
                                                                             "password": PASSWORD})
    assert bad.status_code == 302 and "evil" not in bad.headers["Location"]


@pytest.mark.usefixtures("app_ctx")
def test_full_width_digits_from_a_chinese_keyboard_are_the_same_code():
    now = dt.datetime.now(UTC).replace(second=5, microsecond=0)
    course = CourseFactory(starts_on=now.date(), ends_on=now.date() + dt.timedelta(days=1))
    session = SessionFactory(course=course, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1))
    e = EnrolmentFactory(course=course)
    with time_machine.travel(now, tick=False):
        code = teaching.code_at(session, now)
        wide = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
        assert teaching.check_in(e.user, wide, now=now).id == session.id


@pytest.mark.usefixtures("app_ctx")
def test_a_cohort_emptied_by_cancellations_can_be_deleted():
    course = CourseFactory()
    solo = Cohort(course=course, name="Solo")
    db.session.add(solo)
    db.session.flush()
    EnrolmentFactory(course=course, cohort_id=solo.id, status=S.CANCELLED)
    SessionFactory(course=course, cohort_id=solo.id, status=SessionStatus.CANCELLED)
    db.session.commit()
    staffing.delete_cohort(solo, None)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Cohort.id))) == 0


def test_run_once_answers_a_waiting_run_now_request(app, runner):
    with app.app_context():
        admin = UserFactory(role=Role.ADMIN)
        db.session.add(JobRequest(job_id="promote_waitlists", requested_by_id=admin.id))
        db.session.commit()
    assert runner.invoke(args=["scheduler", "run-once", "promote_waitlists"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(JobRequest.taken_at)) is not None
