"""*Send again* only puts a failed message back in the queue, as one compare-and-set:
pending, sending and sent messages are refused with a message (never a 500), and of eight
admins clicking at once exactly one wins and is audited."""
import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.extensions import db
from app.notifications import services as outbox
from app.notifications.models import OutboxMessage
from app.notifications.models import OutboxStatus as O
from tests.enrolment.test_concurrency import _logged_in_clients, _rush
from tests.factories import UserFactory
from tests.integrity.harness import assert_doctor_clean

ADMIN = "admin@example.org"


def _message(status: O, attempts: int = 8) -> int:
    message = outbox.queue_email(UserFactory(), "password_reset", token="t", minutes=60)
    message.status, message.attempts, message.last_error = status, attempts, "SMTPServerDisconnected: gone"
    db.session.commit()
    return message.id


def _resent_events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "outbox.resent"))


@pytest.mark.usefixtures("app_ctx")
def test_a_failed_message_is_queued_again_once():
    admin = UserFactory(role=Role.ADMIN)
    message_id = _message(O.FAILED)
    message = outbox.resend(message_id, admin)
    db.session.commit()
    assert (message.status, message.attempts, message.claimed_by) == (O.PENDING, 0, None)
    with pytest.raises(outbox.ResendRefused, match="Only a failed message can be sent again; this one is waiting to be sent."):
        outbox.resend(message_id, admin)
    db.session.rollback()
    assert _resent_events() == 1


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize("status,phrase", [(O.PENDING, "waiting to be sent"), (O.SENDING, "being sent"),
                                           (O.SENT, "already sent")])
def test_a_message_that_is_not_failed_is_left_alone(status, phrase):
    admin = UserFactory(role=Role.ADMIN)
    message_id = _message(status, attempts=3)
    with pytest.raises(outbox.ResendRefused) as info:
        outbox.resend(message_id, admin)
    assert info.value.status_code == 409 and f"this one is {phrase}." in info.value.message
    db.session.rollback()
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    assert (message.status, message.attempts) == (status, 3)
    assert _resent_events() == 0


def test_the_admin_page_offers_send_again_only_for_failed_messages_and_explains_a_refusal(app, client):
    with app.app_context():
        UserFactory(email=ADMIN, role=Role.ADMIN)
        failed, pending, sent = _message(O.FAILED), _message(O.PENDING), _message(O.SENT)
    assert client.post("/auth/login", data={"email": ADMIN, "password": "correct-horse-battery"}).status_code == 302
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f"/admin/outbox/{failed}/resend" in page
    assert f"/admin/outbox/{pending}/resend" not in page and f"/admin/outbox/{sent}/resend" not in page
    refused = client.post(f"/admin/outbox/{sent}/resend")
    assert refused.status_code == 409
    assert "Only a failed message can be sent again; this one is already sent." in refused.get_data(as_text=True)
    assert client.post(f"/admin/outbox/{failed}/resend").status_code == 302
    again = client.post(f"/admin/outbox/{failed}/resend")  # a second click, or a stale page
    assert again.status_code == 409 and "this one is waiting to be sent." in again.get_data(as_text=True)
    with app.app_context():
        assert _resent_events() == 1


def test_eight_admins_at_once_one_resend_one_audit_event(app):
    with app.app_context():
        UserFactory(email=ADMIN, role=Role.ADMIN)
        message_id = _message(O.FAILED)
        db.session.remove()
    clients = _logged_in_clients(app, [ADMIN] * 8)
    results, errors = _rush(clients, f"/admin/outbox/{message_id}/resend")
    assert errors == []
    assert sorted(results) == [302] + [409] * 7
    with app.app_context():
        assert _resent_events() == 1
        assert db.session.get(OutboxMessage, message_id).status is O.PENDING
    assert_doctor_clean(app)  # the invariants hold after the race
