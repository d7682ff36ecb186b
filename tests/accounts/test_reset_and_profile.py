import datetime as dt
import re

import time_machine

from app.accounts.models import User
from app.extensions import db
from tests.factories import UserFactory


def _link(mail) -> str:
    body = mail[-1].get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://[^/\s]+(/auth/reset/\S+)", body).group(1)


def test_reset_flow_sends_a_link_that_works_once(client, mail, app_ctx):
    UserFactory(email="sara@example.org", locale="it")
    response = client.post("/auth/reset", data={"email": "sara@example.org"})
    assert response.status_code == 302
    assert len(mail) == 1
    assert mail[0]["To"].endswith("<sara@example.org>")
    assert mail[0]["Subject"] == "Reimposta la password di Ponte"
    link = _link(mail)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    login = client.post("/auth/login", data={"email": "sara@example.org", "password": "brand-new-password"})
    assert login.status_code == 302
    client.post("/auth/logout")
    again = client.post(link, data={"password": "another-password-2", "confirm": "another-password-2"})
    assert again.status_code == 302 and again.headers["Location"] == "/auth/reset"


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client, mail):
    response = client.post("/auth/reset", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert b"If an account exists" in response.data
    assert mail == []


def test_reset_link_expires(client, mail, app_ctx):
    UserFactory(email="sara@example.org")
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as traveller:
        client.post("/auth/reset", data={"email": "sara@example.org"})
        link = _link(mail)
        traveller.shift(dt.timedelta(minutes=61))
        response = client.post(link, data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/reset"


def test_reset_logs_out_every_device(app, mail, app_ctx):
    UserFactory(email="sara@example.org")
    phone = app.test_client()
    phone.post("/auth/login", data={"email": "sara@example.org", "password": "correct-horse-battery"})
    other = app.test_client()
    other.post("/auth/reset", data={"email": "sara@example.org"})
    link = _link(mail)
    other.post(link, data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert phone.get("/me").status_code == 302


def test_garbage_reset_tokens_redirect(client):
    assert client.get("/auth/reset/nonsense").status_code == 302
    assert client.get("/auth/reset/" + "x" * 5000).status_code == 302


def test_profile_change(client, auth, app_ctx):
    user = UserFactory(email="luca@example.org")
    auth.login("luca@example.org")
    response = client.post("/auth/profile", data={
        "full_name": "Luca Colombo", "native_name": "卢卡", "organisation": "Verde 🌱", "organisation_type": "sme",
        "country": "IT", "locale": "zh", "timezone": "Asia/Shanghai",
    })
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.full_name, user.native_name, user.locale, user.timezone) == ("Luca Colombo", "卢卡", "zh", "Asia/Shanghai")
    assert "个人资料" in client.get("/auth/profile").get_data(as_text=True)


def test_profile_rejects_unknown_zone_and_saves_nothing(client, auth, app_ctx):
    user = UserFactory(email="luca@example.org", full_name="Luca Colombo")
    auth.login("luca@example.org")
    response = client.post("/auth/profile", data={
        "full_name": "Someone Else", "locale": "en", "timezone": "Europe/Atlantis",
    })
    assert response.status_code == 400 and b"Unknown time zone" in response.data
    db.session.expire_all()
    assert db.session.get(User, user.id).full_name == "Luca Colombo"


def test_password_change_logs_out_other_devices_but_not_this_one(app, app_ctx):
    UserFactory(email="luca@example.org")
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        c.post("/auth/login", data={"email": "luca@example.org", "password": "correct-horse-battery"})
    response = laptop.post("/auth/password", data={
        "pw-current_password": "correct-horse-battery", "pw-password": "new-password-123", "pw-confirm": "new-password-123",
    })
    assert response.status_code == 302
    assert laptop.get("/me").status_code == 200
    assert phone.get("/me").status_code == 302


def test_password_change_with_wrong_current_password_is_400(client, auth, app_ctx):
    UserFactory(email="luca@example.org")
    auth.login("luca@example.org")
    response = client.post("/auth/password", data={
        "pw-current_password": "wrong", "pw-password": "new-password-123", "pw-confirm": "new-password-123",
    })
    assert response.status_code == 400 and b"current password is not correct" in response.data


def test_logout_everywhere(app, app_ctx):
    UserFactory(email="luca@example.org")
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        c.post("/auth/login", data={"email": "luca@example.org", "password": "correct-horse-battery"})
    assert laptop.post("/auth/logout-everywhere").status_code == 302
    assert laptop.get("/me").status_code == 200
    assert phone.get("/me").status_code == 302


def test_profile_needs_login(client):
    response = client.get("/auth/profile")
    assert response.status_code == 302 and "/auth/login?next=" in response.headers["Location"]
