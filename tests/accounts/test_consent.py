"""Consent with the notice's version, and the separate consent of people in China to the
transfer of their data to Italy (PIPL): recorded at registration, asked again of everyone
signed in when the notice changes, and nothing but the notice and logging out works until
they agree."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from tests.accounts.test_registration import GOOD
from tests.factories import CourseFactory, UserFactory
from tests.integrity.harness import audits


def test_registration_records_the_version_and_asks_people_in_china_for_the_transfer(app, client):
    chinese = dict(GOOD, email="wang@example.cn", full_name="Wang Wei", country="CN", timezone="Asia/Shanghai")
    refused = client.post("/auth/register", data=chinese)
    assert refused.status_code == 400 and "transfer of their data to Italy" in refused.get_data(as_text=True)
    assert client.post("/auth/register", data=dict(chinese, transfer_consent="y")).status_code == 302
    assert client.post("/auth/register", data=GOOD).status_code == 302  # in Italy: no transfer consent asked
    with app.app_context():
        rows = {u.email: u for u in db.session.scalars(sa.select(User))}
        version = app.config["PONTE_PRIVACY_VERSION"]
        wang, giulia = rows["wang@example.cn"], rows["giulia.rossi@example.org"]
        assert (wang.privacy_version, wang.transfer_version) == (version, version) and wang.transfer_consent_at
        assert (giulia.privacy_version, giulia.transfer_version) == (version, None)


def test_a_new_notice_asks_everyone_signed_in_again_and_nothing_else_works_until_then(app, client, auth):
    with app.app_context():
        course = CourseFactory()
        UserFactory(email="p@example.org")
        db.session.commit()
        slug = course.slug
    auth.login("p@example.org")
    app.config["PONTE_PRIVACY_VERSION"] = "2027-03-01"
    assert client.get("/auth/profile").status_code == 200  # open: a country set by mistake can be corrected
    for path in ("/me", f"/courses/{slug}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/consent")
    assert client.post(f"/courses/{slug}/enrol").headers["Location"].startswith("/auth/consent")
    assert client.get("/privacy").status_code == 200  # the notice itself can be read
    page = client.get("/auth/consent?next=/me").get_data(as_text=True)
    assert "2027-03-01" in page and 'name="privacy"' in page and 'name="transfer"' not in page
    assert client.post("/auth/consent?next=/me", data={}).status_code == 400  # not ticked: still asked
    agreed = client.post("/auth/consent?next=/me", data={"privacy": "y"})
    assert agreed.status_code == 302 and agreed.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(User.privacy_version)) == "2027-03-01"
        assert audits("user.consent_given") == 1


def test_someone_who_moves_to_china_is_asked_for_the_transfer(app, client, auth):
    with app.app_context():
        UserFactory(email="p@example.org", country="IT")
        db.session.commit()
    auth.login("p@example.org")
    client.post("/auth/profile", data={"full_name": "Pia Participant", "country": "CN", "locale": "en",
                                      "timezone": "Asia/Shanghai"})
    assert client.get("/me").headers["Location"].startswith("/auth/consent")
    page = client.get("/auth/consent").get_data(as_text=True)
    assert 'name="transfer"' in page and 'name="privacy"' not in page and "Personal Information Protection" in page
    assert client.post("/auth/consent", data={"transfer": "y"}).status_code == 302
    assert client.get("/me").status_code == 200


@pytest.mark.parametrize("locale, words", [("it", "Italia"), ("zh", "意大利")])
def test_the_transfer_consent_is_asked_in_the_readers_language(app, client, auth, locale, words):
    with app.app_context():
        UserFactory(email="p@example.org", country="CN", transfer_version=None, locale=locale)
        db.session.commit()
    auth.login("p@example.org")
    assert words in client.get("/auth/consent").get_data(as_text=True)


def test_consent_needs_a_login(client):
    assert "/auth/login" in client.get("/auth/consent").headers["Location"]


def test_a_country_chosen_by_mistake_can_be_put_right_from_the_profile(app, client, auth):
    with app.app_context():
        UserFactory(email="p@example.org", country="IT")
        db.session.commit()
    auth.login("p@example.org")
    profile = {"full_name": "Pia Participant", "locale": "en", "timezone": "Europe/Rome"}
    client.post("/auth/profile", data=dict(profile, country="CN"))
    assert "Correct your country on your profile" in client.get("/auth/consent").get_data(as_text=True)
    assert client.get("/auth/profile").status_code == 200  # open before consent
    client.post("/auth/profile", data=dict(profile, country="IT"))
    assert client.get("/me").status_code == 200


def test_the_notice_says_where_data_are_kept_and_its_version(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Personal Information Protection Law" in page and app.config["PONTE_PRIVACY_VERSION"] in page
