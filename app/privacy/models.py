from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class DataExport(Model):
    """A person's request for a copy of their data: built in the background into a ZIP
    under the instance folder, downloadable by them for 24 hours through a link whose
    hash only is kept. One request waits at a time per person."""

    __tablename__ = "data_export"
    __table_args__ = (
        sa.Index("uq_data_export_waiting_per_user", "user_id", unique=True,
                 sqlite_where=sa.text("status IN ('queued', 'building')"),
                 postgresql_where=sa.text("status IN ('queued', 'building')")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="queued")  # queued, building, ready, failed
    token_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    path: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    size: so.Mapped[int | None] = so.mapped_column()
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    ready_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    expires_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime(), index=True)
