"""What Ponte keeps, and for how long: the nightly `apply_retention` job clears email
bodies 90 days after sending, cuts audit network addresses to their network after a
year, ends idle login sessions and deletes ended ones after 30 days. Time travel, no
sleeps; the privacy notice shows the same settings."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from app.accounts.models import LoginSession
from app.audit.models import AuditEvent
from app.extensions import db
from app.jobs.table import job_table
from app.notifications.models import OutboxMessage, OutboxStatus
from app.privacy.retention import apply_retention, truncated_ip
from tests.factories import UserFactory

NOW = dt.datetime(2027, 6, 1, 3, 55, tzinfo=dt.UTC)


@pytest.mark.parametrize(("ip", "short"), [
    ("203.0.113.7", "203.0.113.0"), ("2001:db8:1:2::7", "2001:db8:1::"), ("203.0.113.0", "203.0.113.0"),
    ("not an ip", ""), ("::1", "::"),
])
def test_addresses_are_cut_to_their_network(ip, short):
    assert truncated_ip(ip) == short


def test_the_nightly_job_removes_what_has_outlived_its_purpose_and_nothing_else(app):
    with app.app_context():
        user = UserFactory()
        db.session.flush()

        def email(days_ago: int, status=OutboxStatus.SENT) -> int:  # noqa: ANN001
            message = OutboxMessage(recipient=user.email, template="enrolment", subject="Your place", body_text="Dear …",
                                    body_html="<p>Dear …</p>", status=status, sent_at=NOW - dt.timedelta(days=days_ago)
                                    if status is OutboxStatus.SENT else None)
            db.session.add(message)
            db.session.flush()
            return message.id

        old_mail, new_mail, failed = email(91), email(89), email(200, OutboxStatus.FAILED)
        events = []
        for days_ago, ip in ((400, "203.0.113.7"), (400, "2001:db8:1:2::7"), (300, "198.51.100.9")):
            event = AuditEvent(action="user.profile_updated", ip=ip, created_at=NOW - dt.timedelta(days=days_ago))
            db.session.add(event)
            db.session.flush()
            events.append(event.id)
        sessions = {}
        for name, seen, revoked in (("ended long ago", 40, 35), ("ended lately", 20, 10), ("idle", 20, None),
                                    ("in use", 0, None)):
            row = LoginSession(user_id=user.id, token_hash=name.replace(" ", "-").ljust(64, "x"),
                               created_at=NOW - dt.timedelta(days=seen + 1), last_seen_at=NOW - dt.timedelta(days=seen),
                               revoked_at=NOW - dt.timedelta(days=revoked) if revoked else None)
            db.session.add(row)
            db.session.flush()
            sessions[name] = row.id
        db.session.commit()
    with time_machine.travel(NOW, tick=False), app.app_context():
        counts = apply_retention()
        assert counts == {"email_bodies_cleared": 1, "audit_ips_truncated": 2, "idle_sessions_ended": 1,
                          "ended_sessions_deleted": 1, "exports_deleted": 0}
        assert set(apply_retention().values()) == {0}  # a second night finds nothing more
        gone = db.session.get(OutboxMessage, old_mail)
        assert (gone.body_text, gone.body_html, gone.subject) == ("", "", "Your place")
        assert db.session.get(OutboxMessage, new_mail).body_text == "Dear …"
        assert db.session.get(OutboxMessage, failed).body_text == "Dear …"  # never sent: kept for the resend
        assert [db.session.get(AuditEvent, i).ip for i in events] == ["203.0.113.0", "2001:db8:1::", "198.51.100.9"]
        left = {name: db.session.get(LoginSession, i) for name, i in sessions.items()}
        assert left["ended long ago"] is None and left["ended lately"] is not None
        assert left["idle"].revoked_at is not None and left["in use"].revoked_at is None
    with app.app_context():
        assert "apply_retention" in job_table()


def test_the_privacy_notice_lists_the_retention_settings(app, client):
    app.config["PONTE_KEEP_EMAIL_BODIES_DAYS"] = 60
    page = client.get("/privacy").get_data(as_text=True)
    table = page.split('id="retention"', 1)[1].split("</table>", 1)[0]
    assert "60 days" in table and "365 days" in table and "30 days" in table and "7 days" in table
    italian = client.get("/privacy", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "60 giorni" in italian
