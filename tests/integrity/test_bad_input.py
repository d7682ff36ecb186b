"""Bad input answers 4xx, never 500, and saves nothing: calendar parameters at the edges
of `datetime`, control characters (NUL above all: PostgreSQL refuses it in text) in any
query or form, and generated values thrown at every parameter of the lists."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.accounts.models import User
from app.catalogue.models import Course
from app.enrolment.models import Enrolment
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching.models import Attendance
from tests.factories import SessionFactory
from tests.helpers import build_world, login_as


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        session = SessionFactory(course=db.session.get_one(Course, w.course_id))
        db.session.commit()
        return w, session.id


@pytest.mark.parametrize("path", [
    "/courses?month=0000-01", "/courses?month=9999-12", "/courses?month=1899-12", "/courses?month=2026-13",
    "/api/v1/courses?month=0001-01", "/courses?q=a%00b", "/api/v1/courses?q=%00", "/courses?place=%1b",
    "/courses?%00=1",
])
def test_malformed_catalogue_queries_are_bad_requests(client, path):
    assert client.get(path).status_code == 400


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "1899-W52", "3000-W01", "2026-W54", "2026-W00", "x"])
def test_weeks_outside_the_calendar_are_bad_requests(app, client, world, week):
    w, _session_id = world
    login_as(client, w, "participant")
    assert client.get(f"/me/timetable?week={week}").status_code == 400
    staff = app.test_client()
    login_as(staff, w, "instructor")
    assert staff.get(f"/teach/timetable?week={week}").status_code == 400


def test_edge_weeks_that_exist_still_show(app, client, world):
    w, _session_id = world
    login_as(client, w, "participant")
    assert client.get("/me/timetable?week=1900-W01").status_code == 200
    assert client.get("/me/timetable?week=2999-W52").status_code == 200
    assert client.get("/courses?month=2999-12").status_code == 200


def test_a_nul_byte_in_a_registration_is_a_form_error_and_creates_nobody(app, client):
    response = client.post("/auth/register", data={
        "email": "nul@example.org", "full_name": "Ada Lovelace", "organisation": "Ponte\x00 S.r.l.",
        "password": "a long passphrase 42", "confirm": "a long passphrase 42", "timezone": "Europe/Rome",
        "locale": "en", "country": "IT", "privacy_consent": "y",
    })
    assert response.status_code == 400
    assert "characters that are not allowed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "nul@example.org")) == 0


@pytest.mark.parametrize("override", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069"])
def test_bidi_overrides_in_names_organisations_and_titles_are_form_errors(app, client, world, override):
    """"Evil\u202egnp.exe" reads as "Evilexe.png": refused in a registration's native name and
    organisation, a profile and a cohort name (every form shares the one base Form), and
    in a query; nothing is saved."""
    w, _session_id = world
    registration = {"email": "bidi@example.org", "full_name": "Ada Lovelace", "password": "a long passphrase 42",
                    "confirm": "a long passphrase 42", "timezone": "Europe/Rome", "locale": "en", "country": "IT",
                    "privacy_consent": "y"}
    for field in ("native_name", "organisation"):
        response = client.post("/auth/register", data=dict(registration, **{field: f"Evil{override}gnp.exe"}))
        assert response.status_code == 400 and "characters that are not allowed" in response.get_data(as_text=True)
    login_as(client, w, "participant")
    profile = client.post("/auth/profile", data={"full_name": "Pia Participant", "organisation": f"A{override}B",
                                                 "locale": "en", "timezone": "Europe/Rome"})
    assert profile.status_code == 400
    teacher = app.test_client()
    login_as(teacher, w, "instructor")
    cohort = teacher.post(f"/teach/courses/{w.slug}/cohorts", data={"name": f"Roma{override}"})
    assert cohort.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "bidi@example.org")) == 0
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.organisation.contains(override)))
    assert client.get(f"/courses?q=a{override}b").status_code == 400
    assert "characters that are not allowed" not in client.get("/auth/profile").get_data(as_text=True)


def test_direction_marks_stay_allowed(app, client):
    response = client.post("/auth/register", data={
        "email": "marks@example.org", "full_name": "Ada Lovelace", "native_name": "\u200fأدا\u200f",
        "password": "a long passphrase 42", "confirm": "a long passphrase 42", "timezone": "Europe/Rome",
        "locale": "en", "country": "IT", "privacy_consent": "y"})
    assert response.status_code == 302


def test_a_nul_byte_in_a_login_email_is_refused_without_a_500(client):
    response = client.post("/auth/login", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code in (400, 401, 422)


def test_a_control_character_in_an_attendance_note_saves_nothing(app, client, world):
    w, session_id = world
    login_as(client, w, "instructor")
    response = client.post(f"/teach/courses/{w.slug}/sessions/{session_id}/attendance", data={
        f"status-{w.enrolment_id}": "present", f"note-{w.enrolment_id}": "late\x00",
    })
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
        assert db.session.get(CourseSession, session_id) is not None


def test_a_control_character_in_a_completion_note_saves_nothing(app, client, world):
    w, _session_id = world
    login_as(client, w, "instructor")
    response = client.post(f"/teach/courses/{w.slug}/completion", data={
        "ids": str(w.enrolment_id), "outcome": "passed", f"note-{w.enrolment_id}": "ok\x07",
    })
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Enrolment, w.enrolment_id).completion_recorded_at is None


# -- generated values at every parameter --------------------------------------------------

_NASTY = st.sampled_from([
    "", "0", "-1", "1e9", "99999999999999999999", "922337203685477580", "0000-01", "9999-12", "0001-W01",
    "9999-W52", "2026-W53", "2026-02-30", "\x00", "a\x00b", "\u202e", "<script>", "' OR 1=1 --", "上海", "🎓",
    "NaN", "true", "online", "summer_school", " ", "%", "_", "\\", "x" * 5000,
    "²", "١٢", "٣", "2026-٠١-01",  # digits to str.isdigit that int() or dates may refuse
])
_VALUE = st.one_of(_NASTY, st.text(max_size=40), st.integers(min_value=-10**20, max_value=10**20).map(str))

_LISTS = {
    "anonymous": [
        ("/courses", ("q", "kind", "programme", "place", "language", "month", "open", "past", "page", "per_page")),
        ("/api/v1/courses", ("q", "kind", "programme", "place", "language", "month", "open", "past", "page", "per_page")),
    ],
    "participant": [("/me/timetable", ("week",)), ("/me", ("page",))],
    "instructor": [
        ("/teach/timetable", ("week",)),
        ("/teach/courses/{slug}/enrolments", ("status", "q", "page")),
        ("/teach/courses/{slug}/roster", ("cohort", "page")),
        ("/teach/courses/{slug}/sessions", ("week", "page")),
    ],
    "admin": [("/admin/courses", ("status", "page", "q")), ("/admin/jobs", ("job", "page")), ("/admin/", ("page",)),
              ("/admin/impact", ("from", "to", "programme", "kind", "city")),
              ("/admin/audit", ("actor", "action", "type", "object", "user", "from", "to", "page")),
              ("/admin/people", ("q", "country", "role", "state", "page"))],
}


@pytest.mark.parametrize("role", list(_LISTS))
def test_generated_values_at_every_list_parameter_never_answer_5xx(app, world, role):
    w, _session_id = world
    client = app.test_client()
    login_as(client, w, role)

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        for template, names in _LISTS[role]:
            chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
            query = {name: data.draw(_VALUE) for name in chosen}
            path = template.format(slug=w.slug)
            response = client.get(path, query_string=query)
            assert response.status_code < 500, (path, query, response.status_code)
            assert response.status_code in (200, 302, 400, 404), (path, query, response.status_code)

    check()


def test_an_overlong_attendance_note_is_refused_not_cut(app, client, world):
    w, session_id = world
    login_as(client, w, "instructor")
    response = client.post(f"/teach/courses/{w.slug}/sessions/{session_id}/attendance", data={
        f"status-{w.enrolment_id}": "present", f"note-{w.enrolment_id}": "x" * 501,
    })
    assert response.status_code == 400 and "longer than 500 characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
