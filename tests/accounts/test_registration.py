import re

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.extensions import db
from tests.factories import UserFactory

GOOD = {
    "email": "Giulia.Rossi@Example.org",
    "password": "a-long-password-1",
    "confirm": "a-long-password-1",
    "full_name": "Giulia Rossi",
    "native_name": "",
    "organisation": "Comune di Roma",
    "organisation_type": "public_administration",
    "country": "IT",
    "locale": "it",
    "timezone": "Europe/Rome",
    "privacy_consent": "y",
}


def _users(app):
    with app.app_context():
        return db.session.scalars(sa.select(User)).all()


def _link(mail) -> str:  # noqa: ANN001
    body = mail[-1].get_body(("plain",)).get_content()
    return re.search(r"https?://\S+(/auth/verify/\S+)", body).group(1)


def test_register_emails_a_link_that_confirms_the_address_and_signs_in(client, app, mail):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/register/sent"
    sent = client.get("/auth/register/sent").get_data(as_text=True)
    assert "giulia.rossi@example.org" in sent and "48 hours" in sent
    [user] = _users(app)
    assert user.email == "giulia.rossi@example.org" and user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    assert user.locale == "it" and user.timezone == "Europe/Rome" and user.privacy_consent_at is not None
    assert client.get("/me").status_code == 302  # not signed in until the address is confirmed
    assert mail[-1]["To"].endswith("<giulia.rossi@example.org>") and "Conferma" in mail[-1]["Subject"]
    link = _link(mail)
    confirmed = client.get(link)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    [user] = _users(app)
    assert user.email_verified_at is not None
    again = client.get(link)  # the link works once: the second click changes nothing
    assert again.status_code == 302 and "già confermato" in client.get("/me").get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["user.registered", "user.verification_sent", "user.email_verified"]


def test_register_with_a_chinese_native_name(client, app):
    data = dict(GOOD, email="wang@example.cn", full_name="Wang Wei", native_name="王伟", locale="zh",
                timezone="Asia/Shanghai", country="CN", transfer_consent="y")
    assert client.post("/auth/register", data=data).status_code == 302
    [user] = _users(app)
    assert user.native_name == "王伟" and user.display_name == "Wang Wei (王伟)"


def _answer(client, data) -> tuple:  # noqa: ANN001
    response = client.post("/auth/register", data=data)
    page = client.get(response.headers.get("Location", "/")).get_data(as_text=True) if response.status_code == 302 else ""
    return response.status_code, response.headers.get("Location"), page.replace(data["email"].lower(), "EMAIL")


def test_an_address_with_an_account_gets_the_same_answer_and_its_owner_an_email(app, mail):
    with app.app_context():
        UserFactory(email="giulia.rossi@example.org", full_name="Giulia Rossi", password_hash="x")
        db.session.commit()
    taken = _answer(app.test_client(), GOOD)
    fresh = _answer(app.test_client(), dict(GOOD, email="someone.new@example.org"))
    assert taken == fresh and taken[0] == 302
    assert len(_users(app)) == 2  # the one that existed, and the new one
    [owner_mail] = [m for m in mail if "giulia.rossi@example.org" in m["To"]]
    assert "already has one" in owner_mail.get_body(("plain",)).get_content()
    assert "/auth/reset" in owner_mail.get_body(("plain",)).get_content()
    with app.app_context():
        owner = db.session.scalar(sa.select(User).where(User.email == "giulia.rossi@example.org"))
        assert owner.password_hash == "x" and owner.full_name == "Giulia Rossi"  # nothing about the account changed


def test_registering_an_unconfirmed_address_again_sends_a_new_link(client, app, mail):
    assert client.post("/auth/register", data=GOOD).status_code == 302
    first = _link(mail)
    assert app.test_client().post("/auth/register", data=dict(GOOD, full_name="Someone Else")).status_code == 302
    assert len(_users(app)) == 1 and _users(app)[0].full_name == "Giulia Rossi"
    assert len(mail) == 2 and _link(mail).startswith("/auth/verify/")
    assert client.get(first).status_code == 302  # either link confirms


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("email", "", "This field is required"),
        ("email", "not-an-email", "Invalid email address"),
        ("email", "a" * 10000 + "@example.org", "Field cannot be longer than 254"),
        ("password", "short", "between 10 and 200 characters"),
        ("confirm", "something-else-1", "The passwords differ"),
        ("full_name", "", "This field is required"),
        ("full_name", "王伟", "Latin letters"),
        ("full_name", "<script>alert(1)</script>", "letters, spaces, hyphens"),
        ("full_name", "Giulia 😀", "letters, spaces, hyphens"),
        ("full_name", "G" * 10000, "Field cannot be longer than 120"),
        ("native_name", "x" * 121, "Field cannot be longer than 120"),
        ("timezone", "Mars/Olympus_Mons", "Unknown time zone"),
        ("timezone", "", "This field is required"),
        ("country", "XX", "Unknown country"),
        ("locale", "fr", "Not a valid choice"),
        ("organisation_type", "pirate", "Not a valid choice"),
        ("privacy_consent", "", "accept the privacy notice"),
    ],
)
def test_bad_registration_input_is_a_form_error_not_a_500(client, app, field, value, message):
    data = dict(GOOD, **{field: value})
    response = client.post("/auth/register", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _users(app) == []


def test_html_and_emoji_in_free_text_are_stored_and_escaped(client, app, mail):
    data = dict(GOOD, organisation="<b>Verde</b> & Co 🌱", native_name="<img src=x>")
    assert client.post("/auth/register", data=data).status_code == 302
    client.get(_link(mail))
    html = client.get("/auth/profile").get_data(as_text=True)
    assert "&lt;b&gt;Verde&lt;/b&gt; &amp; Co 🌱" in html
    assert "<img src=x>" not in html


def test_registered_user_is_sent_to_me_when_visiting_register(client, auth, app_ctx):
    UserFactory(email="already@example.org")
    auth.login("already@example.org")
    assert client.get("/auth/register").headers["Location"] == "/me"
