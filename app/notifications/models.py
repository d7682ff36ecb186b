from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.hybrid import hybrid_property

from app.core.types import UTCDateTime, enum_column, utcnow
from app.extensions import Model


class OutboxStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


# RFC 2606 reserves ".invalid": no mail can reach such an address. An erased account is
# given one (app/privacy/erasure.py), so its messages are never sent, nor sent again.
UNDELIVERABLE = ".invalid"


class OutboxMessage(Model):
    """An email waiting to leave. Queued in the caller's transaction; sent once."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # Each address's messages leave in order: "is an older one still waiting?"
        sa.Index("ix_outbox_message_recipient_id", "recipient", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    recipient_name: so.Mapped[str] = so.mapped_column(sa.String(250), default="")
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="en")
    template: so.Mapped[str] = so.mapped_column(sa.String(100))
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body_text: so.Mapped[str] = so.mapped_column(sa.Text)
    body_html: so.Mapped[str] = so.mapped_column(sa.Text)
    attachment_kind: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    attachment_ref: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(200), unique=True)
    # Set while the message waits to be rendered: the template's context as ids and plain
    # values. Queued inside a write, rendered after its commit (outside the write lock).
    render_context: so.Mapped[dict | None] = so.mapped_column(sa.JSON(none_as_null=True))
    status: so.Mapped[OutboxStatus] = so.mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING, index=True
    )
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    claimed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    sent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())

    @hybrid_property
    def undeliverable(self) -> bool:
        """Addressed to an erased account: never sent, nor sent again (also an SQL condition)."""
        return self.recipient.endswith(UNDELIVERABLE)
