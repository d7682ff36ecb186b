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


def test_register_creates_account_logs_in_and_audits(client, app):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    [user] = _users(app)
    assert user.email == "giulia.rossi@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert user.locale == "it" and user.timezone == "Europe/Rome"
    assert user.privacy_consent_at is not None
    assert client.get("/me").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.action)) == "user.registered"


def test_register_with_a_chinese_native_name(client, app):
    data = dict(GOOD, email="wang@example.cn", full_name="Wang Wei", native_name="王伟", locale="zh",
                timezone="Asia/Shanghai", country="CN")
    assert client.post("/auth/register", data=data).status_code == 302
    [user] = _users(app)
    assert user.native_name == "王伟" and user.display_name == "Wang Wei (王伟)"


def test_the_same_email_twice_in_another_case_is_refused(client, app, app_ctx):
    UserFactory(email="giulia.rossi@example.org")
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 400
    assert b"already exists" in response.data
    assert len(_users(app)) == 1


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


def test_html_and_emoji_in_free_text_are_stored_and_escaped(client, app):
    data = dict(GOOD, organisation="<b>Verde</b> & Co 🌱", native_name="<img src=x>")
    assert client.post("/auth/register", data=data).status_code == 302
    html = client.get("/auth/profile").get_data(as_text=True)
    assert "&lt;b&gt;Verde&lt;/b&gt; &amp; Co 🌱" in html
    assert "<img src=x>" not in html


def test_registered_user_is_sent_to_me_when_visiting_register(client, auth, app_ctx):
    UserFactory(email="already@example.org")
    auth.login("already@example.org")
    assert client.get("/auth/register").headers["Location"] == "/me"
