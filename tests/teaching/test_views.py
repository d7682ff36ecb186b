import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import Role, User
from app.catalogue.models import Course
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.teaching import services
from app.teaching.models import Attendance, Cohort, CourseStaff, StaffRole
from app.teaching.models import AttendanceStatus as A
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.helpers import LOGIN, ROLES, build_world, check_access, login_as

UTC = dt.UTC


def _running_world():
    """A course running now, a session started 5 minutes ago, a lead, an assistant, a participant."""
    now = utcnow()
    course = CourseFactory(starts_on=now.date() - dt.timedelta(days=1), ends_on=now.date() + dt.timedelta(days=2))
    session = SessionFactory(course=course, starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=2))
    lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
    assistant = UserFactory(email="assistant@example.org", role=Role.INSTRUCTOR)
    db.session.add_all([CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD),
                        CourseStaff(course_id=course.id, user_id=assistant.id, role=StaffRole.ASSISTANT)])
    e = EnrolmentFactory(course=course, user=UserFactory(email="p@example.org", full_name="Wang Wei", native_name="王伟"))
    db.session.commit()
    return course, session, e


def test_the_checkin_screen_counts_only_places_held_and_names_people_as_pages_do(client, auth, app_ctx):
    """Found by a tester: after an erasure the screen listed "Erased person" in English and
    counted them among "2 of 18" while the 18 no longer did."""
    from app.teaching.models import AttendanceMethod

    course, session, e = _running_world()
    gone = EnrolmentFactory(course=course, user=UserFactory(full_name="Sun Li"))
    for enrolment in (e, gone):
        services.mark(session, enrolment.id, A.PRESENT, enrolment.user, method=AttendanceMethod.SELF_CHECKIN)
    gone.status = S.CANCELLED  # erasure cancels the places of a course not yet ended
    db.session.execute(sa.update(User).where(User.id == e.user_id).values(locale="it"))
    db.session.commit()
    db.session.execute(sa.update(User).where(User.email == "assistant@example.org").values(locale="it"))
    db.session.commit()
    auth.login("assistant@example.org")
    html = client.get(f"/teach/courses/{course.slug}/sessions/{session.id}/checkin").get_data(as_text=True)
    assert "Sun Li" not in html and "Wang Wei" in html
    assert "Presenti: 1 su 1" in html


def test_participant_checks_in_over_http_and_guessing_is_rate_limited(app, client, auth, app_ctx):
    course, session, e = _running_world()
    auth.login("p@example.org")
    page = client.get("/checkin?code=123")
    assert page.status_code == 200 and 'value="123"' in page.get_data(as_text=True)
    codes = [f"{i:06d}" for i in range(20)]
    right = services.code_at(session, utcnow())
    wrong = [c for c in codes if c != right][:10]
    statuses = [client.post("/checkin", data={"code": c}).status_code for c in wrong]
    assert statuses == [400] * 10
    assert client.post("/checkin", data={"code": right}).status_code == 429  # even the right one, for a minute


def test_participant_checkin_success_and_already(client, auth, app_ctx):
    course, session, e = _running_world()
    auth.login("p@example.org")
    code = services.code_at(session, utcnow())
    response = client.post("/checkin", data={"code": code}, follow_redirects=True)
    assert "You are checked in" in response.get_data(as_text=True)
    again = client.post("/checkin", data={"code": services.code_at(session, utcnow())})
    assert again.status_code == 409 and "already checked in" in again.get_data(as_text=True)
    assert client.post("/checkin", data={"code": "abc"}).status_code == 400


def test_instructor_screen_shows_code_qr_and_who_checked_in(client, auth, app_ctx):
    course, session, e = _running_world()
    services.mark(session, e.id, A.PRESENT, e.user, method=__import__("app.teaching.models", fromlist=["x"]).AttendanceMethod.SELF_CHECKIN)
    db.session.commit()
    auth.login("assistant@example.org")
    with time_machine.travel(utcnow(), tick=False):  # the code must not turn over mid-test
        html = client.get(f"/teach/courses/{course.slug}/sessions/{session.id}/checkin").get_data(as_text=True)
        code = services.code_at(session, utcnow())
        live = client.get(f"/teach/courses/{course.slug}/sessions/{session.id}/checkin/live").json
    assert f"{code[:3]} {code[3:]}" in html and "<svg" in html and "Wang Wei 王伟" in html
    assert "Wang Wei" in live["html"] and 0 < live["seconds_left"] <= 60
    assert "/static/js/checkin.js" in html


def test_sheet_over_http_and_the_assistant_cannot_record_completion(client, auth, app_ctx):
    course, session, e = _running_world()
    auth.login("assistant@example.org")
    base = f"/teach/courses/{course.slug}/sessions/{session.id}/attendance"
    assert client.post(base, data={f"status-{e.id}": "late", f"note-{e.id}": "bus 🚌"}).status_code == 302
    db.session.rollback()
    row = db.session.scalar(sa.select(Attendance))
    assert row.status is A.LATE and row.note == "bus 🚌"
    assert client.post(base, data={f"status-{e.id}": "sleeping"}).status_code == 400
    assert client.post(base, data={"status-999999": "present"}).status_code == 404
    assert "bus 🚌" in client.get(base).get_data(as_text=True)
    assert client.get(f"/teach/courses/{course.slug}/completion").status_code == 404
    assert client.get(f"/teach/courses/{course.slug}/cohorts").status_code == 404


def test_roster_csv_with_chinese_names_and_rates(client, auth, app_ctx):
    course, session, e = _running_world()
    auth.login("lead@example.org")
    response = client.get(f"/teach/courses/{course.slug}/roster.csv")
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1][:3] == ["Wang Wei", "王伟", "p@example.org"]
    assert client.get(f"/teach/courses/{course.slug}/roster?cohort=abc").status_code == 400


def test_email_this_cohort_is_queued_and_audited(client, auth, mail, app_ctx):
    course, session, e = _running_world()
    auth.login("lead@example.org")
    response = client.post(f"/teach/courses/{course.slug}/email", data={"cohort_id": "0", "subject": "Bus at 8",
                                                                        "body": "Meet at <gate> 3"})
    assert response.status_code == 302
    [message] = mail
    assert message["Subject"] == f"Bus at 8 — {course.title}"
    assert "&lt;gate&gt;" in message.get_body(("html",)).get_content()
    assert client.post(f"/teach/courses/{course.slug}/email", data={"subject": ""}).status_code == 400


def test_completion_in_bulk_after_the_end(client, auth, app_ctx):
    course, session, e = _running_world()
    auth.login("lead@example.org")
    for data in ({"ids": [e.id], "outcome": "passed"}, {"outcome": "passed"}, {"ids": [e.id], "outcome": "passed",
                                                                              f"note-{e.id}": "n" * 3000}):
        early = client.post(f"/teach/courses/{course.slug}/completion", data=data)
        assert early.status_code == 400  # from a page opened earlier: its buttons are disabled now
        page = early.get_data(as_text=True)
        assert page.count("Completion is recorded once the course has ended") == 1, data  # the one reason
        assert "Choose at least one" not in page and "longer than" not in page, data
    with time_machine.travel(utcnow() + dt.timedelta(days=5)):
        ok = client.post(f"/teach/courses/{course.slug}/completion", data={"ids": [e.id], "outcome": "passed",
                                                                          f"note-{e.id}": "Well done"})
        assert ok.status_code == 302
    db.session.rollback()
    assert db.session.get(Enrolment, e.id).status is S.COMPLETED


def test_completion_for_several_names_a_refusal_and_says_when_nothing_changed(client, auth, app_ctx):
    course, session, e = _running_world()
    gone = EnrolmentFactory(course=course, status=S.WITHDRAWN, user=UserFactory(full_name="Giulia Rossi"))
    db.session.commit()
    auth.login("lead@example.org")
    url = f"/teach/courses/{course.slug}/completion"
    with time_machine.travel(utcnow() + dt.timedelta(days=5)):
        refused = client.post(url, data={"ids": [e.id, gone.id], "outcome": "passed"})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "Nothing was changed: Giulia Rossi" in page
        db.session.rollback()
        assert db.session.get(Enrolment, e.id).status is S.ACCEPTED  # all or nothing
        assert client.post(url, data={"ids": [e.id], "outcome": "passed"}).status_code == 302
        again = client.post(url, data={"ids": [e.id], "outcome": "passed"}, follow_redirects=True)
        assert "Nothing changed: that outcome was already recorded." in again.get_data(as_text=True)


def test_cohort_screens(client, auth, app_ctx):
    course, session, e = _running_world()
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/cohorts"
    assert client.post(base, data={"name": "Rome cohort"}).status_code == 302
    assert client.post(base, data={"name": ""}).status_code == 400
    assert client.post(base, data={"name": "ROME cohort"}).status_code == 409
    db.session.rollback()
    cohort = db.session.scalar(sa.select(Cohort))
    assert client.post(f"{base}/assign", data={"ids": [e.id], "cohort_id": cohort.id}).status_code == 302
    assert client.post(f"{base}/{cohort.id}/delete").status_code == 400
    assert client.post(f"{base}/balance", data={"by_country": "y"}).status_code == 302
    assert client.post(f"{base}/999999/delete").status_code == 404


def test_a_refused_cohort_change_says_why_once_and_creates_nothing(client, auth, app_ctx):
    """Refusals redraw the cohorts page with a blank "new cohort" form: the posted rename
    or move is not taken for a new cohort (no "Name is required", no second message)."""
    course, session, e = _running_world()
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/cohorts"
    assert client.post(base, data={"name": "Rome"}).status_code == 302
    assert client.post(base, data={"name": "Shanghai"}).status_code == 302
    db.session.rollback()
    rome, shanghai = db.session.scalars(sa.select(Cohort).order_by(Cohort.id)).all()
    assert client.post(f"{base}/assign", data={"ids": [e.id], "cohort_id": rome.id}).status_code == 302

    clash = client.post(f"{base}/{shanghai.id}/rename", data={"name": "ROME"})
    busy = client.post(f"{base}/{rome.id}/delete")
    nobody = client.post(f"{base}/assign", data={"cohort_id": rome.id})
    blank = client.post(f"{base}/{shanghai.id}/rename", data={"name": ""})
    for response, status, message in ((clash, 409, "already has a cohort with that name"),
                                      (busy, 400, "Only an empty cohort can be deleted"),
                                      (nobody, 400, "Choose at least one participant"),
                                      (blank, 400, "This field is required")):
        page = response.get_data(as_text=True)
        assert response.status_code == status and page.count(message) == 1, (status, message, page.count(message))
        assert message == "This field is required" or "This field is required" not in page
    db.session.rollback()
    assert [c.name for c in db.session.scalars(sa.select(Cohort).order_by(Cohort.id))] == ["Rome", "Shanghai"]


def test_my_progress_on_me(client, auth, app_ctx):
    course, session, e = _running_world()
    past = SessionFactory(course=course, starts_at=utcnow() - dt.timedelta(days=1), ends_at=utcnow() - dt.timedelta(days=1) + dt.timedelta(hours=2))
    db.session.add(Attendance(session_id=past.id, enrolment_id=e.id, status=A.PRESENT, method="sheet"))
    db.session.commit()
    auth.login("p@example.org")
    html = client.get("/me").get_data(as_text=True)
    assert "Attendance: 100% (2 of 2 hours held)" in html and "Needed for a certificate of completion: 75%" in html


def test_roster_and_sheet_query_counts_are_constant(client, auth, app_ctx, query_counter):
    course, session, e = _running_world()
    auth.login("lead@example.org")

    def count(path):
        with query_counter() as n:
            assert client.get(path).status_code == 200
        return n["n"]

    paths = [f"/teach/courses/{course.slug}/roster", f"/teach/courses/{course.slug}/sessions/{session.id}/attendance",
             f"/teach/courses/{course.slug}/completion", f"/teach/courses/{course.slug}/sessions/{session.id}/checkin"]
    small = [count(p) for p in paths]
    for _ in range(25):
        extra = EnrolmentFactory(course=course)
        db.session.add(Attendance(session_id=session.id, enrolment_id=extra.id, status=A.PRESENT, method="sheet",
                                  recorded_by_id=extra.user_id))
    db.session.commit()
    assert [count(p) for p in paths] == small


MATRIX = [
    ("GET", "/teach/courses/{slug}/roster", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/teach/courses/{slug}/roster.csv", [LOGIN, 404, 404, 404, 200, 200]),
    ("POST", "/teach/courses/{slug}/email", [LOGIN, 404, 404, 404, 400, 400]),
    ("GET", "/teach/courses/{slug}/cohorts", [LOGIN, 404, 404, 404, 200, 200]),
    ("POST", "/teach/courses/{slug}/cohorts/balance", [LOGIN, 404, 404, 404, 302, 302]),
    ("POST", "/teach/courses/{slug}/cohorts/assign", [LOGIN, 404, 404, 404, 400, 400]),
    ("GET", "/teach/courses/{slug}/sessions/{sid}/attendance", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/teach/courses/{slug}/sessions/{sid}/checkin", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/teach/courses/{slug}/sessions/{sid}/checkin/live", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/teach/courses/{other}/sessions/{sid}/attendance", [LOGIN, 404, 404, 404, 404, 404]),
    ("GET", "/teach/courses/{slug}/completion", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/checkin", [LOGIN, 200, 200, 200, 200, 200]),
    ("GET", "/admin/courses/{cid}/staff", [LOGIN, 404, 404, 404, 404, 200]),
    ("POST", "/teach/courses/{slug}/cohorts", [LOGIN, 404, 404, 404, 400, 400]),
    ("POST", "/teach/courses/{slug}/cohorts/{coh}/rename", [LOGIN, 404, 404, 404, 400, 400]),
    ("POST", "/teach/courses/{slug}/cohorts/{coh}/delete", [LOGIN, 404, 404, 404, 302, 302]),
    ("POST", "/teach/courses/{other}/cohorts/{coh}/delete", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/teach/courses/{slug}/sessions/{sid}/attendance", [LOGIN, 404, 404, 404, 400, 400]),  # not open yet
    ("POST", "/teach/courses/{slug}/sessions/{sid}/edit", [LOGIN, 404, 404, 404, 400, 400]),
    ("POST", "/teach/courses/{slug}/completion", [LOGIN, 404, 404, 404, 400, 400]),
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,template,expected", MATRIX, ids=[f"{m} {t}" for m, t, _ in MATRIX])
def test_access_matrix(app, role_index, role, method, template, expected):
    with app.app_context():
        world = build_world()
        course = db.session.get(Course, world.course_id)
        sid = SessionFactory(course=course).id
        cohort = Cohort(course_id=course.id, name="Rome")
        db.session.add(cohort)
        db.session.commit()
        coh = cohort.id
    client = app.test_client()
    login_as(client, world, role)
    path = template.format(slug=world.slug, other=world.other_slug, sid=sid, cid=world.course_id, coh=coh)
    check_access(client, method, path, expected[role_index])


def test_cohort_bound_staff_see_only_their_cohort(client, auth, app_ctx):
    course, session, e = _running_world()
    rome, shanghai = Cohort(course_id=course.id, name="Rome"), Cohort(course_id=course.id, name="Shanghai")
    db.session.add_all([rome, shanghai])
    db.session.flush()
    e.cohort_id = rome.id
    EnrolmentFactory(course=course, cohort_id=shanghai.id, user=UserFactory(full_name="Luca Colombo"))
    helper = UserFactory(email="helper@example.org", role=Role.INSTRUCTOR)
    db.session.add(CourseStaff(course_id=course.id, user_id=helper.id, role=StaffRole.ASSISTANT, cohort_id=shanghai.id))
    shanghai_session = SessionFactory(course=course, cohort_id=shanghai.id)
    rome_session = SessionFactory(course=course, cohort_id=rome.id)
    db.session.commit()
    auth.login("helper@example.org")
    roster = client.get(f"/teach/courses/{course.slug}/roster").get_data(as_text=True)
    assert "Luca Colombo" in roster and "Wang Wei" not in roster
    assert client.get(f"/teach/courses/{course.slug}/roster?cohort={rome.id}").status_code == 404
    listing = client.get(f"/teach/courses/{course.slug}/enrolments").get_data(as_text=True)
    assert "Luca Colombo" in listing and "Wang Wei" not in listing
    assert client.get(f"/teach/courses/{course.slug}/sessions/{shanghai_session.id}/attendance").status_code == 200
    assert client.get(f"/teach/courses/{course.slug}/sessions/{rome_session.id}/attendance").status_code == 404


def test_the_teaching_home_pages_through_a_decade_of_courses(client, auth, app_ctx, query_counter):
    teacher = UserFactory(email="t@example.org", role=Role.INSTRUCTOR)
    today = utcnow().date()
    for i in range(45):
        course = CourseFactory(title=f"Edition {i:02d}", starts_on=today - dt.timedelta(days=80 * i),
                               ends_on=today - dt.timedelta(days=80 * i))
        db.session.add(CourseStaff(course_id=course.id, user_id=teacher.id, role=StaffRole.LEAD))
    CourseFactory(title="Someone else's")
    db.session.commit()
    auth.login("t@example.org")
    with query_counter() as first:
        page = client.get("/teach/").get_data(as_text=True)
    assert "Edition 00" in page and "Edition 19" in page and "Edition 20" not in page  # newest first, 20 a page
    third = client.get("/teach/?page=3").get_data(as_text=True)
    assert "Edition 40" in third and "Edition 44" in third and "Someone else" not in third
    with query_counter() as again:
        client.get("/teach/?page=2")
    assert again["n"] == first["n"]


def test_the_enrolment_search_finds_names_in_either_script_and_takes_wildcards_literally(app):
    from tests.factories import EnrolmentFactory, UserFactory
    from tests.helpers import build_world, login_as

    with app.app_context():
        world = build_world()
        course = db.session.get(Course, world.course_id)
        course.capacity = 10
        EnrolmentFactory(course=course, user=UserFactory(full_name="Wang Xiaoming", native_name="王小明",
                                                         organisation="Tongji 100% Green"))
        EnrolmentFactory(course=course, user=UserFactory(full_name="Giulia Rossi", organisation="Comune_di_Roma"))
        db.session.commit()
    client = app.test_client()
    login_as(client, world, "instructor")

    def found(q: str) -> set[str]:
        html = client.get(f"/teach/courses/{world.slug}/enrolments", query_string={"q": q}).get_data(as_text=True)
        return {name for name in ("Wang Xiaoming", "Giulia Rossi") if name in html}

    assert found("xiaoming") == {"Wang Xiaoming"} and found("王小") == {"Wang Xiaoming"}
    assert found("100%") == {"Wang Xiaoming"} and found("%") == {"Wang Xiaoming"}  # the one with a literal %
    assert found("comune_di") == {"Giulia Rossi"} and found("comune di") == set()  # _ is a character, not "any"
