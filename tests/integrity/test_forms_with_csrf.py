"""The forms this work touched, submitted as a browser submits them: CSRF on, every
field the page renders (the token, the hidden "seen" states, the checked radios), and
only what a person types added on top."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.catalogue.models import EnrolmentMode
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching.models import Attendance, Cohort, CourseStaff, StaffRole
from app.teaching.models import AttendanceStatus as A
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.csrf


class _Forms(HTMLParser):
    """Each <form method=post>: its action and the fields a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict]] = []
        self._current: dict | None = None
        self._select: tuple[str, bool] | None = None

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._current = {}
            self.forms.append((a.get("action") or "", self._current))
        elif tag == "input" and self._current is not None and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self._current.setdefault(a["name"], a.get("value", ""))

        elif tag == "select" and self._current is not None and a.get("name"):
            self._select = (a["name"], "multiple" in a)
        elif tag == "option" and self._current is not None and self._select:
            name, multiple = self._select
            value = a.get("value", "")
            if "selected" in a:
                if multiple:
                    self._current.setdefault(name, []).append(value)
                else:
                    self._current[name] = value
            elif not multiple:
                self._current.setdefault(name, value)  # a single select sends its first option
        elif tag == "textarea" and self._current is not None and a.get("name"):
            self._current.setdefault(a["name"], "")

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def form(html: str, action_part: str, having: str | None = None) -> tuple[str, dict]:
    """The first POST form whose action contains `action_part` (and which renders a
    field named `having`, when given)."""
    parser = _Forms()
    parser.feed(html)
    for action, fields in parser.forms:
        if action_part in action and (having is None or any(name.startswith(having) for name in fields)):
            return action, dict(fields)
    raise AssertionError(f"no form posting to …{action_part} with {having}")


def login(client, email: str) -> None:  # noqa: ANN001
    _action, fields = form(client.get("/auth/login").get_data(as_text=True), "", having="email")
    fields.update(email=email, password=PASSWORD)
    assert client.post("/auth/login", data=fields).status_code == 302


def test_staff_decide_applications_through_the_page_forms(app, client):
    with app.app_context():
        course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, capacity=5)
        lead = UserFactory(role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        a, b = (EnrolmentFactory(course=course, status=S.PENDING) for _ in range(2))
        db.session.commit()
        slug, email, a_id, b_id = course.slug, lead.email, a.id, b.id
    login(client, email)
    page = client.get(f"/teach/courses/{slug}/enrolments").get_data(as_text=True)
    action, fields = form(page, f"/enrolments/{a_id}/approve")
    assert fields["seen"] == "pending" and fields["csrf_token"]
    assert client.post(action, data=fields).status_code == 302
    action, fields = form(page, f"/enrolments/{b_id}/reject")
    fields["reason"] = "Places are for public administrations this year"
    assert client.post(action, data=fields).status_code == 302
    # The same, stale page once more: nothing changes, and the staff member is told so.
    action, fields = form(page, f"/enrolments/{b_id}/reject")
    fields["reason"] = "Again"
    again = client.post(action, data=fields)
    assert again.status_code == 409 and "Nothing was changed" in again.get_data(as_text=True)
    with app.app_context():
        assert [db.session.get(Enrolment, i).status for i in (a_id, b_id)] == [S.ACCEPTED, S.REJECTED]


def test_attendance_completion_and_cohort_forms(app, client):
    now = utcnow()
    with app.app_context():
        running = CourseFactory(starts_on=now.date() - dt.timedelta(days=1), ends_on=now.date())
        session = SessionFactory(course=running, starts_at=now - dt.timedelta(minutes=10),
                                 ends_at=now + dt.timedelta(hours=1))
        e = EnrolmentFactory(course=running)
        lead = UserFactory(role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=running.id, user_id=lead.id, role=StaffRole.LEAD))
        rome = Cohort(course=running, name="Rome")
        db.session.add(rome)
        db.session.commit()
        slug, sid, eid, cid, email = running.slug, session.id, e.id, rome.id, lead.email
    login(client, email)
    page = client.get(f"/teach/courses/{slug}/sessions/{sid}/attendance").get_data(as_text=True)
    _action, fields = form(page, "", having="seen-")
    assert fields[f"seen-{eid}"] == "" and "csrf_token" in fields
    fields[f"status-{eid}"] = "late"
    assert client.post(f"/teach/courses/{slug}/sessions/{sid}/attendance", data=fields).status_code == 302
    page = client.get(f"/teach/courses/{slug}/completion").get_data(as_text=True)
    _action, fields = form(page, "", having="seen-")
    fields.update(ids=str(eid), outcome="passed")
    assert client.post(f"/teach/courses/{slug}/completion", data=fields).status_code == 302
    page = client.get(f"/teach/courses/{slug}/cohorts").get_data(as_text=True)
    action, fields = form(page, f"/cohorts/{cid}/rename")
    fields["name"] = "Roma 罗马"
    assert client.post(action, data=fields).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Attendance.status)) is A.LATE
        assert db.session.get(Enrolment, eid).status is S.COMPLETED
        assert db.session.get(Cohort, cid).name == "Roma 罗马"


def test_verify_by_serial_and_code_works_with_csrf_on(app, client):
    page = client.get("/verify").get_data(as_text=True)
    assert not re.search(r'name="csrf_token"', page)  # a public look-up: no token, on purpose
    response = client.post("/verify", data={"serial": "PONTE-2026-000001", "code": "K1-AAAA-BBBB-CCCC-DDDD"})
    assert response.status_code == 404 and "No certificate matches" in response.get_data(as_text=True)


def test_an_admin_puts_an_instructor_from_outside_the_staff_on_a_session(app, client):
    """The admin's session form, as rendered and submitted with its token: the chosen
    instructor joins the course's staff and teaches the session."""
    with app.app_context():
        course = CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))
        admin = UserFactory(role=Role.ADMIN)
        teacher = UserFactory(full_name="Li Na", role=Role.INSTRUCTOR)
        db.session.commit()
        slug, email, teacher_id, course_id = course.slug, admin.email, teacher.id, course.id
    login(client, email)
    page = client.get(f"/teach/courses/{slug}/sessions/new").get_data(as_text=True)
    assert "Li Na (joins the staff)" in page
    action, fields = form(page, "", having="title")
    assert fields["csrf_token"] and fields["kind"] and fields["repeat"] == "none"
    fields.update(title="Circular design", day="2027-01-19", start="09:30", end="11:00",
                  instructor_ids=[str(teacher_id)])
    assert client.post(action or f"/teach/courses/{slug}/sessions/new", data=fields).status_code == 302
    with app.app_context():
        staff = db.session.scalars(sa.select(CourseStaff).where(CourseStaff.course_id == course_id)).all()
        assert [(s.user_id, s.role) for s in staff] == [(teacher_id, StaffRole.INSTRUCTOR)]
        session = db.session.scalar(sa.select(CourseSession).where(CourseSession.course_id == course_id))
        assert session.title == "Circular design" and [i.id for i in session.instructors] == [teacher_id]
        edit = f"/teach/courses/{slug}/sessions/{session.id}/edit"
    # two tabs open the edit form (each with its token and the version it shows)
    tab_a = form(client.get(edit).get_data(as_text=True), "", having="title")[1]
    tab_b = form(client.get(edit).get_data(as_text=True), "", having="title")[1]
    assert tab_a["version"] == tab_b["version"] == "0"
    assert client.post(edit, data=dict(tab_a, start="10:00", end="11:30")).status_code == 302
    stale = client.post(edit, data=dict(tab_b, title="Renamed"))
    assert stale.status_code == 409  # the older tab does not undo the move
    with app.app_context():
        moved = db.session.get(CourseSession, session.id)
        assert moved.title == "Circular design" and moved.sequence == 1
    # the refusal shows the session as it is now, with its new version: changing it again works
    again = form(stale.get_data(as_text=True), "", having="title")[1]
    assert again["version"] == "1" and again["start"] == "10:00" and again["title"] == "Circular design"
    assert client.post(edit, data=dict(again, title="Renamed")).status_code == 302


def test_the_people_and_privacy_forms_work_as_a_browser_sends_them(app, client):
    """Two-factor set-up, consent, a role change on a person's page, a copy of one's data
    and erasure: each form as rendered, with its token, CSRF on."""
    import pyotp

    with app.app_context():
        admin = UserFactory(role=Role.ADMIN)
        person = UserFactory(country="CN", transfer_version=None)
        db.session.commit()
        admin_email, person_email, person_id = admin.email, person.email, person.id
    def own_form(page: str) -> dict:  # the page's own form: it posts back to the page (no action)
        parser = _Forms()
        parser.feed(page)
        return next(dict(fields) for action, fields in parser.forms if action == "")

    login(client, person_email)
    fields = own_form(client.get("/auth/consent").get_data(as_text=True))
    fields["transfer"] = "y"
    assert client.post("/auth/consent", data=fields).status_code == 302
    page = client.get("/auth/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="user-select-all">([A-Z2-7]+)</code>', page).group(1)
    fields = own_form(page)
    fields["code"] = pyotp.TOTP(secret).now()
    assert client.post("/auth/two-factor", data=fields).status_code == 200  # the recovery codes
    assert client.post("/auth/export", data=own_form(client.get("/auth/export").get_data(as_text=True))).status_code == 302
    admin_client = app.test_client()
    login(admin_client, admin_email)
    page = admin_client.get(f"/admin/users/{person_id}").get_data(as_text=True)
    action, fields = form(page, "/role", having="role")
    assert fields["seen"] == "participant"
    fields["role"] = "instructor"
    assert admin_client.post(action, data=fields).status_code == 302
    refused = admin_client.post(action, data=dict(fields, role="admin"))  # the same page, later
    assert refused.status_code == 409
    assert form(refused.get_data(as_text=True), "/role", having="role")[1]["seen"] == "instructor"  # as it is now
    fields = own_form(client.get("/auth/erase").get_data(as_text=True))
    fields.update(password=PASSWORD, confirm="ERASE", code=pyotp.TOTP(secret).at(utcnow() + dt.timedelta(seconds=30)))
    assert client.post("/auth/erase", data=fields).status_code == 302
    with app.app_context():
        erased = db.session.get(User, person_id)
        assert erased.is_erased and erased.role is Role.INSTRUCTOR
