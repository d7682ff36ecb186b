"""Two-factor sign-in: set up by scanning a QR code drawn locally and typing a code;
then a password alone does not sign in. Codes work once and only around their 30
seconds (time travel, no sleeps); ten recovery codes work once each; admins must have
it (sent to set it up after login), others may turn it off; every step is audited."""
from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import RecoveryCode, Role, User
from app.extensions import db
from tests.factories import PASSWORD, UserFactory
from tests.integrity.harness import Shot, audits, no_5xx, race

T0 = dt.datetime(2026, 12, 1, 9, 0, 0, tzinfo=dt.UTC)


def _code(secret: str, at: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def _set_up(client) -> tuple[str, list[str]]:  # noqa: ANN001
    """Open the set-up page, read the key it shows, confirm with a code: (secret, recovery codes)."""
    page = client.get("/auth/two-factor").get_data(as_text=True)
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")  # the QR code is drawn here, nothing fetched
    secret = re.search(r'<code class="user-select-all">([A-Z2-7]+)</code>', page).group(1)
    done = client.post("/auth/two-factor", data={"code": _code(secret, dt.datetime.now(dt.UTC))})
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


@pytest.fixture(autouse=True)
def clock():
    """Every test runs on a clock of its own, from T0 (moved with `clock.move_to`)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(app):
    with app.app_context():
        UserFactory(email="li@example.cn")
        db.session.commit()


def _password(client, email: str = "li@example.cn"):  # noqa: ANN001
    return client.post("/auth/login", data={"email": email, "password": PASSWORD})


def test_after_set_up_a_password_alone_does_not_sign_in(app, client, person, clock):
    assert _password(client).status_code == 302
    secret, _codes = _set_up(client)
    client.post("/auth/logout")
    later = T0 + dt.timedelta(hours=2)
    clock.move_to(later)
    step = _password(client)
    assert step.status_code == 302 and step.headers["Location"] == "/auth/login/code"
    assert client.get("/me").status_code == 302  # not signed in yet
    assert client.post("/auth/login/code", data={"code": "000000"}).status_code == 400
    assert client.post("/auth/login/code", data={"code": _code(secret, later)}).status_code == 302
    assert client.get("/me").status_code == 200
    with app.app_context():
        assert audits("user.two_factor_enabled") == 1 and audits("user.two_factor_failed") == 1


def test_a_code_works_once_and_only_around_its_thirty_seconds(app, client, person, clock):
    _password(client)
    secret, _codes = _set_up(client)
    client.post("/auth/logout")
    at = T0 + dt.timedelta(minutes=10)
    code = _code(secret, at)
    clock.move_to(at)
    _password(client)
    assert client.post("/auth/login/code", data={"code": code}).status_code == 302
    client.post("/auth/logout")
    _password(client)
    assert client.post("/auth/login/code", data={"code": code}).status_code == 400  # used already
    clock.move_to(at + dt.timedelta(seconds=95))
    _password(client)
    stale = _code(secret, at + dt.timedelta(seconds=30))  # two steps ago: too old
    assert client.post("/auth/login/code", data={"code": stale}).status_code == 400
    assert client.post("/auth/login/code", data={"code": _code(secret, at + dt.timedelta(seconds=95))}).status_code == 302


def test_the_second_step_expires_and_is_rate_limited(app, client, person, clock):
    _password(client)
    secret, _codes = _set_up(client)
    client.post("/auth/logout")
    clock.move_to(T0 + dt.timedelta(hours=1))
    _password(client)
    clock.move_to(T0 + dt.timedelta(hours=1, minutes=6))
    late = client.post("/auth/login/code", data={"code": _code(secret, T0 + dt.timedelta(hours=1, minutes=6))})
    assert late.status_code == 302 and late.headers["Location"] == "/auth/login"
    _password(client)
    codes = [client.post("/auth/login/code", data={"code": "123456"}).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]


def test_each_recovery_code_signs_in_once(app, client, person, clock):
    _password(client)
    _secret, codes = _set_up(client)
    client.post("/auth/logout")
    clock.move_to(T0 + dt.timedelta(days=1))
    _password(client)
    assert client.post("/auth/login/code", data={"code": codes[3].upper().replace("-", " ")}).status_code == 302
    assert "9 are left" in client.get("/me").get_data(as_text=True)
    client.post("/auth/logout")
    _password(client)
    assert client.post("/auth/login/code", data={"code": codes[3]}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_(None))) == 9
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.code_hash.contains("-"))) == 0  # only hashes are kept
        assert audits("user.recovery_code_used") == 1


def test_eight_tabs_with_one_code_sign_in_once(app, person, clock):
    clients = [app.test_client() for _ in range(8)]
    _password(clients[0])
    secret, _codes = _set_up(clients[0])
    clients[0].post("/auth/logout")
    at = T0 + dt.timedelta(hours=3)
    clock.move_to(at)
    for c in clients:
        _password(c)
    codes = race([Shot(c, "/auth/login/code", {"code": _code(secret, at)}) for c in clients])
    no_5xx(codes)
    assert sorted(codes) == [302] + [400] * 7


def test_admins_are_sent_to_set_it_up_and_cannot_turn_it_off(app, client, clock):
    app.config["PONTE_ADMIN_TWO_FACTOR"] = True
    with app.app_context():
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        db.session.commit()
    _password(client, "admin@example.org")
    for path in ("/admin/", "/admin/users", "/teach/", "/me"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/auth/two-factor"
    assert client.post("/admin/users/1/deactivate").headers["Location"] == "/auth/two-factor"
    secret, _codes = _set_up(client)
    clock.move_to(T0 + dt.timedelta(minutes=5))
    assert client.get("/admin/").status_code == 200
    off = client.post("/auth/two-factor/off", data={"code": _code(secret, T0 + dt.timedelta(minutes=5))})
    assert off.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(User.totp_enabled_at)) is not None


def test_every_configuration_but_the_tests_asks_admins_for_it():
    from config import Config, DevelopmentConfig, ProductionConfig

    assert Config.PONTE_ADMIN_TWO_FACTOR and DevelopmentConfig.PONTE_ADMIN_TWO_FACTOR
    assert ProductionConfig.PONTE_ADMIN_TWO_FACTOR


def test_others_may_turn_it_off_with_a_code_and_renew_their_recovery_codes(app, client, person, clock):
    _password(client)
    secret, old = _set_up(client)
    at = T0 + dt.timedelta(minutes=2)
    clock.move_to(at)
    renewed = client.post("/auth/two-factor/recovery-codes", data={"code": _code(secret, at)})
    new = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", renewed.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    later = T0 + dt.timedelta(minutes=4)
    clock.move_to(later)
    assert client.post("/auth/two-factor/off", data={"code": "111111"}).status_code == 400
    assert client.post("/auth/two-factor/off", data={"code": _code(secret, later)}).status_code == 302
    client.post("/auth/logout")
    assert _password(client).headers["Location"] == "/me"  # a password alone again
    with app.app_context():
        assert audits("user.two_factor_disabled") == 1 and audits("user.recovery_codes_renewed") == 1


def test_a_wrong_code_at_set_up_leaves_it_off(app, client, person):
    _password(client)
    client.get("/auth/two-factor")
    response = client.post("/auth/two-factor", data={"code": "12345x"})
    assert response.status_code == 400 and "not right" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User.totp_enabled_at)) is None


@pytest.mark.parametrize("path", ["/auth/two-factor", "/auth/two-factor/recovery-codes", "/auth/two-factor/off"])
def test_two_factor_pages_need_a_login(client, path):
    response = client.post(path, data={"code": "123456"}) if "/" in path[15:] else client.get(path)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/auth/login/code").headers["Location"] == "/auth/login"


def test_the_set_up_key_stays_the_same_until_it_is_confirmed(app, client, person):
    _password(client)
    keys = {re.search(r'<code class="user-select-all">([A-Z2-7]+)</code>',
                      client.get("/auth/two-factor").get_data(as_text=True)).group(1) for _ in range(3)}
    client.post("/auth/language", data={"lang": "it"})
    keys.add(re.search(r'<code class="user-select-all">([A-Z2-7]+)</code>',
                       client.get("/auth/two-factor").get_data(as_text=True)).group(1))
    assert len(keys) == 1  # reloading or switching language does not void what the app scanned
