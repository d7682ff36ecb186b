from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.core.types import UTCDateTime, enum_column, utcnow
from app.extensions import Model


class JobOutcome(enum.Enum):
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"


class JobRun(Model):
    __tablename__ = "job_run"
    __table_args__ = (
        # Runs pile up every minute for years: the latest run of each job, and recent failures,
        # are read through these, never by scanning the history.
        sa.Index("ix_job_run_job_id_id", "job_id", "id"),
        sa.Index("ix_job_run_outcome_started_at", "outcome", "started_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job_id: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    started_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    outcome: so.Mapped[JobOutcome] = so.mapped_column(enum_column(JobOutcome, "job_outcome"), default=JobOutcome.RUNNING)
    counts: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    host: so.Mapped[str | None] = so.mapped_column(sa.String(100))


class JobRequest(Model):
    """'Run this job now', asked from the web and taken up by the scheduler process."""

    __tablename__ = "job_request"
    __table_args__ = (
        # One waiting request per job: a second click finds the first.
        sa.Index("uq_job_request_waiting_per_job", "job_id", unique=True,
                 sqlite_where=sa.text("taken_at IS NULL"), postgresql_where=sa.text("taken_at IS NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job_id: so.Mapped[str] = so.mapped_column(sa.String(60))
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    taken_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime(), index=True)
