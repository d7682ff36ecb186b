"""Issue 11 in a real browser (Debian chromium): what a Chinese newcomer, an Italian
reader, a phone user, a certificate checker and a participant with a site visit see."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from playwright.sync_api import expect

from app.accounts.models import User
from app.certificates import services as certificates
from app.certificates.models import CertificateKind
from app.core.types import utcnow
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule import services as schedule
from app.schedule.models import SessionKind
from app.teaching.models import Attendance
from tests.e2e.conftest import confirmation_link
from tests.e2e.test_enrolment_journey import _login
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def test_a_chinese_newcomer_in_shanghai_starts_on_shanghai_time(browser, live_server):
    context = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport=PHONE)
    page = context.new_page()
    page.goto("/auth/register")
    expect(page.locator("#timezone")).to_have_value("Asia/Shanghai")
    expect(page.locator("#country")).to_have_value("CN")
    page.locator("#email").fill("li.na@example.cn")
    page.locator("#full_name").fill("Li Na")
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#privacy_consent").check()
    page.locator("#submit").click()
    expect(page.locator("#transfer_consent")).to_have_class(re.compile("is-invalid"))  # PIPL: asked separately
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#transfer_consent").check()
    page.locator("#submit").click()
    page.wait_for_url("**/auth/register/sent")
    expect(page.get_by_role("heading", name="请查收邮件", level=1)).to_be_visible()
    page.goto(confirmation_link(live_server, "li.na@example.cn"))  # the email's link confirms and signs in
    page.wait_for_url("**/me")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with live_server.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "li.na@example.cn"))
        assert (user.timezone, user.country, user.locale) == ("Asia/Shanghai", "CN", "zh")
    context.close()


def test_a_rome_browser_keeps_rome_and_the_privacy_notice_opens(browser, live_server):
    context = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="it-IT", timezone_id="Europe/Rome")
    page = context.new_page()
    page.goto("/auth/register")
    expect(page.locator("#timezone")).to_have_value("Europe/Rome")
    expect(page.locator("#country")).to_have_value("IT")
    with context.expect_page() as notice:
        page.get_by_role("link", name="Leggi l'informativa sulla privacy").click()
    expect(notice.value.get_by_role("heading", name="Informativa sulla privacy", level=1)).to_be_visible()
    context.close()


def test_italian_plurals_and_chinese_dates_on_the_catalogue(browser, live_server):
    with live_server.app_context():
        CourseFactory(title="Scuola invernale", capacity=13, starts_on=dt.date(2027, 12, 7), ends_on=dt.date(2027, 12, 9))
        db.session.commit()
        with force_locale("it"):
            places = ngettext("%(num)d place left", "%(num)d places left", 13)
    base = live_server.config["LIVE_URL"]
    italian = browser.new_context(base_url=base, locale="it-IT").new_page()
    italian.goto("/courses")
    assert places != "13 places left"
    expect(italian.get_by_text(places)).to_be_visible()
    chinese = browser.new_context(base_url=base, locale="zh-CN").new_page()
    chinese.goto("/courses")
    chinese.get_by_role("link", name="Scuola invernale").click()
    expect(chinese.get_by_text("2027年12月7日星期二", exact=False).first).to_be_visible()
    assert "周二 7 12月" not in chinese.content()


def test_on_a_phone_the_enrol_button_comes_before_the_programme(browser, live_server):
    with live_server.app_context():
        course = CourseFactory(title="Summer School", slug="summer-school", capacity=30,
                               description="\n\n".join(["A long paragraph about the programme. " * 12] * 6))
        for day in range(5):
            SessionFactory(course=course, starts_at=dt.datetime.combine(course.starts_on + dt.timedelta(days=day % 4),
                                                                       dt.time(8 + day), dt.UTC))
        UserFactory(email="giulia@example.org")
        db.session.commit()
    page = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="en-GB", viewport=PHONE).new_page()
    _login(page, "giulia@example.org")
    page.goto("/courses/summer-school")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    enrol = page.get_by_role("button", name="Enrol")
    programme = page.get_by_role("heading", name="Programme")
    assert enrol.bounding_box()["y"] < programme.bounding_box()["y"]
    assert enrol.bounding_box()["y"] < 2 * PHONE["height"]
    enrol.click()
    expect(page.get_by_text("You are enrolled in Summer School")).to_be_visible()


def test_withdrawing_in_chinese_asks_first(browser, live_server):
    with live_server.app_context():
        course = CourseFactory(title="冬季学校", slug="winter", capacity=5)
        EnrolmentFactory(course=course, user=UserFactory(email="wang@example.cn", locale="zh"))
        course.seats_taken = 1
        db.session.commit()
    page = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="zh-CN", viewport=PHONE).new_page()
    _login(page, "wang@example.cn")
    page.get_by_role("link", name="退出课程").click()
    expect(page.get_by_role("heading", name="确定退出 冬季学校？")).to_be_visible()
    page.get_by_role("link", name="保留我的名额").click()
    expect(page.locator("#my-activities").get_by_text("已录取")).to_be_visible()  # nothing changed
    page.get_by_role("link", name="退出课程").click()
    page.get_by_role("button", name="退出课程").click()
    expect(page.locator("#my-activities").get_by_text("已退出")).to_be_visible()


def test_the_site_visit_bus_is_signed_up_for_or_declined(browser, live_server):
    with live_server.app_context():
        course = CourseFactory(title="Hydrogen Valley", slug="hydrogen", capacity=20)
        schedule.create_sessions(course, schedule.SessionData(
            title="Bus to the plant", kind=SessionKind.SITE_VISIT, day=course.starts_on, start=dt.time(8),
            end=dt.time(17), capacity=8), UserFactory())
        UserFactory(email="giulia@example.org")
        db.session.commit()
    page = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="en-GB").new_page()
    _login(page, "giulia@example.org")
    page.goto("/courses/hydrogen")
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("#signups-awaited")).to_contain_text("Bus to the plant")
    page.goto("/me")
    expect(page.locator("#signups-awaited")).to_contain_text("Bus to the plant")
    page.locator("#signups-awaited").get_by_role("link", name="Bus to the plant").click()
    page.get_by_role("button", name="I am not coming").click()
    expect(page.get_by_text("You said you are not coming.")).to_be_visible()
    page.goto("/me")
    expect(page.locator("#signups-awaited")).to_have_count(0)


def test_anyone_verifies_a_certificate_by_serial_and_code(browser, live_server):
    today = utcnow().date()
    with live_server.app_context():
        course = CourseFactory(title="Water Forum", starts_on=today - dt.timedelta(days=9), ends_on=today - dt.timedelta(days=8))
        session = SessionFactory(course=course)
        e = EnrolmentFactory(course=course, status=S.COMPLETED, user=UserFactory(full_name="Giulia Rossi"))
        db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status="present", method="sheet"))
        db.session.flush()
        c = certificates.issue(e, CertificateKind.ATTENDANCE, None)
        db.session.commit()
        serial, code = c.serial, c.verification_code
    page = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="it-IT", viewport=PHONE).new_page()
    page.goto("/verify")
    page.locator("#serial").fill(serial.lower())
    page.locator("#code").fill(code)
    page.locator("#submit").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Giulia Rossi")).to_be_visible()
    expect(page.get_by_text("Attestato valido")).to_be_visible()
