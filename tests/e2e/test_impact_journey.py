"""In a real browser: a participant answers the survey from the emailed link on a phone,
in Chinese, without signing in; the admin sees the results and the impact dashboard."""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from app.accounts.models import Role
from app.extensions import db
from app.feedback.services import send_invitations
from app.notifications.backends import get_backend
from app.teaching.models import Attendance
from tests.e2e.test_enrolment_journey import _login
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def test_answer_the_emailed_survey_on_a_phone_then_the_admin_sees_it_counted(browser, live_server):
    today = dt.date.today()
    with live_server.app_context():
        course = CourseFactory(title="Water Forum", starts_on=today - dt.timedelta(days=3),
                               ends_on=today - dt.timedelta(days=2), capacity=20)
        session = SessionFactory(course=course)
        for i in range(5):
            user = UserFactory(email=f"p{i}@example.cn", full_name=f"Chen Xiaoling {i}", locale="zh",
                               country="CN", city="上海")
            e = EnrolmentFactory(course=course, user=user)
            db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status="present", method="sheet"))
        course.seats_taken = 5
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        db.session.commit()
        send_invitations()
        db.session.commit()
        from app.notifications.services import deliver_pending

        deliver_pending()
        links = [re.search(r"https?://[^/\s]+(/surveys/\S+)", m.get_body(("plain",)).get_content()).group(1)
                 for m in get_backend().sent if "/surveys/" in m.get_body(("plain",)).get_content()]
        course_id = course.id
        db.session.remove()
    assert len(links) == 5
    base = live_server.config["LIVE_URL"]
    phone = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE).new_page()
    for n, link in enumerate(links):
        phone.goto(link)
        expect(phone.get_by_role("heading", name="Water Forum")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
        phone.get_by_role("button", name="提交我的回答").click()  # nothing chosen: the required ones say so
        expect(phone.get_by_text("请回答此问题。").first).to_be_visible()
        for legend, value in (("总体而言", "5"), ("相关程度", "4"), ("推荐", "9" if n % 2 else "10")):
            group = phone.locator("fieldset", has_text=legend)
            group.locator("label", has_text=re.compile(rf"^{value}$")).click()
        phone.locator("fieldset", has_text="您将在工作中应用哪些内容").locator("textarea").fill(f"能源审计 {n}")
        phone.locator("fieldset", has_text="您是如何前往").get_by_label("火车").check()
        phone.get_by_role("button", name="提交我的回答").click()
        expect(phone.get_by_text("您的回答已保存")).to_be_visible()
        phone.goto(link)
        expect(phone.get_by_text("您已填写过此问卷")).to_be_visible()

    admin = browser.new_context(base_url=base, locale="en-GB").new_page()
    _login(admin, "admin@example.org")
    admin.goto(f"/admin/courses/{course_id}/survey/results")
    expect(admin.get_by_text("5 responses")).to_be_visible()
    expect(admin.get_by_text("能源审计 0")).to_be_visible()
    assert "Chen Xiaoling" not in admin.content()
    admin.goto(f"/admin/impact?from={today - dt.timedelta(days=30)}&to={today}")
    expect(admin.get_by_role("heading", name="Effectiveness")).to_be_visible()
    expect(admin.locator("#table-surveys")).to_contain_text("Water Forum")
    expect(admin.locator("svg[role=img]").first).to_be_visible()
    admin.set_viewport_size(PHONE)
    assert admin.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
