import pytest
import sqlalchemy as sa

from app.accounts.models import LoginSession, Role
from app.extensions import db
from tests.factories import UserFactory


def test_login_and_logout(client, auth, app_ctx):
    UserFactory(email="marco@example.org")
    response = auth.login("marco@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/me").status_code == 302


@pytest.mark.parametrize(("role", "home"), [(Role.PARTICIPANT, "/me"), (Role.INSTRUCTOR, "/teach/"),
                                           (Role.ADMIN, "/admin/")])
def test_each_role_lands_on_its_own_start_page(client, auth, app_ctx, role, home):
    UserFactory(email="someone@example.org", role=role)
    assert auth.login("someone@example.org").headers["Location"] == home
    assert client.get("/auth/login").headers["Location"] == home  # already logged in
    assert client.get(home).status_code == 200


def test_email_is_case_insensitive(client, auth, app_ctx):
    UserFactory(email="marco@example.org")
    assert auth.login("  MARCO@Example.ORG ").status_code == 302


def test_unknown_email_and_wrong_password_get_the_same_answer(client, auth, app_ctx):
    UserFactory(email="marco@example.org")
    unknown = auth.login("nobody@example.org")
    wrong = auth.login("marco@example.org", "wrong-password")
    assert unknown.status_code == wrong.status_code == 400
    assert b"Email or password is not correct." in unknown.data
    assert b"Email or password is not correct." in wrong.data


def test_inactive_account_cannot_log_in(client, auth, app_ctx):
    UserFactory(email="gone@example.org", is_active_account=False)
    assert auth.login("gone@example.org").status_code == 400


def test_next_parameter_only_redirects_inside_the_site(client, app_ctx):
    UserFactory(email="marco@example.org")
    data = {"email": "marco@example.org", "password": "correct-horse-battery"}
    response = client.post("/auth/login?next=//evil.example/steal", data=data)
    assert response.headers["Location"] == "/me"
    client.post("/auth/logout")
    response = client.post("/auth/login?next=/courses", data=data)
    assert response.headers["Location"] == "/courses"


def test_a_cookie_copied_before_logout_no_longer_works(client, auth, app, app_ctx):
    UserFactory(email="marco@example.org")
    auth.login("marco@example.org")
    stolen = client.get_cookie("ponte_session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("ponte_session", stolen)
    response = thief.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).where(LoginSession.revoked_at.is_(None))) == 0


def test_logout_on_one_device_keeps_the_other(app, app_ctx):
    UserFactory(email="marco@example.org")
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        c.post("/auth/login", data={"email": "marco@example.org", "password": "correct-horse-battery"})
    laptop.post("/auth/logout")
    assert laptop.get("/me").status_code == 302
    assert phone.get("/me").status_code == 200


def test_logout_needs_post(client):
    assert client.get("/auth/logout").status_code == 405


def test_failed_logins_are_rate_limited_per_email(client, auth, app_ctx):
    UserFactory(email="marco@example.org")
    codes = [auth.login("marco@example.org", f"wrong-{i}").status_code for i in range(6)]
    assert codes[:5] == [400] * 5
    assert codes[5] == 429
    # even the right password is refused until the window passes
    assert auth.login("marco@example.org").status_code == 429
    assert b"Too many attempts" in auth.login("marco@example.org").data


def test_rate_limit_moves_on_with_time(client, auth, app_ctx):
    import time_machine

    UserFactory(email="marco@example.org")
    with time_machine.travel("2026-12-01 10:00:00+00:00", tick=False) as traveller:
        for i in range(5):
            auth.login("marco@example.org", f"wrong-{i}")
        assert auth.login("marco@example.org").status_code == 429
        traveller.shift(61)
        assert auth.login("marco@example.org").status_code == 302


def test_successful_logins_do_not_count_against_the_limit(client, auth, app_ctx):
    UserFactory(email="marco@example.org")
    for _ in range(7):
        assert auth.login("marco@example.org").status_code == 302
        auth.logout()


def test_a_write_by_a_device_not_seen_for_a_while_notes_it_without_waiting_on_itself(app, client, auth, caplog):
    """A POST holds SQLite's write lock from its first query; the "last seen" note of an
    older login goes into that same transaction (a second connection would wait for the
    lock its own request holds, until the busy timeout)."""
    import datetime as dt

    from app.core.types import utcnow
    from tests.factories import CourseFactory

    with app.app_context():
        UserFactory(email="marco@example.org")
        slug = CourseFactory(capacity=5).slug
        db.session.commit()
    auth.login("marco@example.org")
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=30)))
        db.session.commit()
    assert client.post(f"/courses/{slug}/enrol").status_code == 302
    assert "could not note login session" not in caplog.text
    with app.app_context():
        seen = db.session.scalar(sa.select(LoginSession.last_seen_at))
        assert utcnow() - seen < dt.timedelta(minutes=1)
