import datetime as dt
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from app.accounts.models import Role
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.teaching.models import Attendance
from tests.e2e.test_enrolment_journey import _login
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_bulk_issue_with_progress_download_verify_and_revoke(browser, live_server):
    today = dt.date.today()
    with live_server.app_context():
        course = CourseFactory(title="Water Forum", starts_on=today - dt.timedelta(days=9), ends_on=today - dt.timedelta(days=8))
        session = SessionFactory(course=course)
        for i in range(4):
            user = UserFactory(email=f"p{i}@example.cn", full_name=f"Chen Xiaoling {i}", native_name=f"陈晓玲{i}", locale="zh")
            e = EnrolmentFactory(course=course, user=user, status=S.COMPLETED)
            db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status="present", method="sheet"))
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        db.session.commit()
        course_id = course.id
        db.session.remove()
    base = live_server.config["LIVE_URL"]
    admin = browser.new_context(base_url=base, locale="en-GB").new_page()
    _login(admin, "admin@example.org")
    admin.goto(f"/admin/courses/{course_id}/certificates")
    admin.get_by_role("button", name="Issue all eligible").click()
    expect(admin.locator("#batch-status")).to_have_text("Done", timeout=30000)
    expect(admin.locator("#batch-done")).to_have_text("8")

    holder = browser.new_context(base_url=base, locale="zh-CN").new_page()
    _login(holder, "p0@example.cn")
    link = holder.get_by_role("link", name="下载 PDF").first
    pdf = holder.request.get(base + link.get_attribute("href")).body()
    assert "陈晓玲0" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    holder.get_by_role("link", name="验证页面").first.click()
    expect(holder.get_by_text("证书有效")).to_be_visible()
    verify_url = holder.url

    public_id = verify_url.rsplit("/", 1)[1]
    admin.reload()
    row = admin.locator("td div", has=admin.locator(f"a[href='/certificates/{public_id}.pdf']"))
    row.locator("summary").click()
    row.get_by_placeholder("Reason (shown on the verification page)").fill("Issued twice")
    row.get_by_role("button", name="Revoke").click()
    expect(admin.get_by_text("revoked; the holder has been told")).to_be_visible()
    holder.reload()
    expect(holder.get_by_text("已撤销", exact=True)).to_be_visible()
    expect(holder.get_by_text("Issued twice")).to_be_visible()
