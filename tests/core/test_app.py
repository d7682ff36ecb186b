import pytest

from app.extensions import db
from tests.factories import UserFactory


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_other_servers(client):
    html = client.get("/").get_data(as_text=True)
    assert "cdn." not in html and "googleapis" not in html
    assert "https://" not in html.split("<body")[0]  # nothing remote in <head>
    assert "/bootstrap/static/css/bootstrap.min.css" in html


@pytest.mark.parametrize("path,code", [("/no-such-page", 404), ("/auth/logout", 405)])
def test_friendly_error_pages(client, path, code):
    response = client.get(path)
    assert response.status_code == code
    assert b"Back to the home page" in response.data


def test_error_page_in_the_users_language(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert response.status_code == 404
    assert "Pagina non trovata" in response.get_data(as_text=True)


def test_too_large_request_is_413(client, app):
    response = client.post("/auth/login", data={"email": "a" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    assert response.status_code == 413
    assert b"Too large" in response.data


def test_500_rolls_back_and_shows_a_friendly_page(app):
    from app.accounts.models import User

    @app.route("/boom")
    def boom():
        db.session.add(User(email="half@example.org", password_hash="x", full_name="Half Saved"))
        db.session.flush()
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    with app.app_context():
        assert db.session.query(User).filter_by(email="half@example.org").count() == 0


def test_language_from_accept_language_then_switcher(client):
    assert "Attività" in client.get("/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "活动" in client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    response = client.post("/auth/language?next=/courses", data={"lang": "zh"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/courses")
    assert "活动" in client.get("/", headers={"Accept-Language": "it"}).get_data(as_text=True)


def test_language_switcher_refuses_unknown_language_and_foreign_redirects(client):
    assert client.post("/auth/language", data={"lang": "fr"}).status_code == 400
    response = client.post("/auth/language?next=https://evil.example/", data={"lang": "it"})
    assert response.headers["Location"] == "/"


def test_profile_language_wins_over_the_switcher(client, auth, app_ctx):
    UserFactory(email="li@example.org", locale="zh")
    auth.login("li@example.org")
    html = client.get("/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "活动" in html


def test_session_cookie_is_httponly_and_samesite(client, auth, app_ctx):
    UserFactory(email="cookie@example.org")
    response = auth.login("cookie@example.org")
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.csrf
def test_forms_without_csrf_token_are_refused(client, app_ctx):
    UserFactory(email="csrf@example.org")
    response = client.post("/auth/login", data={"email": "csrf@example.org", "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert b"expired" in response.data


@pytest.mark.csrf
def test_language_switch_needs_a_token_only_when_signed_in(client, app_ctx):
    import re

    assert client.post("/auth/language", data={"lang": "it"}).status_code == 302  # only the visitor's own cookie
    UserFactory(email="lang@example.org")
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/auth/login", data={"csrf_token": token, "email": "lang@example.org", "password": "correct-horse-battery"})
    assert client.post("/auth/language", data={"lang": "it"}).status_code == 400
    # signing in starts a new session, so the page now carries a new token
    html = client.get("/me").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post("/auth/language", data={"lang": "it", "csrf_token": token}).status_code == 302


def test_public_pages_start_no_session_and_are_cached_briefly(app, client):
    from app.extensions import db
    from tests.factories import CourseFactory

    app.config["PONTE_PAGE_CACHE_SECONDS"] = 60
    first = client.get("/courses")
    assert "Set-Cookie" not in first.headers and 'name="csrf_token"' not in first.get_data(as_text=True)
    with app.app_context():
        CourseFactory(title="Brand New School")
        db.session.remove()
    assert "Brand New School" not in client.get("/courses").get_data(as_text=True)  # served from the cache
    assert "Brand New School" in client.get("/courses?kind=course").get_data(as_text=True)  # another address
    with app.app_context():
        UserFactory(email="cache@example.org")
        db.session.remove()
    client.post("/auth/login", data={"email": "cache@example.org", "password": "correct-horse-battery"})
    assert "Brand New School" in client.get("/courses").get_data(as_text=True)  # signed in: never cached


@pytest.mark.csrf
def test_a_stale_form_is_refused_with_a_clear_message(client, app_ctx):
    import datetime as dt
    import re

    import time_machine

    UserFactory(email="stale@example.org")
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as traveller:
        html = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        fresh = {"csrf_token": token, "email": "stale@example.org", "password": "correct-horse-battery"}
        traveller.shift(dt.timedelta(hours=9))
        response = client.post("/auth/login", data=fresh)
        assert response.status_code == 400
        assert b"This form has expired" in response.data
        html = client.get("/auth/login").get_data(as_text=True)
        fresh["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        assert client.post("/auth/login", data=fresh).status_code == 302
