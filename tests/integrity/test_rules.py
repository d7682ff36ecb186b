"""The review's correctness list, one rule a test: each failed on 094c85b."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from app.accounts.models import Role
from app.catalogue.models import Course
from app.certificates import services as certificates
from app.certificates.batches import run_queued_batches, start_batch
from app.certificates.models import BatchStatus, Certificate, CertificateBatch, CertificateKind, CertificateStatus
from app.core.types import utcnow
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.jobs import doctor
from app.notifications.models import OutboxMessage
from app.schedule import services as schedule
from app.schedule.models import CourseSession
from app.teaching import services as teaching
from app.teaching.models import Attendance, AttendanceMethod
from app.teaching.models import AttendanceStatus as A
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.integrity.harness import assert_doctor_clean

UTC = dt.UTC


def _finished(app_ctx=None, people: int = 2):  # noqa: ANN001
    today = dt.date.today()
    course = CourseFactory(starts_on=today - dt.timedelta(days=10), ends_on=today - dt.timedelta(days=8),
                           offers_completion_certificate=False)
    start = dt.datetime.combine(course.starts_on, dt.time(8), UTC)
    session = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    enrolments = [EnrolmentFactory(course=course, status=S.COMPLETED) for _ in range(people)]
    course.seats_taken = people
    for e in enrolments:
        db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status=A.PRESENT, method=AttendanceMethod.SHEET))
    db.session.commit()
    return course, enrolments


@pytest.mark.usefixtures("app_ctx")
def test_a_revoked_certificate_is_not_issued_again_automatically():
    course, (revoked_one, other) = _finished()
    admin = UserFactory(role=Role.ADMIN)
    first = certificates.issue(revoked_one, CertificateKind.ATTENDANCE, admin)
    certificates.revoke(first, "Did not attend in person", admin)
    db.session.commit()
    assert certificates.issue_all(course, None) == (1, 1)  # only the other person
    assert certificates.issue_all(course, None) == (0, 0)
    valid = db.session.scalars(sa.select(Certificate.enrolment_id).where(Certificate.status == CertificateStatus.VALID))
    assert list(valid) == [other.id]
    # An admin may still decide to issue it explicitly.
    certificates.issue(revoked_one, CertificateKind.ATTENDANCE, admin)
    db.session.commit()


def test_a_revoked_certificate_is_served_stamped_revoked(app):
    with app.app_context():
        _course, (e, _other) = _finished()
        holder = e.user.email
        admin = UserFactory(role=Role.ADMIN)
        certificate = certificates.issue(e, CertificateKind.ATTENDANCE, admin)
        certificates.revoke(certificate, "Name misspelt <b>badly</b>", admin)
        db.session.commit()
        public_id = certificate.public_id
    client = app.test_client()
    client.post("/auth/login", data={"email": holder, "password": "correct-horse-battery"})
    response = client.get(f"/certificates/{public_id}.pdf")
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "REVOKED on" in text and "Name misspelt <b>badly</b>" in text


@pytest.mark.usefixtures("app_ctx")
def test_a_bulk_issue_whose_worker_died_is_taken_over_after_two_minutes():
    course, _people = _finished(people=3)
    admin = UserFactory(role=Role.ADMIN)
    batch = start_batch(course, admin)
    db.session.commit()
    t0 = utcnow()
    # A worker claimed it, beat once, and its process died.
    db.session.execute(sa.update(CertificateBatch).where(CertificateBatch.id == batch.id)
                       .values(status=BatchStatus.RUNNING, started_at=t0, heartbeat_at=t0))
    db.session.commit()
    with time_machine.travel(t0 + dt.timedelta(seconds=90), tick=False):
        assert run_queued_batches() == {"batches": 0}  # still alive, for all we know
        assert doctor.violations() == []
    with time_machine.travel(t0 + dt.timedelta(minutes=3), tick=False):
        assert any("no live heartbeat" in v for v in doctor.violations())
        assert run_queued_batches() == {"batches": 1}
    db.session.expire_all()
    assert db.session.get(CertificateBatch, batch.id).status is BatchStatus.DONE
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3
    # A course can always be issued again: once someone new qualifies, a new batch.
    late = EnrolmentFactory(course=course, status=S.COMPLETED)
    db.session.add(Attendance(session_id=db.session.scalar(sa.select(CourseSession.id).where(
        CourseSession.course_id == course.id)), enrolment_id=late.id, status=A.PRESENT, method=AttendanceMethod.SHEET))
    db.session.commit()
    again = start_batch(course, admin)
    assert again.id != batch.id and again.status is BatchStatus.QUEUED


@pytest.mark.usefixtures("app_ctx")
def test_a_self_check_in_never_overwrites_a_staff_mark():
    now = utcnow().replace(second=5, microsecond=0)
    course = CourseFactory(starts_on=now.date() - dt.timedelta(days=1), ends_on=now.date() + dt.timedelta(days=1))
    session = SessionFactory(course=course, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1))
    e = EnrolmentFactory(course=course)
    staff = UserFactory(role=Role.INSTRUCTOR)
    with time_machine.travel(now, tick=False):
        teaching.mark(session, e.id, A.ABSENT, staff, note="Phoned in sick")
        with pytest.raises(teaching.Conflict, match="staff have already recorded"):
            teaching.check_in(e.user, teaching.code_at(session, now), now=now)
    row = db.session.scalar(sa.select(Attendance))
    assert (row.status, row.method, row.note) == (A.ABSENT, AttendanceMethod.SHEET, "Phoned in sick")


@pytest.mark.usefixtures("app_ctx")
def test_a_code_matching_another_courses_session_is_just_a_wrong_code():
    now = utcnow().replace(second=5, microsecond=0)
    mine = CourseFactory(starts_on=now.date(), ends_on=now.date() + dt.timedelta(days=1))
    theirs = CourseFactory(starts_on=now.date(), ends_on=now.date() + dt.timedelta(days=1))
    SessionFactory(course=mine, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1))
    other = SessionFactory(course=theirs, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=1))
    me = EnrolmentFactory(course=mine).user
    with time_machine.travel(now, tick=False), pytest.raises(teaching.TeachingError, match="wrong or has expired"):
        teaching.check_in(me, teaching.code_at(other, now), now=now)


@pytest.mark.usefixtures("app_ctx")
def test_cancelling_a_series_emails_each_person_once_and_a_second_click_changes_nothing():
    start = dt.datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
    course = CourseFactory(starts_on=dt.date(2027, 5, 3), ends_on=dt.date(2027, 5, 28))
    people = [EnrolmentFactory(course=course).user for _ in range(3)]
    staff = UserFactory(role=Role.INSTRUCTOR)
    series = [SessionFactory(course=course, series_id="s-1", starts_at=start + dt.timedelta(weeks=i),
                             ends_at=start + dt.timedelta(weeks=i, hours=2)) for i in range(4)]
    db.session.commit()
    cancelled = schedule.cancel_sessions(series[0], staff, scope="following", reason="Room flooded")
    db.session.commit()
    assert len(cancelled) == 4
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "session_changed")).all()
    assert sorted(m.recipient for m in mails) == sorted(p.email for p in people)
    assert all("4 sessions" in m.subject and m.body_text.count("– Session") == 4 for m in mails)
    with pytest.raises(schedule.Conflict, match="already cancelled"):
        schedule.cancel_sessions(db.session.get(CourseSession, series[0].id), staff, scope="following")


def test_doctor_names_every_broken_invariant_and_exits_1(app, runner):
    with app.app_context():
        course = CourseFactory(capacity=1)
        EnrolmentFactory(course=course, status=S.ACCEPTED)
        EnrolmentFactory(course=course, status=S.ACCEPTED)  # two people in one place, counter at 0
        EnrolmentFactory(course=course, status=S.WAITLISTED, waitlisted_at=None)
        db.session.commit()
        slug = course.slug
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1
    assert f"course {slug}: 0 places counted, 2 enrolments hold one" in result.output
    assert f"course {slug}: 2 people hold its 1 places" in result.output
    assert "on the waiting list with no position" in result.output
    with app.app_context():
        db.session.execute(sa.update(Course).values(seats_taken=1, capacity=2))
        db.session.commit()
    assert "FAIL places counted" in runner.invoke(args=["doctor"]).output


def test_the_demo_used_by_every_job_stays_doctor_clean(app, runner):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    assert_doctor_clean(app)
    from app.jobs.scheduler import run_recorded
    from app.jobs.table import job_table

    for job_id, (func, _trigger) in job_table().items():
        run_recorded(app, job_id, func)
    from app.jobs.models import JobOutcome, JobRun

    with app.app_context():
        runs = db.session.execute(sa.select(JobRun.job_id, JobRun.outcome)).all()
        assert all(outcome is JobOutcome.SUCCESS for _job, outcome in runs), runs
        assert ("doctor", JobOutcome.SUCCESS) in runs
    assert_doctor_clean(app)
