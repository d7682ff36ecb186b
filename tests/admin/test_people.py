"""People (/admin/users) and the audit log (/admin/audit): find a person, read what Ponte
holds about them, change a role, deactivate and reactivate, send links; read and filter
every recorded change, for a course or a person, as a page or a CSV."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import LoginSession, Role, User
from app.audit.models import AuditEvent
from app.audit.services import record
from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.services import queue_email
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory
from tests.integrity.harness import Shot, assert_doctor_clean, audits, emails, no_5xx, outcome, race, same, twins


@pytest.fixture
def world(app):
    with app.app_context():
        admin = UserFactory(email="admin@example.org", full_name="Anna Ferraro", role=Role.ADMIN)
        UserFactory(email="wang@example.cn", full_name="Wang Wei", native_name="王伟", organisation="Tongji University",
                    country="CN")
        UserFactory(email="giulia@example.org", full_name="Giulia Rossi", organisation="Comune di Roma", country="IT")
        UserFactory(email="new@example.org", full_name="Nina New", email_verified_at=None)
        UserFactory(email="teacher@example.org", full_name="Paolo Esposito", role=Role.INSTRUCTOR)
        db.session.commit()
        return {u.email: u.id for u in db.session.scalars(sa.select(User))} | {"admin_id": admin.id}


def _names(page: str, *names: str) -> list[str]:
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]  # the list, not the top bar
    return [n for n in names if n in rows]


@pytest.mark.parametrize(("args", "found"), [
    ({}, ["Wang Wei", "Giulia Rossi", "Nina New", "Paolo Esposito", "Anna Ferraro"]),
    ({"q": "王伟"}, ["Wang Wei"]), ({"q": "TONGJI"}, ["Wang Wei"]), ({"q": "giulia@"}, ["Giulia Rossi"]),
    ({"country": "cn"}, ["Wang Wei"]), ({"role": "instructor"}, ["Paolo Esposito"]),
    ({"state": "unconfirmed"}, ["Nina New"]), ({"q": "%"}, []), ({"q": "<script>"}, []),
])
def test_admins_find_people_by_name_in_either_script_email_organisation_country_role_and_state(
        client, auth, world, args, found):
    auth.login("admin@example.org")
    response = client.get("/admin/users", query_string=args)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    names = ["Wang Wei", "Giulia Rossi", "Nina New", "Paolo Esposito", "Anna Ferraro"]
    assert _names(page, *names) == [n for n in names if n in found]
    assert "<script>" not in page


@pytest.mark.parametrize("args", [{"role": "pirate"}, {"state": "asleep"}, {"country": "1"}])
def test_a_bad_people_filter_answers_400(client, auth, world, args):
    auth.login("admin@example.org")
    assert client.get("/admin/users", query_string=args).status_code == 400


def test_the_people_csv_has_what_the_list_shows(client, auth, world):
    auth.login("admin@example.org")
    response = client.get("/admin/users.csv?q=wang")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and text.startswith("\ufeffFull name")
    assert "Wang Wei,王伟,wang@example.cn,Tongji University" in text and "Giulia" not in text


def test_a_persons_page_holds_their_enrolments_logins_and_events(client, auth, app, world):
    with app.app_context():
        wang = db.session.get(User, world["wang@example.cn"])
        EnrolmentFactory(user=wang, course=CourseFactory(title="Winter School"))
        record("user.profile_updated", wang, actor=wang, fields=["organisation"])
        db.session.commit()
    app.test_client().post("/auth/login", data={"email": "wang@example.cn", "password": "correct-horse-battery"})
    auth.login("admin@example.org")
    page = client.get(f"/admin/users/{world['wang@example.cn']}").get_data(as_text=True)
    assert "Wang Wei (王伟)" in page and "Winter School" in page and "Profile updated" in page
    assert "127.0.0.1" in page  # the signed-in device
    assert f"/admin/audit?user={world['wang@example.cn']}" in page
    assert client.get("/admin/users/999999").status_code == 404


def test_changing_a_role_is_audited_emailed_and_refused_for_oneself_and_the_last_admin(client, auth, app, world, mail):
    auth.login("admin@example.org")
    response = client.post(f"/admin/users/{world['giulia@example.org']}/role", data={"role": "instructor"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, world["giulia@example.org"]).role is Role.INSTRUCTOR
        assert audits("user.role_changed") == 1
    assert mail[-1]["To"].endswith("<giulia@example.org>") and "role" in mail[-1]["Subject"]
    assert "Instructor" in mail[-1].get_body(("plain",)).get_content()
    own = client.post(f"/admin/users/{world['admin_id']}/role", data={"role": "participant"})
    assert own.status_code == 400
    with app.app_context():
        assert db.session.get(User, world["admin_id"]).role is Role.ADMIN
    assert client.post(f"/admin/users/{world['giulia@example.org']}/role", data={"role": "king"}).status_code == 400


def test_a_role_change_from_an_older_tab_is_refused(client, auth, app, world):
    """Two tabs show Giulia as a participant; one makes her an instructor, the other
    (still showing "participant") an admin: the second is refused and the first stands."""
    import re

    auth.login("admin@example.org")
    url = f"/admin/users/{world['giulia@example.org']}"
    seen = re.search(r'name="seen"[^>]*value="(\w+)"', client.get(url).get_data(as_text=True)).group(1)
    assert seen == "participant"
    assert client.post(f"{url}/role", data={"role": "instructor", "seen": seen}).status_code == 302
    stale = client.post(f"{url}/role", data={"role": "admin", "seen": seen})
    assert stale.status_code == 409 and "changed this person&#39;s role" in stale.get_data(as_text=True)
    assert client.post(f"{url}/role", data={"role": "admin", "seen": "emperor"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, world["giulia@example.org"]).role is Role.INSTRUCTOR


def test_deactivation_ends_every_session_stops_logins_and_emails_and_reactivation_undoes_it(
        client, auth, app, world, mail):
    wang = app.test_client()
    assert wang.post("/auth/login", data={"email": "wang@example.cn", "password": "correct-horse-battery"}).status_code == 302
    with app.app_context():
        waiting = queue_email(db.session.get(User, world["wang@example.cn"]), "password_reset", token="t", minutes=60)
        db.session.commit()
        waiting_id = waiting.id
    auth.login("admin@example.org")
    assert client.post(f"/admin/users/{world['wang@example.cn']}/deactivate").status_code == 302
    assert wang.get("/me").status_code == 302  # signed out on every device
    refused = app.test_client().post("/auth/login", data={"email": "wang@example.cn", "password": "correct-horse-battery"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(OutboxMessage, waiting_id).status is OutboxStatus.FAILED  # withheld
        assert queue_email(db.session.get(User, world["wang@example.cn"]), "password_reset", token="t", minutes=1) is None
        assert db.session.scalar(sa.select(sa.func.count(LoginSession.id)).where(
            LoginSession.user_id == world["wang@example.cn"], LoginSession.revoked_at.is_(None))) == 0
    assert "deactivated" in mail[-1]["Subject"]  # the one email it still gets: the notice
    again = client.post(f"/admin/users/{world['wang@example.cn']}/deactivate")
    assert again.status_code == 409
    assert client.post(f"/admin/users/{world['wang@example.cn']}/reactivate").status_code == 302
    assert app.test_client().post("/auth/login", data={
        "email": "wang@example.cn", "password": "correct-horse-battery"}).status_code == 302


def test_admins_send_reset_and_confirmation_links(client, auth, world, mail):
    auth.login("admin@example.org")
    assert client.post(f"/admin/users/{world['giulia@example.org']}/reset").status_code == 302
    assert "/auth/reset/" in mail[-1].get_body(("plain",)).get_content()
    assert client.post(f"/admin/users/{world['new@example.org']}/verification").status_code == 302
    assert "/auth/verify/" in mail[-1].get_body(("plain",)).get_content()
    assert client.post(f"/admin/users/{world['giulia@example.org']}/verification").status_code == 400


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users.csv", "/admin/users/{id}", "/admin/audit",
                                  "/admin/audit.csv"])
@pytest.mark.parametrize("who", ["anonymous", "wang@example.cn", "teacher@example.org"])
def test_only_admins_reach_people_and_the_audit_log(client, auth, world, path, who):
    if who != "anonymous":
        auth.login(who)
    response = client.get(path.format(id=world["giulia@example.org"]))
    assert response.status_code == (302 if who == "anonymous" else 404)
    for action in ("role", "deactivate", "reactivate", "reset", "verification"):
        assert client.post(f"/admin/users/{world['giulia@example.org']}/{action}", data={"role": "admin"}).status_code \
            in ((302,) if who == "anonymous" else (404,))


def test_eight_identical_role_changes_and_deactivations_change_once(app, world):
    tabs = twins(app, "admin@example.org")
    target = world["giulia@example.org"]
    codes = race(same(Shot(None, f"/admin/users/{target}/role", {"role": "instructor", "seen": "participant"}), tabs))
    no_5xx(codes)
    codes = race(same(Shot(None, f"/admin/users/{target}/deactivate"), tabs))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert audits("user.role_changed") == 1 and audits("user.deactivated") == 1
        assert emails("account_status", "giulia@example.org") == 2
    assert_doctor_clean(app)


# --- the audit log --------------------------------------------------------------------

def test_the_audit_log_filters_by_actor_action_course_person_and_days(client, auth, app, world):
    with app.app_context():
        admin = db.session.get(User, world["admin_id"])
        giulia = db.session.get(User, world["giulia@example.org"])
        course, other = CourseFactory(title="Green Finance"), CourseFactory(title="Blue Economy")
        enrolment = EnrolmentFactory(course=course, user=giulia)
        with time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)):
            record("course.published", course, actor=admin)
        with time_machine.travel(dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)):
            record("enrolment.accepted", enrolment, actor=admin, course=course.slug)
            record("course.published", other, actor=admin)
            record("user.profile_updated", giulia, actor=giulia, fields=["country"])
        db.session.commit()
        course_id = course.id

    auth.login("admin@example.org")

    def actions(**args) -> list[str]:  # noqa: ANN003
        response = client.get("/admin/audit", query_string=args)
        assert response.status_code == 200
        rows = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        return [a for a in ("Activity published", "Enrolment accepted", "Profile updated") if a in rows]

    assert actions(course=course_id) == ["Activity published", "Enrolment accepted"]
    assert actions(user=world["giulia@example.org"]) == ["Profile updated"]
    assert actions(actor="giulia@example.org") == ["Profile updated"]
    assert actions(actor="nobody@example.org") == []
    assert actions(action="enrolment.accepted") == ["Enrolment accepted"]
    assert actions(since="2026-11-01", until="2026-11-10") == ["Activity published"]
    page = client.get("/admin/audit", query_string={"course": course_id}).get_data(as_text=True)
    assert f"/admin/courses/{course_id}" in page and "Green Finance" in page
    csv = client.get("/admin/audit.csv", query_string={"course": course_id}).get_data(as_text=True)
    assert csv.count("\n") == 3 and "enrolment.accepted" in csv and "course=" in csv


@pytest.mark.parametrize("args", [{"action": "made.up"}, {"since": "yesterday"}, {"until": "0001-01-01"},
                                  {"course": "abc"}, {"user": "-1"}, {"type": "a;b"}, {"user": "²"},
                                  {"course": "³"}, {"object": "1e3"}, {"course": "99999999999999999999"}])
def test_a_bad_audit_filter_answers_400(client, auth, world, args):
    auth.login("admin@example.org")
    assert client.get("/admin/audit", query_string=args).status_code == 400


def test_an_unknown_course_or_person_in_the_audit_filter_is_404(client, auth, world):
    auth.login("admin@example.org")
    assert client.get("/admin/audit?course=999999").status_code == 404
    assert client.get("/admin/audit?user=999999").status_code == 404


def test_the_audit_log_pages_with_a_constant_number_of_queries(client, auth, app, world, query_counter):
    auth.login("admin@example.org")
    with app.app_context():
        admin = db.session.get(User, world["admin_id"])
        for _ in range(3):
            record("course.published", CourseFactory(), actor=admin)
        db.session.commit()
    with query_counter() as few:
        client.get("/admin/audit")
    with app.app_context():
        admin = db.session.get(User, world["admin_id"])
        for i in range(60):
            record("course.published", CourseFactory(), actor=admin if i % 2 else None)
        db.session.commit()
    with query_counter() as many:
        page = client.get("/admin/audit").get_data(as_text=True)
    assert many["n"] == few["n"] and "page=2" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) > 50
