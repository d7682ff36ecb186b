"""Behind a reverse proxy: with PONTE_TRUSTED_PROXIES=N the client's address comes from the
last N X-Forwarded-For values (rate limits and the audit log see the client); with 0,
the default, the header is ignored, since any client could send it."""
import pytest
import sqlalchemy as sa

from app import create_app
from app.audit.models import AuditEvent
from app.extensions import db
from tests.conftest import Config, FreshContextClient
from tests.factories import UserFactory

PROXY = "10.0.0.2"  # the reverse proxy: the only peer the app ever sees


@pytest.fixture
def app_behind_one_proxy(app):
    """A second app like `app` (same database), trusting one proxy."""
    proxied = create_app(type("OneProxyConfig", (Config,), {"PONTE_TRUSTED_PROXIES": 1}))
    proxied.test_client_class = FreshContextClient
    yield proxied
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def _ask_reset(client, forwarded_for: str, email: str = "nobody@example.org") -> int:
    """POST /auth/reset (5 a minute per client address) through the proxy."""
    return client.post("/auth/reset", data={"email": email}, headers={"X-Forwarded-For": forwarded_for},
                       environ_base={"REMOTE_ADDR": PROXY}).status_code


def _audited_ip(app, action: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(AuditEvent.ip).where(AuditEvent.action == action))


def test_one_trusted_proxy_rate_limits_each_forwarded_client(app_behind_one_proxy):
    client = app_behind_one_proxy.test_client()
    assert [_ask_reset(client, "198.51.100.7") for _ in range(6)] == [302] * 5 + [429]
    assert _ask_reset(client, "203.0.113.9") == 302  # another person behind the same proxy
    # Only the last value, written by our proxy, is believed: a forged first one does not help.
    assert _ask_reset(client, "203.0.113.9, 198.51.100.7") == 429


def test_one_trusted_proxy_audits_the_forwarded_address(app_behind_one_proxy):
    with app_behind_one_proxy.app_context():
        UserFactory(email="sara@example.org")
    assert _ask_reset(app_behind_one_proxy.test_client(), "192.0.2.44", "sara@example.org") == 302
    assert _audited_ip(app_behind_one_proxy, "user.password_reset_requested") == "192.0.2.44"


def test_without_trusted_proxies_the_header_is_ignored_by_rate_limits(app, client):
    assert app.config["PONTE_TRUSTED_PROXIES"] == 0
    # Six "different" forwarded clients are one peer: the sixth request is refused.
    assert [_ask_reset(client, f"198.51.100.{i}") for i in range(6)] == [302] * 5 + [429]


def test_without_trusted_proxies_the_audit_log_keeps_the_peer_address(app, client):
    with app.app_context():
        UserFactory(email="sara@example.org")
    assert _ask_reset(client, "192.0.2.44", "sara@example.org") == 302
    assert _audited_ip(app, "user.password_reset_requested") == PROXY
