"""Issuing every eligible certificate of a course as a background batch: one batch per
course at a time, claimed with a compare-and-set, a heartbeat so that the scheduler takes
over a batch whose thread died with its process."""
from __future__ import annotations

import datetime as dt
import logging
import threading

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.models import Course
from app.certificates.models import (
    BatchStatus,
    CertificateBatch,
)
from app.certificates.services import NothingToIssue, due_certificates, issue_all
from app.core.cas import changed_rows
from app.core.db import begin_write, writer_transactions
from app.core.types import utcnow
from app.extensions import db
from app.notifications.services import deliver_after_commit

log = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT = dt.timedelta(minutes=2)


def start_batch(course: Course, actor: User) -> CertificateBatch:
    """Queue a bulk issue for the background; an unfinished one for the course is reused
    (a partial unique index lets only one be open per course, however many clicks)."""
    open_batch = _open_batch(course.id)
    if open_batch is not None:
        return open_batch
    if not due_certificates(course)[0]:
        raise NothingToIssue(_("Everyone eligible already has a certificate."))
    batch = CertificateBatch(course_id=course.id, requested_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(batch)
            db.session.flush()
    except sa.exc.IntegrityError:  # a twin request queued one first
        existing = _open_batch(course.id)
        if existing is None:  # …and it has finished already
            raise NothingToIssue(_("Everyone eligible already has a certificate.")) from None
        return existing
    record("certificate.batch_requested", course, actor=actor, batch=batch.id)
    return batch


def _open_batch(course_id: int) -> CertificateBatch | None:
    return db.session.scalar(sa.select(CertificateBatch).where(
        CertificateBatch.course_id == course_id, CertificateBatch.status.in_((BatchStatus.QUEUED, BatchStatus.RUNNING))))


def _claim_batch(batch_id: int, now: dt.datetime) -> bool:
    """Take a queued batch, or a running one whose worker stopped beating (its process
    died): one conditional UPDATE, so exactly one worker gets it."""
    return changed_rows(
        sa.update(CertificateBatch).where(
            CertificateBatch.id == batch_id,
            sa.or_(CertificateBatch.status == BatchStatus.QUEUED,
                   sa.and_(CertificateBatch.status == BatchStatus.RUNNING,
                           CertificateBatch.heartbeat_at < now - HEARTBEAT_TIMEOUT)))
        .values(status=BatchStatus.RUNNING, started_at=sa.func.coalesce(CertificateBatch.started_at, now),
                heartbeat_at=now)) == 1


def run_batch(batch_id: int) -> bool:
    """Take one batch (see `_claim_batch`) and run it, committing progress and a
    heartbeat as it goes. Returns False when someone else has it."""
    claimed = _claim_batch(batch_id, utcnow())
    db.session.commit()
    if not claimed:
        return False
    begin_write()
    batch = db.session.get_one(CertificateBatch, batch_id)
    issuer = db.session.get_one(User, batch.requested_by_id) if batch.requested_by_id else None

    def progress(done: int, total: int) -> None:
        db.session.execute(sa.update(CertificateBatch).where(CertificateBatch.id == batch_id)
                           .values(done_count=done, total=total, heartbeat_at=utcnow()))
        db.session.commit()  # each certificate committed with its progress: a crash loses nothing done
        begin_write()

    try:
        issued, total = issue_all(batch.course, issuer, on_progress=progress)
    except Exception as exc:  # noqa: BLE001 - recorded on the batch for the admin to see
        db.session.rollback()
        log.exception("certificate batch %s failed", batch_id)
        db.session.execute(sa.update(CertificateBatch).where(CertificateBatch.id == batch_id).values(
            status=BatchStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow()))
    else:
        db.session.execute(sa.update(CertificateBatch).where(CertificateBatch.id == batch_id).values(
            # A resumed batch adds what it issued to what the dead worker had issued.
            status=BatchStatus.DONE, issued_count=CertificateBatch.issued_count + issued, total=total,
            done_count=total, finished_at=utcnow()))
    db.session.commit()
    return True


def run_batch_in_thread(app, batch_id: int) -> threading.Thread:  # noqa: ANN001
    """Run a batch outside the request that asked for it (the scheduler also picks up
    any queued batch, and takes over one whose thread died with its process)."""

    def work() -> None:
        with app.app_context(), writer_transactions():
            try:
                # A second click finds the batch taken: it runs nothing and delivers
                # nothing (the thread running it sends its emails).
                if run_batch(batch_id):
                    deliver_after_commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"certificate-batch-{batch_id}", daemon=True)
    thread.start()
    return thread


def run_queued_batches(now: dt.datetime | None = None) -> dict[str, int]:
    """Scheduler job: run batches nobody has taken, and resume those whose worker died."""
    now = now or utcnow()
    ids = db.session.scalars(sa.select(CertificateBatch.id).where(sa.or_(
        CertificateBatch.status == BatchStatus.QUEUED,
        sa.and_(CertificateBatch.status == BatchStatus.RUNNING,
                CertificateBatch.heartbeat_at < now - HEARTBEAT_TIMEOUT)))).all()
    db.session.commit()
    return {"batches": sum(1 for batch_id in ids if run_batch(batch_id))}
