"""How long Ponte keeps what (the privacy notice, /privacy, shows the same settings), applied nightly
by the job `apply_retention`; each run's counts are on /admin/jobs.

- email bodies: cleared 90 days after sending (recipient, subject and dates stay, so the
  outbox still shows that a message went);
- audit network addresses: cut to their network after 12 months (IPv4 /24, IPv6 /48);
- ended login sessions: deleted 30 days after they ended, and those idle past the cookie's
  lifetime are ended;
- copies of people's data (exports): deleted 24 hours after they were ready;
- accounts whose address was never confirmed: deleted after 7 days (job
  `purge_unverified_accounts`).
"""
from __future__ import annotations

import datetime as dt
import ipaddress

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import LoginSession
from app.audit.models import AuditEvent
from app.core.cas import changed_rows
from app.core.types import utcnow
from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxStatus
from app.privacy.export import remove_expired_exports

ERASED_BODY = ""


def _days(name: str) -> dt.timedelta:
    return dt.timedelta(days=current_app.config[name])


def truncated_ip(ip: str) -> str:
    """The network an address belongs to: 203.0.113.7 → 203.0.113.0, 2001:db8:1:2::7 → 2001:db8:1::."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def apply_retention(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    bodies = changed_rows(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENT,
               OutboxMessage.sent_at < now - _days("PONTE_KEEP_EMAIL_BODIES_DAYS"),
               sa.or_(OutboxMessage.body_text != ERASED_BODY, OutboxMessage.body_html != ERASED_BODY))
        .values(body_text=ERASED_BODY, body_html=ERASED_BODY, render_context=None))
    old_ips = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.ip)
        .where(AuditEvent.created_at < now - _days("PONTE_KEEP_AUDIT_IPS_DAYS"), AuditEvent.ip.is_not(None),
               AuditEvent.ip != "")).all()
    ips = 0
    for event_id, ip in old_ips:
        short = truncated_ip(ip)
        if short != ip:
            ips += changed_rows(sa.update(AuditEvent).where(AuditEvent.id == event_id, AuditEvent.ip == ip)
                                .values(ip=short or None))
    lifetime = dt.timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])
    idle = changed_rows(sa.update(LoginSession).where(LoginSession.revoked_at.is_(None),
                                                      LoginSession.last_seen_at < now - lifetime)
                        .values(revoked_at=now))
    sessions = changed_rows(sa.delete(LoginSession).where(
        LoginSession.revoked_at < now - _days("PONTE_KEEP_ENDED_SESSIONS_DAYS")))
    exports = remove_expired_exports(now)
    db.session.commit()
    return {"email_bodies_cleared": bodies, "audit_ips_truncated": ips, "idle_sessions_ended": idle,
            "ended_sessions_deleted": sessions, "exports_deleted": exports}
