"""What users meet (issue 11), as the server answers it: the privacy notice, the links
where text used to be dead, the one "can enrol now" rule, paragraphs, numbers and dates in
the reader's language, the registration's guesses, the cohort of a session."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from app.accounts.models import Role
from app.core.types import utcnow
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching.models import Attendance, Cohort, CourseStaff, StaffRole
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(("lang", "heading", "contact"), [
    ("en", "Privacy notice", "privacy@ponte.example.org"), ("it", "Informativa sulla privacy", "scrivi a"),
    ("zh", "隐私声明", "请写信至"),
])
def test_the_privacy_notice_exists_in_three_languages_and_is_linked(client, lang, heading, contact):
    client.post("/auth/language", data={"lang": lang})
    page = client.get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"<h1 class=\"h3\">{heading}</h1>" in html and contact in html
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)  # the footer, on every page
    assert 'href="/privacy"' in client.get("/auth/register").get_data(as_text=True)


def test_after_registering_the_page_offers_login_and_reset_as_links(client):
    response = client.post("/auth/register", data={
        "email": "giulia@example.org", "full_name": "Giulia Rossi", "password": "a long passphrase 42",
        "confirm": "a long passphrase 42", "locale": "en", "timezone": "Europe/Rome", "privacy_consent": "y"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/auth/login"' in html and 'href="/auth/reset"' in html
    assert "Reset your password" in html


@pytest.mark.parametrize(("accept", "zone", "country"), [
    ("zh-CN,zh;q=0.9", "Asia/Shanghai", "CN"), ("it-IT,it;q=0.9", "Europe/Rome", "IT"), ("en-GB", "Europe/Rome", ""),
])
def test_registration_guesses_zone_and_country_by_language_without_javascript(client, accept, zone, country):
    html = client.get("/auth/register", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert re.search(rf'<option selected value="{zone}">|<option value="{zone}" selected>', html)
    if country:
        assert re.search(rf'<option selected value="{country}">|<option value="{country}" selected>', html)
    assert "/static/js/register.js" in html  # and the browser's own zone and region, with JavaScript


def test_a_description_keeps_its_paragraphs_from_a_browser_and_escapes_html(client):
    course = CourseFactory(description="First paragraph.\r\n\r\nSecond <b>bold</b> line one\r\nline two.\r\n  \r\nThird.")
    db.session.commit()
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "<p>First paragraph.</p><p>Second &lt;b&gt;bold&lt;/b&gt; line one<br>line two.</p><p>Third.</p>" in html


def test_cards_pages_and_the_api_agree_when_enrolment_has_closed(client):
    course = CourseFactory(title="Winter School", capacity=25, enrolment_closes_at=utcnow() - dt.timedelta(hours=1))
    db.session.commit()
    card = client.get("/courses").get_data(as_text=True)
    assert "Enrolment closed" in card and "places left" not in _text(card).split("Winter School")[1][:200]
    assert "Enrolment is closed." in client.get(f"/courses/{course.slug}").get_data(as_text=True)
    api = client.get("/api/v1/courses").get_json()
    assert [c["enrolment_open"] for c in api["items"] if c["slug"] == course.slug] == [False]


@pytest.mark.parametrize(("lang", "rate", "hours"), [("en", "66.7%", "2 of 3 hours"), ("it", "66,7%", "2 ore su 3"),
                                                     ("zh", "66.7%", "3 小时中出勤 2 小时")])
def test_me_writes_numbers_the_readers_way(client, auth, lang, rate, hours):
    start = dt.datetime.combine(utcnow().date() - dt.timedelta(days=3), dt.time(8), dt.UTC)
    course = CourseFactory(starts_on=start.date(), ends_on=start.date() + dt.timedelta(days=1))
    user = UserFactory(email="p@example.org", locale=lang)
    enrolment = EnrolmentFactory(course=course, user=user, status=S.COMPLETED)
    sessions = [SessionFactory(course=course, starts_at=start + dt.timedelta(hours=i), ends_at=start + dt.timedelta(hours=i + 1))
                for i in range(3)]
    for s in sessions[:2]:
        db.session.add(Attendance(session_id=s.id, enrolment_id=enrolment.id, status="present", method="sheet"))
    db.session.commit()
    auth.login("p@example.org")
    text = _text(client.get("/me").get_data(as_text=True))
    assert rate in text and hours in text


def test_chinese_dates_follow_the_chinese_pattern(client):
    course = CourseFactory(starts_on=dt.date(2027, 12, 7), ends_on=dt.date(2027, 12, 9),
                           enrolment_closes_at=dt.datetime(2027, 12, 6, 16, 0, tzinfo=dt.UTC))
    db.session.commit()
    client.post("/auth/language", data={"lang": "zh"})
    text = _text(client.get(f"/courses/{course.slug}").get_data(as_text=True))
    assert "2027年12月7日星期二" in text
    assert "周二 7 12月" not in text


def test_a_schedule_error_in_italian_names_dates_the_italian_way(client, auth):
    course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
    lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR, locale="it")
    db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
    db.session.commit()
    auth.login("lead@example.org")
    html = client.post(f"/teach/courses/{course.slug}/sessions/new", data={
        "title": "Lezione", "kind": "lecture", "day": "2027-03-01", "start": "09:30", "end": "11:00", "repeat": "none",
        "venue_id": "0", "cohort_id": "0"}).get_data(as_text=True)
    assert "18 gen 2027" in html and "2027-01-18" not in html


def test_the_sessions_list_says_whose_each_session_is(client, auth):
    course = CourseFactory()
    lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
    db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
    rome = Cohort(course_id=course.id, name="Rome cohort")
    db.session.add(rome)
    db.session.flush()
    SessionFactory(course=course, title="For Rome", cohort_id=rome.id)
    SessionFactory(course=course, title="For all")
    db.session.commit()
    auth.login("lead@example.org")
    text = _text(client.get(f"/teach/courses/{course.slug}/sessions").get_data(as_text=True))
    assert re.search(r"For Rome .*Rome cohort", text) and re.search(r"For all .*The whole course", text)
    assert db.session.query(CourseSession).count() == 2


@pytest.mark.parametrize(("attended", "badge"), [(3, "Course completed"), (2, "Passed")])
def test_me_says_completed_only_when_the_completion_rule_is_met(client, auth, attended, badge):
    start = dt.datetime.combine(utcnow().date() - dt.timedelta(days=3), dt.time(8), dt.UTC)
    course = CourseFactory(starts_on=start.date(), ends_on=start.date() + dt.timedelta(days=1), min_attendance_rate=75)
    enrolment = EnrolmentFactory(course=course, user=UserFactory(email="p@example.org"), status=S.COMPLETED)
    sessions = [SessionFactory(course=course, starts_at=start + dt.timedelta(hours=i), ends_at=start + dt.timedelta(hours=i + 1))
                for i in range(3)]
    for s in sessions[:attended]:
        db.session.add(Attendance(session_id=s.id, enrolment_id=enrolment.id, status="present", method="sheet"))
    db.session.commit()
    auth.login("p@example.org")
    html = client.get("/me").get_data(as_text=True)
    assert re.search(rf'class="badge status-completed">{badge}<', html)
    assert ("Course completed" in html) is (badge == "Course completed")
