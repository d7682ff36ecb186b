from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.catalogue.models import Course
from app.core.types import UTCDateTime, enum_column, utcnow
from app.enrolment.models import Enrolment
from app.extensions import Model


class CertificateKind(enum.Enum):
    ATTENDANCE = "attendance"
    COMPLETION = "completion"


class CertificateStatus(enum.Enum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class BatchStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Certificate(Model):
    """A snapshot taken at issue; the PDF is re-rendered from it on demand."""

    __tablename__ = "certificate"
    __table_args__ = (
        sa.UniqueConstraint("year", "number"),
        # At most one valid certificate per (enrolment, kind).
        sa.Index(
            "uq_certificate_valid_per_enrolment_kind",
            "enrolment_id",
            "kind",
            unique=True,
            sqlite_where=sa.text("status = 'valid'"),
            postgresql_where=sa.text("status = 'valid'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)  # 128 random bits, hex
    serial: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    year: so.Mapped[int] = so.mapped_column()
    number: so.Mapped[int] = so.mapped_column()
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    kind: so.Mapped[CertificateKind] = so.mapped_column(enum_column(CertificateKind, "certificate_kind"))
    status: so.Mapped[CertificateStatus] = so.mapped_column(
        enum_column(CertificateStatus, "certificate_status"), default=CertificateStatus.VALID
    )
    language: so.Mapped[str] = so.mapped_column(sa.String(5))
    snapshot: so.Mapped[dict] = so.mapped_column(sa.JSON)
    verification_code: so.Mapped[str] = so.mapped_column(sa.String(64))
    key_id: so.Mapped[str] = so.mapped_column(sa.String(16))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    issued_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    revoked_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # Set when the holder erased their account: the verify page says so, with no name,
    # and the PDF is no longer served.
    withdrawn_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    superseded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("certificate.id"))

    enrolment: so.Mapped[Enrolment] = so.relationship()
    issued_by: so.Mapped[User | None] = so.relationship()
    superseded_by: so.Mapped[Certificate | None] = so.relationship(remote_side=[id])


class SerialCounter(Model):
    """Per-year serial numbers, taken with one conditional UPDATE (no gaps, no duplicates)."""

    __tablename__ = "serial_counter"

    year: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    last_number: so.Mapped[int] = so.mapped_column(default=0)


class SignatureImage(Model):
    """An uploaded signature, re-encoded as PNG, referenced from a course's signatories."""

    __tablename__ = "signature_image"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    png: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    uploaded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class CertificateBatch(Model):
    """A bulk issue for one course, taken up outside the web request; shows progress."""

    __tablename__ = "certificate_batch"
    __table_args__ = (
        sa.CheckConstraint("done_count <= total", name="done_within_total"),
        # One open batch per course, however many clicks or admins.
        sa.Index("uq_certificate_batch_open_per_course", "course_id", unique=True,
                 sqlite_where=sa.text("status IN ('queued', 'running')"),
                 postgresql_where=sa.text("status IN ('queued', 'running')")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    status: so.Mapped[BatchStatus] = so.mapped_column(
        enum_column(BatchStatus, "batch_status"), default=BatchStatus.QUEUED, index=True
    )
    total: so.Mapped[int] = so.mapped_column(default=0)
    done_count: so.Mapped[int] = so.mapped_column(default=0)
    issued_count: so.Mapped[int] = so.mapped_column(default=0)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    started_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    # Beaten by the worker after every certificate: a running batch whose heartbeat is
    # older than two minutes lost its worker, and the scheduler takes it over.
    heartbeat_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())

    course: so.Mapped[Course] = so.relationship()
