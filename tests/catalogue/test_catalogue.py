import datetime as dt

import pytest

from app.catalogue.models import CourseKind, CourseStatus
from app.core.types import utcnow
from app.enrolment.models import EnrolmentStatus
from app.extensions import db
from tests.factories import CourseFactory, EnrolmentFactory, ProgrammeFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def _titles(html: str, *titles: str) -> list[bool]:
    return [t in html for t in titles]


def test_filters_kind_place_language_month_programme_and_open_now(client):
    today = utcnow().date()
    prog = ProgrammeFactory(slug="green-2027", title="Green 2027")
    CourseFactory(title="Rome Seminar", kind=CourseKind.SEMINAR, city="Rome", language="it", programme=prog,
                  starts_on=today + dt.timedelta(days=40), ends_on=today + dt.timedelta(days=40))
    CourseFactory(title="Shanghai Winter", kind=CourseKind.WINTER_SCHOOL, city="Shanghai", timezone="Asia/Shanghai",
                  language="zh", starts_on=today + dt.timedelta(days=80), ends_on=today + dt.timedelta(days=85))
    CourseFactory(title="Online Webinar", kind=CourseKind.WEBINAR, city=None, is_online=True,
                  enrolment_opens_at=utcnow() + dt.timedelta(days=3))
    CourseFactory(title="Past Forum", starts_on=today - dt.timedelta(days=30), ends_on=today - dt.timedelta(days=29))
    CourseFactory(title="Hidden Draft", status=CourseStatus.DRAFT)

    def get(**args):
        response = client.get("/courses", query_string=args)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    everything = get()
    assert _titles(everything, "Rome Seminar", "Shanghai Winter", "Online Webinar", "Past Forum", "Hidden Draft") == [
        True, True, True, False, False]
    assert "Past Forum" in get(past="1")
    assert _titles(get(kind="seminar"), "Rome Seminar", "Shanghai Winter") == [True, False]
    assert _titles(get(place="shanghai"), "Rome Seminar", "Shanghai Winter") == [False, True]
    assert _titles(get(place="online"), "Online Webinar", "Rome Seminar") == [True, False]
    assert _titles(get(language="zh"), "Shanghai Winter", "Rome Seminar") == [True, False]
    month = (today + dt.timedelta(days=82)).strftime("%Y-%m")
    assert "Shanghai Winter" in get(month=month) and "Rome Seminar" not in get(month=month)
    assert _titles(get(programme="green-2027"), "Rome Seminar", "Shanghai Winter") == [True, False]
    assert _titles(get(open="1"), "Rome Seminar", "Online Webinar") == [True, False]
    assert _titles(get(q="WINTER"), "Shanghai Winter", "Rome Seminar") == [True, False]


@pytest.mark.parametrize("args", [{"kind": "party"}, {"month": "2027-13"}, {"month": "<script>"}])
def test_bad_filters_are_400(client, args):
    assert client.get("/courses", query_string=args).status_code == 400


def test_search_text_is_escaped_and_handles_chinese_and_wildcards(client):
    CourseFactory(title="低碳城市 Winter School")
    assert "低碳城市" in client.get("/courses", query_string={"q": "低碳"}).get_data(as_text=True)
    html = client.get("/courses", query_string={"q": "<script>alert(1)</script>%_"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "No activities match your search." in html


def test_course_page_shows_places_waitlist_and_both_time_zones(client, auth):
    course = CourseFactory(capacity=1, timezone="Europe/Rome", starts_on=dt.date(2027, 1, 20), ends_on=dt.date(2027, 1, 22),
                           enrolment_closes_at=dt.datetime(2027, 1, 19, tzinfo=dt.UTC))
    SessionFactory(course=course, title="Opening lecture",
                   starts_at=dt.datetime(2027, 1, 20, 8, 30, tzinfo=dt.UTC),
                   ends_at=dt.datetime(2027, 1, 20, 10, 0, tzinfo=dt.UTC))
    EnrolmentFactory(course=course)
    EnrolmentFactory(course=course, status=EnrolmentStatus.WAITLISTED, waitlisted_at=utcnow())
    course.seats_taken = 1
    db.session.commit()
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Full — waiting list" in html and "1 person waiting" in html
    assert "09:30–11:00 Rome" in html
    UserFactory(email="li@example.org", timezone="Asia/Shanghai")
    auth.login("li@example.org")
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "09:30–11:00 Rome · 16:30–18:00 Shanghai" in html
    assert "Join the waiting list" in html


def test_course_page_buttons_follow_the_mode_and_window(client, auth):
    from app.catalogue.models import EnrolmentMode

    UserFactory(email="p@example.org")
    open_course = CourseFactory(capacity=5)
    approval = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL)
    closed = CourseFactory(enrolment_closes_at=utcnow() - dt.timedelta(days=1))
    assert "Log in or create an account to enrol." in client.get(f"/courses/{open_course.slug}").get_data(as_text=True)
    auth.login("p@example.org")
    assert ">Enrol<" in client.get(f"/courses/{open_course.slug}").get_data(as_text=True)
    assert ">Apply<" in client.get(f"/courses/{approval.slug}").get_data(as_text=True)
    assert "Enrolment is closed." in client.get(f"/courses/{closed.slug}").get_data(as_text=True)


def test_feeds_list_upcoming_published_courses(client):
    import icalendar

    CourseFactory(title="Summer & <School>", slug="summer")
    CourseFactory(title="Draft one", status=CourseStatus.DRAFT)
    ics = client.get("/courses.ics")
    assert ics.status_code == 200 and ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(ics.data)
    events = [c for c in cal.walk("VEVENT")]
    assert [str(e["SUMMARY"]) for e in events] == ["Summer & <School>"]
    assert events[0]["URL"].endswith("/courses/summer")
    atom = client.get("/courses.atom")
    assert atom.mimetype == "application/atom+xml"
    text = atom.get_data(as_text=True)
    assert "Summer &amp; &lt;School&gt;" in text and "Draft one" not in text
    import xml.dom.minidom

    xml.dom.minidom.parseString(atom.data)  # well-formed


def test_query_counts_do_not_grow_with_rows(client, auth, query_counter):
    def measure(path):
        with query_counter() as n:
            assert client.get(path).status_code == 200
        return n["n"]

    course = CourseFactory(capacity=None)
    for _ in range(10):
        CourseFactory()
    for _ in range(10):
        EnrolmentFactory(course=course)
    for _ in range(3):
        SessionFactory(course=course)
    small = (measure("/courses"), measure(f"/courses/{course.slug}"), measure("/"))
    for _ in range(190):
        CourseFactory()
    for _ in range(190):
        EnrolmentFactory(course=course)
    for _ in range(30):
        SessionFactory(course=course)
    large = (measure("/courses"), measure(f"/courses/{course.slug}"), measure("/"))
    assert small == large


def test_the_archive_reads_newest_first_and_its_choices_include_past_cities(client):
    today = utcnow().date()
    for years, city in ((1, "Milan"), (5, "Turin"), (9, "Suzhou")):
        day = today - dt.timedelta(days=365 * years)
        CourseFactory(title=f"School of {day.year}", city=city, starts_on=day, ends_on=day)
    CourseFactory(title="Coming School", city="Rome", starts_on=today + dt.timedelta(days=9),
                  ends_on=today + dt.timedelta(days=10))
    db.session.commit()
    upcoming = client.get("/courses").get_data(as_text=True)
    assert 'value="Turin"' not in upcoming and 'value="Rome"' in upcoming  # choices of the courses listed
    archive = client.get("/courses?past=1").get_data(as_text=True)
    order = [archive.index(f"School of {(today - dt.timedelta(days=365 * y)).year}") for y in (1, 5, 9)]
    assert archive.index("Coming School") < order[0] and order == sorted(order)
    assert 'value="Turin"' in archive and 'value="Suzhou"' in archive
