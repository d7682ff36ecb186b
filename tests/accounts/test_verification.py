"""A confirmed address before anything that takes a place: registration emails a link
(48 hours, once); until it is opened the account may browse and edit its profile but
not enrol, apply, check in or join a staff; unconfirmed accounts go after a week.
Registration does not tell anyone whether an address has an account, and is limited
per address and per client."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import Role, User
from app.catalogue.models import EnrolmentMode
from app.enrolment.models import Enrolment
from app.extensions import db
from app.jobs import services as jobs
from app.teaching.models import CourseStaff
from tests.accounts.test_registration import GOOD
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _link(mail) -> str:  # noqa: ANN001
    body = mail[-1].get_body(("plain",)).get_content()
    return re.search(r"https?://\S+(/auth/verify/\S+)", body).group(1)


def _unconfirmed(app, email: str = "new@example.org") -> int:
    with app.app_context():
        user = UserFactory(email=email, email_verified_at=None)
        db.session.commit()
        return user.id


def test_an_expired_tampered_or_outdated_link_is_refused_with_a_message(client, app, mail):
    with time_machine.travel(NOW, tick=False):
        assert client.post("/auth/register", data=GOOD).status_code == 302
        link = _link(mail)
    for bad in (link[:-3] + "xyz", "/auth/verify/" + "a" * 600, "/auth/verify/not-a-token"):
        response = client.get(bad)
        assert response.status_code == 400 and "invalid or has expired" in response.get_data(as_text=True)
    # signed in (unconfirmed), the page does not ask them to log in: the banner resends
    assert client.post("/auth/login", data={"email": GOOD["email"], "password": GOOD["password"]}).status_code == 302
    signed_in = client.get("/auth/verify/not-a-token").get_data(as_text=True)
    assert "Log in to have a new one sent" not in signed_in and 'action="/auth/verify/resend' in signed_in
    client.post("/auth/logout")
    with time_machine.travel(NOW + dt.timedelta(hours=49), tick=False):
        assert client.get(link).status_code == 400
    with app.app_context():  # the address changed since the link was sent: it confirms nothing
        db.session.scalar(sa.select(User)).email = "other@example.org"
        db.session.commit()
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        assert client.get(link).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at)) is None


def test_an_unconfirmed_account_browses_and_edits_its_profile_but_cannot_enrol(client, auth, app, mail):
    _unconfirmed(app)
    with app.app_context():
        course = CourseFactory(title="Green Finance", capacity=5)
        school = CourseFactory(title="Summer School", enrolment_mode=EnrolmentMode.APPROVAL)
        db.session.commit()
        slug, school_slug = course.slug, school.slug
    assert auth.login("new@example.org").status_code == 302
    page = client.get(f"/courses/{slug}").get_data(as_text=True)
    assert 'id="verify-banner"' in page and "new@example.org" in page
    assert client.get("/auth/profile").status_code == 200
    refused = client.post(f"/courses/{slug}/enrol")
    assert refused.status_code == 403 and "confirm your email address first" in refused.get_data(as_text=True)
    applied = client.post(f"/courses/{school_slug}/apply",
                          data={"motivation": "I work on green finance in a public bank."})
    assert applied.status_code == 403
    checkin = client.post("/checkin", data={"code": "123456"})
    assert checkin.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0
    # the banner's button sends a new link; the link confirms; then enrolling works
    assert client.post("/auth/verify/resend", data={"next": f"/courses/{slug}"}).status_code == 302
    assert client.get(_link(mail)).status_code == 302
    assert 'id="verify-banner"' not in client.get("/me").get_data(as_text=True)
    assert client.post(f"/courses/{slug}/enrol").status_code == 302


def test_staff_cannot_add_an_unconfirmed_person_to_a_course_or_its_staff(client, auth, app):
    _unconfirmed(app, "pending.teacher@example.org")
    with app.app_context():
        course = CourseFactory()
        admin = UserFactory(role=Role.ADMIN)
        db.session.commit()
        slug, admin_email, course_id = course.slug, admin.email, course.id
    auth.login(admin_email)
    staff = client.post(f"/admin/courses/{course_id}/staff",
                        data={"email": "pending.teacher@example.org", "role": "instructor", "cohort_id": "0"})
    assert staff.status_code in (400, 403) and "has not confirmed their email address" in staff.get_data(as_text=True)
    added = client.post(f"/teach/courses/{slug}/enrolments/add", data={"email": "pending.teacher@example.org"})
    assert added.status_code in (302, 400, 403)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CourseStaff.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_sending_the_link_again_is_rate_limited(client, auth, app, mail):
    _unconfirmed(app)
    auth.login("new@example.org")
    codes = [client.post("/auth/verify/resend").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert len(mail) == 3


def test_unconfirmed_accounts_are_deleted_after_a_week_and_nothing_else(app):
    with time_machine.travel(NOW - dt.timedelta(days=8), tick=False), app.app_context():
        UserFactory(email="old@example.org", email_verified_at=None)
        kept = UserFactory(email="kept@example.org")  # confirmed
        EnrolmentFactory(user=kept)
        db.session.commit()
    with time_machine.travel(NOW - dt.timedelta(days=6), tick=False), app.app_context():
        UserFactory(email="young@example.org", email_verified_at=None)
        db.session.commit()
    with time_machine.travel(NOW, tick=False), app.app_context():
        assert jobs.purge_unverified_accounts() == {"deleted": 1}
        left = set(db.session.scalars(sa.select(User.email)))
        assert left == {"kept@example.org", "young@example.org"}
    with app.app_context():
        assert "purge_unverified_accounts" in __import__("app.jobs.table", fromlist=["job_table"]).job_table()


def test_registration_answers_new_and_taken_addresses_alike_twenty_times(app, mail):
    with app.app_context():
        for i in range(10):
            UserFactory(email=f"taken{i}@example.org")
        db.session.commit()
    answers = set()
    for i in range(10):
        for email in (f"taken{i}@example.org", f"fresh{i}@example.org"):
            client = app.test_client()
            response = client.post("/auth/register", data=dict(GOOD, email=email),
                                   environ_base={"REMOTE_ADDR": f"10.0.{i}.{len(answers)}"})
            page = client.get("/auth/register/sent").get_data(as_text=True).replace(email, "EMAIL")
            answers.add((response.status_code, response.headers.get("Location"), page))
    assert len(answers) == 1 and next(iter(answers))[0] == 302


def test_registration_is_limited_per_address_and_per_client(app, mail):
    statuses = [app.test_client().post("/auth/register", data=GOOD,
                                       environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code for i in range(4)]
    assert statuses == [302, 302, 302, 429]  # one address, from four clients
    client = app.test_client()
    statuses = [client.post("/auth/register", data=dict(GOOD, email=f"p{i}@example.org")).status_code
                for i in range(11)]
    assert statuses == [302] * 10 + [429]  # one client, eleven addresses
    form_errors = [client.post("/auth/register", data=dict(GOOD, email="x")).status_code for _ in range(2)]
    assert form_errors == [429, 429]


@pytest.mark.parametrize("who", ["participant", "instructor", "admin"])
def test_confirmed_accounts_of_every_role_are_not_bothered(client, auth, app, who):
    with app.app_context():
        UserFactory(email="someone@example.org", role=Role(who))
        db.session.commit()
    auth.login("someone@example.org")
    assert 'id="verify-banner"' not in client.get("/courses").get_data(as_text=True)
    assert client.post("/auth/verify/resend").status_code == 302


def test_a_confirmation_link_opened_while_someone_else_is_signed_in_does_not_switch_accounts(client, auth, app, mail):
    _unconfirmed(app, "li@example.cn")
    with app.app_context():
        UserFactory(email="other@example.org")
        db.session.commit()
    other = app.test_client()
    assert other.post("/auth/login", data={"email": "li@example.cn", "password": "correct-horse-battery"}).status_code == 302
    assert other.post("/auth/verify/resend").status_code == 302
    link = _link(mail)
    auth.login("other@example.org")
    response = client.get(link)
    assert response.status_code == 302
    page = client.get("/me").get_data(as_text=True)
    assert "You are still signed in as" in page
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at).where(User.email == "li@example.cn")) is not None


@pytest.mark.parametrize("email", ["用户@例子.中国", "ü@example.org", "user@例子.中国"])
def test_addresses_ponte_cannot_send_to_are_refused_at_registration(client, app, email):
    response = client.post("/auth/register", data=dict(GOOD, email=email))
    assert response.status_code == 400 and "Latin letters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_too_many_attempts_says_how_long_to_wait(client, auth, app):
    _unconfirmed(app)
    auth.login("new@example.org")
    for _ in range(3):
        client.post("/auth/verify/resend")
    page = client.post("/auth/verify/resend").get_data(as_text=True)
    assert "Please try again in 1 hour" in page
