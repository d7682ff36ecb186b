import datetime as dt

import pytest
from playwright.sync_api import expect

from app.accounts.models import Role
from app.core.types import utcnow
from app.extensions import db
from app.teaching.models import CourseStaff, StaffRole
from tests.e2e.test_enrolment_journey import _login
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_instructor_shows_a_code_and_a_participant_checks_in(browser, live_server, tmp_path):
    now = utcnow()
    with live_server.app_context():
        course = CourseFactory(title="Winter School", slug="winter", starts_on=now.date(), ends_on=now.date() + dt.timedelta(days=1))
        session = SessionFactory(course=course, title="Morning lecture", starts_at=now - dt.timedelta(minutes=5),
                                 ends_at=now + dt.timedelta(hours=2))
        lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        EnrolmentFactory(course=course, user=UserFactory(email="li@example.cn", full_name="Li Na", native_name="李娜", locale="zh"))
        db.session.commit()
        session_id = session.id
        db.session.remove()
    base = live_server.config["LIVE_URL"]
    teacher = browser.new_context(base_url=base, locale="en-GB").new_page()
    _login(teacher, "lead@example.org")
    teacher.goto(f"/teach/courses/winter/sessions/{session_id}/attendance")
    teacher.get_by_role("link", name="Open self check-in").click()
    expect(teacher.locator("#checkin-code")).to_be_visible()
    expect(teacher.get_by_text("Checked in: 0 of 1")).to_be_visible()
    code = teacher.locator("#checkin-code").inner_text().replace(" ", "")

    student = browser.new_context(base_url=base, locale="zh-CN").new_page()
    _login(student, "li@example.cn")
    student.goto("/checkin")
    student.locator("#code").fill(code)
    student.locator("#submit").click()
    expect(student.get_by_text("签到成功", exact=False)).to_be_visible()

    # the instructor's screen refreshes itself (our own checkin.js) and shows her
    expect(teacher.locator("#checked-in")).to_contain_text("Li Na 李娜", timeout=10000)
    expect(teacher.get_by_text("Checked in: 1 of 1")).to_be_visible()
    teacher.screenshot(path=str(tmp_path / "checkin.png"), full_page=True)
