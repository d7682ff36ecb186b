from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class ImpactReport(Model):
    """A PDF impact report asked for on the dashboard, built by the `build_impact_reports`
    job (a large range takes a while) into the instance folder; `progress` is a percentage."""

    __tablename__ = "impact_report"
    __table_args__ = (
        # One report of a given filter and language waits at a time per person: a second
        # click (or eight at once) gets the one already queued.
        sa.Index("uq_impact_report_waiting", "requested_by_id", "language", "filters_key", unique=True,
                 sqlite_where=sa.text("status IN ('queued', 'building')"),
                 postgresql_where=sa.text("status IN ('queued', 'building')")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filters: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    filters_key: so.Mapped[str] = so.mapped_column(sa.String(64), default="")  # SHA-256 of the filters as JSON
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="en")
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="queued", index=True)  # queued, building, ready, failed
    progress: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    path: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    size: so.Mapped[int | None] = so.mapped_column()
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    ready_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
