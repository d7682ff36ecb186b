"""`flask doctor`: the invariants that compare-and-set keeps, checked read-only.

Each check is one query that returns the offending rows, so the answer names them.
The suite runs it after every concurrency test, the scheduler nightly (its outcome is
on /admin/jobs), and an operator whenever in doubt: it exits 1 naming every violation.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from app.catalogue.models import Course
from app.certificates.batches import HEARTBEAT_TIMEOUT
from app.certificates.models import BatchStatus, Certificate, CertificateBatch, CertificateStatus
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.services import CLAIM_TIMEOUT
from app.schedule.models import CourseSession, SessionSignup


class DoctorFound(Exception):
    """Raised by the nightly job when a check fails, so that the run is recorded as an
    error on /admin/jobs with every violation in its text."""


def _course_places() -> list[str]:
    holders = (sa.select(sa.func.count()).where(Enrolment.course_id == Course.id, Enrolment.status.in_(HOLDS_PLACE))
               .correlate(Course).scalar_subquery())
    rows = db.session.execute(sa.select(Course.slug, Course.seats_taken, holders).where(Course.seats_taken != holders))
    return [f"course {slug}: {taken} places counted, {held} enrolments hold one" for slug, taken, held in rows]


def _over_capacity() -> list[str]:
    holders = (sa.select(sa.func.count()).where(Enrolment.course_id == Course.id, Enrolment.status.in_(HOLDS_PLACE))
               .correlate(Course).scalar_subquery())
    rows = db.session.execute(sa.select(Course.slug, Course.capacity, holders).where(
        Course.capacity.is_not(None), sa.or_(Course.seats_taken > Course.capacity, holders > Course.capacity)))
    return [f"course {slug}: {held} people hold its {capacity} places" for slug, capacity, held in rows]


def _session_places() -> list[str]:
    signups = (sa.select(sa.func.count()).where(SessionSignup.session_id == CourseSession.id)
               .correlate(CourseSession).scalar_subquery())
    rows = db.session.execute(sa.select(CourseSession.id, CourseSession.seats_taken, CourseSession.capacity, signups)
                              .where(sa.or_(CourseSession.seats_taken != signups,
                                            sa.and_(CourseSession.capacity.is_not(None),
                                                    CourseSession.seats_taken > CourseSession.capacity))))
    return [f"session {sid}: {taken} places counted of {capacity}, {n} sign-ups" for sid, taken, capacity, n in rows]


def _one_valid_certificate() -> list[str]:
    rows = db.session.execute(
        sa.select(Certificate.enrolment_id, Certificate.kind, sa.func.count())
        .where(Certificate.status == CertificateStatus.VALID)
        .group_by(Certificate.enrolment_id, Certificate.kind).having(sa.func.count() > 1))
    return [f"enrolment {eid}: {n} valid {kind.value} certificates" for eid, kind, n in rows]


def _certificate_without_place() -> list[str]:
    rows = db.session.execute(
        sa.select(Certificate.serial, Enrolment.status).join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .where(Certificate.status == CertificateStatus.VALID, Enrolment.status.not_in(HOLDS_PLACE)))
    return [f"certificate {serial}: valid, but its enrolment is {status.value}" for serial, status in rows]


def _waitlist_contiguous() -> list[str]:
    """Positions are derived from (waitlisted_at, id), so they are contiguous exactly
    when every waiting enrolment has a time it joined the list."""
    rows = db.session.execute(sa.select(Enrolment.id, Enrolment.course_id).where(
        Enrolment.status == EnrolmentStatus.WAITLISTED, Enrolment.waitlisted_at.is_(None)))
    return [f"enrolment {eid} (course {cid}): on the waiting list with no position" for eid, cid in rows]


def _stuck_outbox(now: dt.datetime) -> list[str]:
    rows = db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.claimed_at).where(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - CLAIM_TIMEOUT))
    return [f"email {mid}: in sending since {claimed:%Y-%m-%d %H:%M} UTC, past its claim" for mid, claimed in rows]


def _dead_batches(now: dt.datetime) -> list[str]:
    rows = db.session.execute(sa.select(CertificateBatch.id, CertificateBatch.heartbeat_at).where(
        CertificateBatch.status == BatchStatus.RUNNING,
        sa.or_(CertificateBatch.heartbeat_at.is_(None), CertificateBatch.heartbeat_at < now - HEARTBEAT_TIMEOUT)))
    return [f"certificate batch {bid}: running with no live heartbeat" for bid, _beat in rows]


CHECKS: dict[str, Callable[[dt.datetime], list[str]]] = {
    "places counted = enrolments holding one": lambda now: _course_places(),
    "no course over capacity": lambda now: _over_capacity(),
    "session places counted = sign-ups": lambda now: _session_places(),
    "at most one valid certificate per enrolment and kind": lambda now: _one_valid_certificate(),
    "no valid certificate without a place": lambda now: _certificate_without_place(),
    "waiting-list positions contiguous": lambda now: _waitlist_contiguous(),
    "no email in sending past its claim": _stuck_outbox,
    "no bulk issue running without a live heartbeat": _dead_batches,
}


def examine(now: dt.datetime | None = None) -> dict[str, list[str]]:
    """Every check by name → its violations (empty when it holds). Reads only."""
    now = now or utcnow()
    return {name: check(now) for name, check in CHECKS.items()}


def violations(now: dt.datetime | None = None) -> list[str]:
    return [problem for problems in examine(now).values() for problem in problems]


def nightly() -> dict[str, int]:
    """Scheduler job: clean → counts for the jobs page; violations → an error run."""
    problems = violations()
    db.session.rollback()
    if problems:
        raise DoctorFound(f"{len(problems)} invariant(s) broken:\n" + "\n".join(problems))
    return {"checks": len(CHECKS), "violations": 0}
