"""Eight identical clicks at once on teaching, schedule, certificate and job actions,
and check-in racing a staff mark. Before the compare-and-set these each wrote once per
click (an audit event, an email or a row per twin) or answered 500 on the unique key
(attendance rows, a second open batch); now one request makes the change."""
from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa
import time_machine
from flask import g

from app.accounts.models import Role
from app.catalogue.models import Course
from app.certificates.models import Certificate, CertificateBatch, CertificateStatus
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.jobs.models import JobRequest
from app.notifications import services as outbox
from app.notifications.models import OutboxMessage
from app.schedule.models import CourseSession, SessionDecline
from app.teaching import services as teaching
from app.teaching.models import Attendance, AttendanceMethod, Cohort, CourseStaff, StaffRole
from app.teaching.models import AttendanceStatus as A
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.integrity.harness import (
    TWINS,
    Shot,
    assert_doctor_clean,
    audits,
    emails,
    no_5xx,
    outcome,
    race,
    same,
    signed_in,
    twins,
)

NOW = utcnow().replace(second=5, microsecond=0)


def _running_course(app, *, ended: bool = False):
    """A course with a lead, an admin, one accepted participant and a session under way
    (or, `ended`, a course that finished with the session attended)."""
    with app.app_context():
        today = NOW.date()
        if ended:
            course = CourseFactory(starts_on=today - dt.timedelta(days=10), ends_on=today - dt.timedelta(days=8))
            start = dt.datetime.combine(course.starts_on, dt.time(8), dt.UTC)
        else:
            course = CourseFactory(starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=3))
            start = NOW - dt.timedelta(minutes=5)
        session = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        lead = UserFactory(role=Role.INSTRUCTOR)
        admin = UserFactory(role=Role.ADMIN)
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        enrolment = EnrolmentFactory(course=course, status=S.ACCEPTED)
        course.seats_taken = 1
        if ended:
            db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status=A.PRESENT,
                                      method=AttendanceMethod.SHEET))
        db.session.commit()
        world = {"course_id": course.id, "slug": course.slug, "session_id": session.id, "lead": lead.email,
                 "admin": admin.email, "enrolment_id": enrolment.id, "participant": enrolment.user.email}
        db.session.remove()
    return world


def _bus(app, w) -> int:  # noqa: ANN001
    """Tomorrow's site-visit bus of the world's course, with three places of its own."""
    with app.app_context():
        course = db.session.get(Course, w["course_id"])
        start = NOW + dt.timedelta(days=1)
        bus = SessionFactory(course=course, capacity=3, starts_at=start, ends_at=start + dt.timedelta(hours=4))
        db.session.commit()
        return bus.id


def test_eight_check_ins_with_one_code_mark_once(app):
    w = _running_course(app)
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            code = teaching.code_at(db.session.get(CourseSession, w["session_id"]), NOW)
        app.config["RATELIMIT_ENABLED"] = False
        codes = race(same(Shot(None, "/checkin", {"code": code}), twins(app, w["participant"])))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert audits("attendance.marked") == 1
        assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1


def test_eight_identical_sheets_mark_once(app):
    w = _running_course(app)
    path = f"/teach/courses/{w['slug']}/sessions/{w['session_id']}/attendance"
    data = {f"status-{w['enrolment_id']}": "late", f"note-{w['enrolment_id']}": "train"}
    codes = race(same(Shot(None, path, data), twins(app, w["lead"])))
    no_5xx(codes)
    assert codes == [302] * 8  # the same sheet, saved: the twins find nothing left to change
    with app.app_context():
        assert audits("attendance.marked") == 1
        row = db.session.scalar(sa.select(Attendance))
        assert (row.status, row.note) == (A.LATE, "train")


def test_eight_mark_all_present_mark_each_person_once(app):
    w = _running_course(app)
    with app.app_context():
        course = db.session.get(Course, w["course_id"])
        for _ in range(3):
            EnrolmentFactory(course=course, status=S.ACCEPTED)
        course.seats_taken = 4
        db.session.commit()
    path = f"/teach/courses/{w['slug']}/sessions/{w['session_id']}/attendance"
    no_5xx(race(same(Shot(None, path, {"all_present": "1"}), twins(app, w["lead"]))))
    with app.app_context():
        assert audits("attendance.marked") == 4
        assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 4


def test_check_in_racing_a_staff_absent_mark_ends_with_the_staff_mark(app):
    """Whichever comes first, the staff's "absent" stands: a check-in never overwrites a
    staff mark, and a staff mark may correct a check-in."""
    for _round in range(3):
        w = _running_course(app)
        app.config["RATELIMIT_ENABLED"] = False
        with time_machine.travel(NOW, tick=False):
            with app.app_context():
                code = teaching.code_at(db.session.get(CourseSession, w["session_id"]), NOW)
            sheet = f"/teach/courses/{w['slug']}/sessions/{w['session_id']}/attendance"
            codes = race([Shot(signed_in(app, w["participant"]), "/checkin", {"code": code}),
                          Shot(signed_in(app, w["lead"]), sheet, {f"status-{w['enrolment_id']}": "absent"})])
        no_5xx(codes)
        assert codes[1] == 302 and codes[0] in (302, 409)
        with app.app_context():
            row = db.session.scalar(sa.select(Attendance).where(Attendance.enrolment_id == w["enrolment_id"]))
            assert (row.status, row.method) == (A.ABSENT, AttendanceMethod.SHEET)
            marks = db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("audit_event")).where(
                sa.text("action = 'attendance.marked' AND object_id = :sid")).params(sid=w["session_id"]))
            assert marks == codes.count(302)


def test_eight_completions_record_once(app):
    w = _running_course(app, ended=True)
    path = f"/teach/courses/{w['slug']}/completion"
    codes = race(same(Shot(None, path, {"ids": [w["enrolment_id"]], "outcome": "passed"}), twins(app, w["lead"])))
    no_5xx(codes)
    assert codes == [302] * 8
    with app.app_context():
        assert audits("enrolment.completion_recorded") == 1
        assert db.session.get(Enrolment, w["enrolment_id"]).status is S.COMPLETED
    assert_doctor_clean(app)


def test_eight_sign_ups_and_eight_give_backs_of_one_bus_seat(app):
    w = _running_course(app)
    bus_id = _bus(app, w)
    tabs = twins(app, w["participant"])
    codes = race(same(Shot(None, f"/sessions/{bus_id}/signup"), tabs))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    codes = race(same(Shot(None, f"/sessions/{bus_id}/signup/cancel"), tabs))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert db.session.get(CourseSession, bus_id).seats_taken == 0
        assert audits("session.signed_up") == 1 and audits("session.signup_cancelled") == 1
    assert_doctor_clean(app)


def test_eight_cohort_moves_move_once(app):
    w = _running_course(app)
    with app.app_context():
        rome = Cohort(course_id=w["course_id"], name="Rome")
        db.session.add(rome)
        db.session.commit()
        rome_id = rome.id
    path = f"/teach/courses/{w['slug']}/cohorts/assign"
    codes = race(same(Shot(None, path, {"ids": [w["enrolment_id"]], "cohort_id": rome_id}), twins(app, w["lead"])))
    no_5xx(codes)
    with app.app_context():
        assert audits("cohort.assigned") == 1
        assert db.session.get(Enrolment, w["enrolment_id"]).cohort_id == rome_id


def test_eight_cohort_creations_with_one_name_create_one(app):
    w = _running_course(app)
    codes = race(same(Shot(None, f"/teach/courses/{w['slug']}/cohorts", {"name": "Shanghai"}), twins(app, w["lead"])))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Cohort.id))) == 1 and audits("cohort.created") == 1


def test_eight_issues_revocations_and_re_issues_of_one_certificate(app):
    w = _running_course(app, ended=True)
    admin = twins(app, w["admin"])
    issue = Shot(None, f"/admin/courses/{w['course_id']}/certificates/issue",
                 {"enrolment_id": w["enrolment_id"], "kind": "attendance"})
    codes = race(same(issue, admin))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate))
        public_id = certificate.public_id
        assert emails("certificate_issued") == 1
    codes = race(same(Shot(None, f"/admin/certificates/{public_id}/reissue"), admin))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        valid = db.session.scalars(sa.select(Certificate).where(Certificate.status == CertificateStatus.VALID)).all()
        assert len(valid) == 1 and valid[0].public_id != public_id
        new_id = valid[0].public_id
        assert audits("certificate.issued") == 2
    codes = race(same(Shot(None, f"/admin/certificates/{new_id}/revoke", {"reason": "Typo in the name"}), admin))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert audits("certificate.revoked") == 1 and emails("certificate_revoked") == 1
    assert_doctor_clean(app)


def test_eight_bulk_issue_clicks_queue_one_batch(app):
    app.config["PONTE_BATCH_IN_THREAD"] = False
    w = _running_course(app, ended=True)
    codes = race(same(Shot(None, f"/admin/courses/{w['course_id']}/certificates/bulk"), twins(app, w["admin"])))
    no_5xx(codes)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 1
        assert audits("certificate.batch_requested") == 1


def test_eight_run_now_clicks_ask_once(app):
    w = _running_course(app)
    codes = race(same(Shot(None, "/admin/jobs/promote_waitlists/run"), twins(app, w["admin"])))
    assert codes == [302] * 8
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(JobRequest.id))) == 1 and audits("job.requested") == 1


def test_eight_not_coming_clicks_record_once(app):
    w = _running_course(app)
    bus_id = _bus(app, w)
    codes = race(same(Shot(None, f"/sessions/{bus_id}/decline"), twins(app, w["participant"])))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SessionDecline.id))) == 1
        assert audits("session.declined") == 1
    assert_doctor_clean(app)


def test_eight_saves_of_a_session_with_a_new_instructor_add_them_to_the_staff_once(app):
    w = _running_course(app)
    with app.app_context():
        course = db.session.get(Course, w["course_id"])
        start = dt.datetime.combine(course.ends_on, dt.time(9), dt.UTC)
        later = SessionFactory(course=course, title="Closing", starts_at=start, ends_at=start + dt.timedelta(hours=2))
        teacher = UserFactory(role=Role.INSTRUCTOR)
        db.session.commit()
        later_id, teacher_id, day = later.id, teacher.id, course.ends_on.isoformat()
    data = {"title": "Closing", "kind": "lecture", "day": day, "start": "10:00", "end": "12:00", "venue_id": "0",
            "cohort_id": "0", "repeat": "none", "scope": "this", "counts_for_attendance": "y", "instructor_ids": [str(teacher_id)],
            "version": "0"}  # the version the form was opened on, as the page sends it
    path = f"/teach/courses/{w['slug']}/sessions/{later_id}/edit"
    codes = race(same(Shot(None, path, data), twins(app, w["admin"])))
    no_5xx(codes)
    assert codes == [302] * 8  # the same form, saved: the twins find nothing left to change
    with app.app_context():
        staff = db.session.scalars(sa.select(CourseStaff).where(CourseStaff.user_id == teacher_id)).all()
        assert [(s.course_id, s.role) for s in staff] == [(w["course_id"], StaffRole.INSTRUCTOR)]
        assert audits("course_staff.added") == 1
        assert [i.id for i in db.session.get(CourseSession, later_id).instructors] == [teacher_id]
    assert_doctor_clean(app)


def test_two_admins_removing_the_two_leads_at_once_leave_one(app):
    """Four tabs remove one lead and four the other, all at once: the course lock makes
    them queue, so one removal happens and the other lead stays (no 5xx, one audit)."""
    w = _running_course(app)
    with app.app_context():
        first = db.session.scalar(sa.select(CourseStaff).where(CourseStaff.course_id == w["course_id"]))
        second = CourseStaff(course_id=w["course_id"], user_id=UserFactory(role=Role.INSTRUCTOR).id, role=StaffRole.LEAD)
        db.session.add(second)
        db.session.commit()
        ids = [first.id, second.id]
    tabs = twins(app, w["admin"])
    codes = race([Shot(tab, f"/admin/courses/{w['course_id']}/staff/{ids[i % 2]}/remove") for i, tab in enumerate(tabs)])
    no_5xx(codes)
    assert codes.count(302) == 1 and set(codes) <= {302, 400, 404}
    with app.app_context():
        leads = db.session.scalars(sa.select(CourseStaff).where(CourseStaff.course_id == w["course_id"],
                                                                CourseStaff.role == StaffRole.LEAD)).all()
        assert len(leads) == 1 and audits("course_staff.removed") == 1
    assert_doctor_clean(app)


def test_erasing_one_lead_while_the_other_is_removed_leaves_a_lead_who_is_not_erased(app):
    """Four admin tabs erase one lead (on request) while four remove the other: the
    course lock orders them, and the course keeps a lead who can still act."""
    from app.accounts.models import User

    w = _running_course(app)
    with app.app_context():
        first = db.session.scalar(sa.select(CourseStaff).where(CourseStaff.course_id == w["course_id"]))
        second = CourseStaff(course_id=w["course_id"], user_id=UserFactory(role=Role.INSTRUCTOR).id, role=StaffRole.LEAD)
        db.session.add(second)
        db.session.commit()
        erased_id, second_id = first.user_id, second.id
    tabs = twins(app, w["admin"])
    shots = [Shot(tab, f"/admin/users/{erased_id}/erase" if i % 2 else
                  f"/admin/courses/{w['course_id']}/staff/{second_id}/remove") for i, tab in enumerate(tabs)]
    codes = race(shots)
    no_5xx(codes)
    with app.app_context():
        leads = [s.user for s in db.session.scalars(sa.select(CourseStaff).where(
            CourseStaff.course_id == w["course_id"], CourseStaff.role == StaffRole.LEAD))]
        assert [u for u in leads if not u.is_erased], [u.id for u in leads]
        assert audits("user.erased") + audits("course_staff.removed") == 1
        assert isinstance(db.session.get(User, erased_id), User)
    assert_doctor_clean(app)


def test_eight_renderers_of_one_queued_email_render_it_once(app):
    with app.app_context(), app.test_request_context("/"):
        user = UserFactory(email="r@example.org")
        course = CourseFactory(title="Blue Economy")
        db.session.flush()
        message_id = outbox.queue_email(user, "enrolment", move="accepted", course=course, enrolment=None).id
        db.session.commit()
        g.pop("ponte_unrendered")  # as if its request had died: eight delivery loops find it
    barrier, counts, errors = threading.Barrier(TWINS), [], []

    def render() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                counts.append(outbox.render_pending([message_id]))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(TWINS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and sum(counts) == 1, (errors, counts)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.render_context is None and "Blue Economy" in message.subject and "Blue Economy" in message.body_text
    assert_doctor_clean(app)
