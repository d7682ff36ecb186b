import datetime as dt

import pytest

from app.catalogue.models import CourseStatus
from tests.factories import CourseFactory, SessionFactory, VenueFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def test_course_list_shape_and_pagination(client):
    for i in range(25):
        CourseFactory(title=f"Course {i:02d}")
    CourseFactory(status=CourseStatus.DRAFT, title="Secret")
    body = client.get("/api/v1/courses?per_page=10&page=2").json
    assert (body["page"], body["pages"], body["total"]) == (2, 3, 25)
    item = body["items"][0]
    for key in ("slug", "title", "kind", "timezone", "starts_on", "ends_on", "capacity", "places_left", "enrolment_open", "url"):
        assert key in item
    assert all(i["title"] != "Secret" for i in body["items"])


def test_course_detail_and_404_for_unknown_or_draft(client):
    CourseFactory(slug="visible", capacity=10, seats_taken=3)
    CourseFactory(slug="draft", status=CourseStatus.DRAFT)
    body = client.get("/api/v1/courses/visible").json
    assert body["places_left"] == 7 and body["enrolment_open"] is True
    for slug in ("draft", "nope"):
        response = client.get(f"/api/v1/courses/{slug}")
        assert response.status_code == 404 and "error" in response.json
        assert client.get(f"/api/v1/courses/{slug}/sessions").status_code == 404


@pytest.mark.parametrize("query", ["page=0", "per_page=1000", "page=abc", "kind=party", "month=2027-1"])
def test_bad_api_parameters_are_json_400(client, query):
    response = client.get(f"/api/v1/courses?{query}")
    assert response.status_code == 400 and response.is_json and "error" in response.json


def test_sessions_carry_the_course_zone_offset_across_dst(client):
    rome = VenueFactory(name="Casa", city="Rome")
    course = CourseFactory(slug="rome", timezone="Europe/Rome", starts_on=dt.date(2027, 3, 26), ends_on=dt.date(2027, 3, 29))
    SessionFactory(course=course, venue=rome, title="Before", starts_at=dt.datetime(2027, 3, 26, 8, 30, tzinfo=dt.UTC),
                   ends_at=dt.datetime(2027, 3, 26, 10, 0, tzinfo=dt.UTC), join_url="https://secret.example/join")
    SessionFactory(course=course, title="After", starts_at=dt.datetime(2027, 3, 29, 7, 30, tzinfo=dt.UTC),
                   ends_at=dt.datetime(2027, 3, 29, 9, 0, tzinfo=dt.UTC))
    response = client.get("/api/v1/courses/rome/sessions")
    items = response.json["items"]
    assert [i["starts_at"] for i in items] == ["2027-03-26T09:30:00+01:00", "2027-03-29T09:30:00+02:00"]
    assert items[0]["venue"]["name"] == "Casa" and items[0]["timezone"] == "Europe/Rome"
    assert b"secret.example" not in response.data


def test_the_sessions_api_paginates_for_real(client):
    course = CourseFactory(slug="long", starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 3, 31))
    for day in range(30):
        SessionFactory(course=course, title=f"Day {day + 1}",
                       starts_at=dt.datetime(2027, 3, 1 + day, 8, tzinfo=dt.UTC),
                       ends_at=dt.datetime(2027, 3, 1 + day, 9, tzinfo=dt.UTC))
    first = client.get("/api/v1/courses/long/sessions?per_page=12").json
    assert (first["page"], first["pages"], first["total"], len(first["items"])) == (1, 3, 30, 12)
    last = client.get("/api/v1/courses/long/sessions?per_page=12&page=3").json
    assert [i["title"] for i in last["items"]] == [f"Day {d}" for d in range(25, 31)]
    assert client.get("/api/v1/courses/long/sessions").json["pages"] == 1  # 50 a page by default
    assert client.get("/api/v1/courses/long/sessions?per_page=101").status_code == 400
    assert client.get("/api/v1/courses/long/sessions?page=0").status_code == 400
