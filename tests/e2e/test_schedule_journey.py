import datetime as dt

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.teaching.models import CourseStaff, StaffRole
from tests.e2e.test_enrolment_journey import _login
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_instructor_adds_weekly_series_and_participant_sees_it_in_shanghai_time(browser, live_server, tmp_path):
    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday() + 7)  # Monday in two weeks
    with live_server.app_context():
        course = CourseFactory(title="Summer School Rome", slug="summer", timezone="Europe/Rome",
                               starts_on=monday, ends_on=monday + dt.timedelta(days=11))
        lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR, full_name="Paolo Esposito")
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        EnrolmentFactory(course=course, user=UserFactory(email="li@example.cn", full_name="Li Na", timezone="Asia/Shanghai"))
        db.session.commit()
        db.session.remove()
    base = live_server.config["LIVE_URL"]
    teacher = browser.new_context(base_url=base, locale="en-GB").new_page()
    _login(teacher, "lead@example.org")
    teacher.goto("/teach/")
    teacher.get_by_role("link", name="Sessions").click()
    teacher.get_by_role("link", name="Add sessions").click()
    teacher.get_by_label("Title").fill("Morning lecture")
    teacher.get_by_label("Day", exact=True).fill(monday.isoformat())
    teacher.get_by_label("Starts").fill("09:30")
    teacher.get_by_label("Ends").fill("11:00")
    teacher.get_by_label("Every week on").check()
    teacher.get_by_label("Mon", exact=True).check()
    teacher.get_by_label("Wed", exact=True).check()
    teacher.get_by_label("Until").fill((monday + dt.timedelta(days=9)).isoformat())
    teacher.get_by_role("button", name="Save").click()
    assert teacher.get_by_text("4 sessions added.").is_visible()

    student = browser.new_context(base_url=base, locale="en-GB").new_page()
    _login(student, "li@example.cn")
    student.goto("/me/timetable")
    student.get_by_role("link", name="Next week →").click()
    student.get_by_role("link", name="Next week →").click()
    items = student.locator("li", has_text="Morning lecture")
    assert items.count() == 2
    text = items.first.inner_text()
    from zoneinfo import ZoneInfo

    start = dt.datetime.combine(monday, dt.time(9, 30), ZoneInfo("Europe/Rome")).astimezone(ZoneInfo("Asia/Shanghai"))
    end = start + dt.timedelta(minutes=90)
    shanghai = f"{start:%H:%M}–{end:%H:%M} Shanghai"  # 7 hours later in winter, 6 in summer
    assert "09:30–11:00 Rome" in text and shanghai in text
    student.screenshot(path=str(tmp_path / "timetable.png"), full_page=True)
