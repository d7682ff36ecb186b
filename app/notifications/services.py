"""The transactional outbox: queue in the caller's transaction, deliver after commit."""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.core.cas import changed_rows, compare_and_set, rowcount
from app.core.db import begin_write, deferred_reads
from app.core.errors import Conflict
from app.core.types import utcnow
from app.extensions import Model, db
from app.notifications.backends import get_backend
from app.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


SENT_TO_DEACTIVATED = {"account_status"}


def withhold_emails(user_id: int) -> int:
    """Emails still waiting for a person whose account was just deactivated are not sent:
    they are marked failed, with the reason, where the outbox shows them."""
    return changed_rows(
        sa.update(OutboxMessage)
        .where(OutboxMessage.user_id == user_id, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.template.not_in(SENT_TO_DEACTIVATED))
        .values(status=OutboxStatus.FAILED, last_error="not sent: the account was deactivated"))


def queue_email(
    user: Any,
    template: str,
    *,
    dedupe_key: str | None = None,
    attachment: tuple[str, str] | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Render `email/<template>.{txt,html}` in the user's language and queue it.

    `user` is anything with `email`, `full_name` and `locale`. Returns None when a
    message with the same dedupe key was already queued.
    """
    if not getattr(user, "is_active_account", True) and template not in SENT_TO_DEACTIVATED:
        return None  # a deactivated account gets no email but the notice of its own state
    if dedupe_key is not None:
        exists = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if exists:
            return None
    language = getattr(user, "locale", None) or "en"
    portable = _portable({"user": user, **context}) if _render_later() else None
    if portable is not None:
        subject = text = html = ""  # rendered after the commit, outside the write lock
    else:
        subject, text, html = _render(template, language, {"user": user, **context})
    message = OutboxMessage(
        recipient=user.email,
        recipient_name=getattr(user, "full_name", "") or "",
        user_id=getattr(user, "id", None),
        language=language,
        template=template,
        subject=subject,
        body_text=text,
        body_html=html,
        render_context=portable,
        dedupe_key=dedupe_key,
        attachment_kind=attachment[0] if attachment else None,
        attachment_ref=attachment[1] if attachment else None,
    )
    if dedupe_key is None:
        db.session.add(message)
        db.session.flush()
    else:
        try:
            # Two schedulers queuing the same reminder at once: the unique key lets one win.
            with db.session.begin_nested():
                db.session.add(message)
                db.session.flush()
        except sa.exc.IntegrityError:
            return None
    if has_request_context():
        g.ponte_queued_mail = True  # delivered after the view's commit, when so configured
    if portable is not None:
        g.setdefault("ponte_unrendered", []).append(message.id)
    return message


def _render_later() -> bool:
    """In a web request the email is rendered after the commit (the request's write lock
    is held only for its rows); jobs and commands render at once."""
    return has_request_context() and current_app.config.get("PONTE_RENDER_AFTER_COMMIT", True)


def _render(template: str, language: str, context: dict) -> tuple[str, str, str]:
    # Jobs and commands have no request: give url_for one at the public address.
    request_ctx = (
        nullcontext() if has_request_context()
        else current_app.test_request_context(base_url=current_app.config["PONTE_BASE_URL"])
    )
    with request_ctx, force_locale(language):
        context = {"base_url": current_app.config["PONTE_BASE_URL"], **context}
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    return " ".join(subject.split())[:300], text, html


def _portable(context: dict) -> dict | None:
    """The context as JSON: rows as {"$row": table, "id": n}, lists of rows, dates and
    plain values. None when something else is in it (then it is rendered at once)."""
    def one(value: Any) -> Any:
        if isinstance(value, Model) and getattr(value, "id", None) is not None:
            return {"$row": value.__class__.__name__, "id": value.id}  # type: ignore[attr-defined]  # every model has one  # __class__: also through current_user
        if isinstance(value, list | tuple):
            return [one(v) for v in value]
        if isinstance(value, dt.datetime):
            return {"$datetime": value.isoformat()}
        if isinstance(value, dt.date):
            return {"$date": value.isoformat()}
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise TypeError(type(value).__name__)

    try:
        return {key: one(value) for key, value in context.items()}
    except TypeError:
        return None


def _revive(portable: dict) -> dict:
    registry = Model.registry._class_registry  # noqa: SLF001 - SQLAlchemy's own map of model names

    def one(value: Any) -> Any:
        if isinstance(value, list):
            return [one(v) for v in value]
        if isinstance(value, dict) and "$row" in value:
            return db.session.get(registry[value["$row"]], value["id"])  # type: ignore[arg-type]  # a model class
        if isinstance(value, dict) and "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
        if isinstance(value, dict) and "$date" in value:
            return dt.date.fromisoformat(value["$date"])
        return value

    return {key: one(value) for key, value in portable.items()}


def render_pending(message_ids: Sequence[int] | None = None) -> int:
    """Render queued messages that wait for it (those of `message_ids`, or all), each in
    its own short write after reading and rendering: the write lock is held only for the
    UPDATE. A message someone else rendered meanwhile is left alone. Returns how many."""
    stmt = sa.select(OutboxMessage).where(OutboxMessage.render_context.is_not(None))
    if message_ids is not None:
        stmt = stmt.where(OutboxMessage.id.in_(message_ids))
    rendered = 0
    with deferred_reads():  # reading and rendering take no write lock, even inside a POST
        messages = db.session.scalars(stmt.order_by(OutboxMessage.id)).all()
    for message in messages:
        message_id = message.id
        try:
            with deferred_reads():
                subject, text, html = _render(message.template, message.language, _revive(message.render_context or {}))
        except Exception:  # noqa: BLE001 - one bad message must not hold up the others
            db.session.rollback()
            log.exception("email %s could not be rendered", message_id)
            continue
        db.session.rollback()
        begin_write()
        message = db.session.get_one(OutboxMessage, message_id)
        rendered += compare_and_set(message, OutboxMessage.render_context.is_not(None), subject=subject,
                                    body_text=text, body_html=html, render_context=None)
        db.session.commit()
    return rendered


def render_after_request(response):  # noqa: ANN001, ANN201 - Flask's after_request hook
    """The emails this request queued, rendered now that its transaction has committed.
    A failure leaves them for the delivery loop, which renders before it sends."""
    ids = g.pop("ponte_unrendered", None)
    if ids:
        try:
            db.session.rollback()
            render_pending(ids)
        except Exception:  # noqa: BLE001 - never fail a request that has committed
            db.session.rollback()
            log.exception("rendering queued emails after the commit failed")
    return response


def _mail_domain() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return sender.rsplit("@", 1)[-1].strip(" >") or "ponte.local"


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def claim(message_id: int, worker: str) -> bool:
    """Take one message for sending with a conditional UPDATE; True if we got it."""
    now = utcnow()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            sa.or_(
                OutboxMessage.status == OutboxStatus.PENDING,
                # a sender that died mid-send: its claim lapses
                sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - CLAIM_TIMEOUT),
            ),
        )
        .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=now)
    )
    db.session.commit()
    return rowcount(result) == 1


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = formataddr((message.recipient_name, message.recipient)) if message.recipient_name else message.recipient
    # The same Message-ID on every attempt, so a retry after a crash is recognisable.
    email["Message-ID"] = f"<ponte-outbox-{message.id}-{int(message.created_at.timestamp())}@{_mail_domain()}>"
    email["Content-Language"] = message.language
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    for filename, content, maintype, subtype in _attachments(message):
        email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return email


#: (filename, content, maintype, subtype) of one attachment, built at delivery from its reference.
Attachment = tuple[str, bytes, str, str]
_PROVIDERS = "ponte.attachment_providers"


def register_attachment_provider(app: Flask, kind: str, provider: Callable[[str], Attachment]) -> None:
    """How an email's attachment of `kind` is built from its reference. Higher packages
    provide these (a certificate's PDF, a session's iCalendar); create_app registers each
    one by name, so what a message can carry never depends on which module was imported."""
    app.extensions.setdefault(_PROVIDERS, {})[kind] = provider


def _attachments(message: OutboxMessage) -> list[Attachment]:
    if not message.attachment_kind:
        return []
    provider = current_app.extensions.get(_PROVIDERS, {}).get(message.attachment_kind)
    if provider is None:
        raise RuntimeError(f"no attachment provider for {message.attachment_kind!r}")
    return [provider(message.attachment_ref)]


class ResendRefused(Conflict):
    """Only a failed message goes back in the queue."""


def _status_phrase(status: OutboxStatus) -> str:
    """How a message stands, to finish "this one is …"."""
    return {
        OutboxStatus.PENDING: _("waiting to be sent"),
        OutboxStatus.SENDING: _("being sent"),
        OutboxStatus.SENT: _("already sent"),
        OutboxStatus.FAILED: _("failed"),
    }[status]


def resend(message_id: int, actor) -> OutboxMessage:  # noqa: ANN001
    """An admin puts a failed message back in the queue, with one compare-and-set from
    failed to pending: of two admins (or two clicks) exactly one wins, and only the winner
    writes the audit event. Raises LookupError for an unknown id, and ResendRefused when
    the message is not failed (any more): pending, sending and sent ones are left alone
    (a stuck "sending" claim lapses by itself, see CLAIM_TIMEOUT)."""
    from app.audit.services import record

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise LookupError(message_id)
    if message.undeliverable:
        raise ResendRefused(_("This person erased their account: nothing is sent to them any more."))
    if not compare_and_set(message, OutboxMessage.status == OutboxStatus.FAILED, status=OutboxStatus.PENDING,
                           next_attempt_at=utcnow(), attempts=0, claimed_by=None, claimed_at=None):
        raise ResendRefused(_("Only a failed message can be sent again; this one is %(status)s.",
                              status=_status_phrase(message.status)))
    record("outbox.resent", message, actor=actor, recipient=message.recipient)
    return message


def _due(limit: int) -> list[int]:
    """Messages to send now: pending and due, or claimed by a sender that died. To each
    address in the order queued: a message waits while an older one to the same address
    is still waiting (backing off after a failure, or being sent), so that "you have a
    place" never arrives before the "waiting list" email it follows."""
    now = utcnow()
    older = so.aliased(OutboxMessage)
    ids = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            sa.or_(
                sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
                sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - CLAIM_TIMEOUT),
            ),
            ~OutboxMessage.undeliverable,
            ~sa.exists().where(older.recipient == OutboxMessage.recipient, older.id < OutboxMessage.id,
                               older.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    return list(ids)


def deliver_pending(limit: int = 100) -> dict[str, int]:
    """Send due messages, each claimed first so that it leaves exactly once, in rounds:
    each round sends the oldest waiting message of each address, until a round sends
    nothing or `limit` messages were tried."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    sent_before = -1
    while limit > 0 and counts["sent"] > sent_before:
        sent_before = counts["sent"]
        ids = _due(limit)
        if not ids:
            break
        limit -= len(ids)
        _deliver(ids, counts)
    return counts


def _deliver(ids: list[int], counts: dict[str, int]) -> None:
    worker = _worker_name()
    render_pending(ids)  # queued by a request that ended before rendering them
    backend = get_backend()
    for message_id in ids:
        if not claim(message_id, worker):
            continue
        try:
            message = db.session.get_one(OutboxMessage, message_id)
            if message.render_context is not None:
                raise RuntimeError("the email could not be rendered")
            email = build_email(message)
            db.session.rollback()  # no transaction held open across the network
            backend.send(email)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            db.session.rollback()
            begin_write()
            message = db.session.get_one(OutboxMessage, message_id)
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                counts["failed"] += 1
            else:
                message.status = OutboxStatus.PENDING
                message.next_attempt_at = utcnow() + dt.timedelta(seconds=30 * 2 ** (message.attempts - 1))
                counts["retry"] += 1
            log.warning("mail %s to %s failed: %s", message.id, message.recipient, message.last_error)
        else:
            begin_write()
            message = db.session.get_one(OutboxMessage, message_id)
            message.attempts += 1
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
            counts["sent"] += 1
        db.session.commit()


def deliver_on_commit(_app: Flask) -> None:
    """Receiver of `core.writes.committed` (connected by create_app): a write that queued
    emails has them delivered after its commit, when so configured."""
    if g.pop("ponte_queued_mail", False):
        deliver_after_commit()


def deliver_after_commit() -> None:
    """Called by views after their commit. In production the scheduler process delivers
    the outbox (PONTE_DELIVER_AFTER_COMMIT off); tests and single-process setups may
    turn this on to send at once. Either way the message was committed first."""
    if current_app.config.get("PONTE_DELIVER_AFTER_COMMIT"):
        try:
            deliver_pending()
        except Exception:  # noqa: BLE001 - the message stays pending; never fail the request
            db.session.rollback()
            log.exception("delivering the outbox after commit failed")
