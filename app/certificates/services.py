"""Certificate rules: eligibility, issue (one or in bulk), revocation, re-issue, verification.
Nothing here commits, except `run_batch`, which is the background worker's own transaction."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.models import Course
from app.certificates.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    SerialCounter,
    SignatureImage,
)
from app.certificates.render import render_certificate
from app.certificates.verify import signing_key_id, verification_code
from app.core.cas import compare_and_set
from app.core.errors import Conflict, DomainError, NotFound
from app.core.labels import label
from app.core.numbers import decimal, percent
from app.core.timezones import local_date
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.extensions import db
from app.notifications.services import queue_email
from app.teaching.services import Progress, progress_for

log = logging.getLogger(__name__)
K = CertificateKind


class CertificateError(DomainError):
    pass


class NothingToIssue(CertificateError):
    """A bulk issue with nobody left to issue to: said at once, no batch started."""


# --- eligibility --------------------------------------------------------------------------

@dataclass
class Eligibility:
    kinds: list[CertificateKind] = field(default_factory=list)
    reasons: dict[CertificateKind, list[str]] = field(default_factory=dict)
    progress: Progress | None = None


def eligibility(course: Course | None, enrolments: Sequence[Enrolment], now: dt.datetime | None = None,
                progress: dict[int, Progress] | None = None) -> dict[int, Eligibility]:
    """Which kinds each enrolment qualifies for and, where not, why. Two queries in all,
    also across several courses (pass course=None: each enrolment's own course counts);
    none when the caller passes the `progress` it has already computed for them."""
    if progress is None or not all(e.id in progress for e in enrolments):
        progress = progress_for(course, enrolments, now)
    result = {}
    for e in enrolments:
        course = e.course
        p = progress[e.id]
        el = Eligibility(progress=p)
        if course.offers_attendance_certificate:
            why = []
            if not e.holds_place:
                why.append(_("No place in the course."))
            elif p.attended_hours <= 0:
                why.append(_("No session attended."))
            _decide(el, K.ATTENDANCE, why)
        if course.offers_completion_certificate:
            _decide(el, K.COMPLETION, completion_shortfalls(e, p))
        result[e.id] = el
    return result


def completion_shortfalls(enrolment: Enrolment, p: Progress) -> list[str]:
    """Why the enrolment has not completed its course (empty: it has). The one
    completion rule: passed, enough attendance, no mandatory session missed. The
    certificate of completion and the end-of-course congratulation both follow it."""
    course = enrolment.course
    why = []
    if enrolment.status is not EnrolmentStatus.COMPLETED:
        why.append(_("Completion not recorded as passed."))
    if p.rate is None or p.rate < course.min_attendance_rate:
        needed = course.min_attendance_rate * p.held_hours / 100
        missing = max(needed - p.attended_hours, 0)
        why.append(_("Attendance %(rate)s of %(min)s needed (%(hours)s hours missing).",
                     rate=percent(p.rate), min=percent(course.min_attendance_rate), hours=decimal(missing)))
    for s in p.mandatory_missed:
        why.append(_("Missed the mandatory session “%(title)s”.", title=s.title))
    return why


def _decide(el: Eligibility, kind: CertificateKind, why: list[str]) -> None:
    if why:
        el.reasons[kind] = why
    else:
        el.kinds.append(kind)


def _next_serial(year: int) -> int:
    """Per-year numbers from one conditional UPDATE … RETURNING; no gaps, no duplicates."""
    for _attempt in range(3):
        number = db.session.scalar(
            sa.update(SerialCounter).where(SerialCounter.year == year)
            .values(last_number=SerialCounter.last_number + 1).returning(SerialCounter.last_number))
        if number is not None:
            return number
        try:
            with db.session.begin_nested():
                db.session.add(SerialCounter(year=year, last_number=0))
                db.session.flush()
        except sa.exc.IntegrityError:
            pass  # someone else created this year's counter: update it
    raise RuntimeError("could not take a serial number")


def build_snapshot(enrolment: Enrolment, kind: CertificateKind, progress: Progress, *, language: str | None,
                   public_id: str, serial: str, issued_at: dt.datetime, issuer: User | None) -> dict:
    course, user = enrolment.course, enrolment.user
    return {
        "kind": kind.value,
        "language": language if language in ("en", "it", "zh") else (user.locale or "en"),
        "holder_name": user.full_name,
        "holder_native_name": user.native_name or "",
        "organisation": current_app.config["PONTE_ORGANISATION"],
        "course_title": course.title,
        "course_kind": course.kind.value,
        "course_slug": course.slug,
        "place": "" if course.is_online else (course.city or (course.venue.city if course.venue else "")),
        "online": course.is_online,
        "timezone": course.timezone,
        "starts_on": course.starts_on.isoformat(),
        "ends_on": course.ends_on.isoformat(),
        "hours": round(progress.attended_hours, 2),
        "held_hours": round(progress.held_hours, 2),
        "attendance_rate": progress.rate,
        "signatories": list(course.signatories or []),
        "issuer": issuer.full_name if issuer else "",
        # The day of issue where the course is held: what /me and the verify page say too.
        "issued_on": local_date(issued_at, course.timezone).isoformat(),
        "serial": serial,
        "public_id": public_id,
        "verify_url": current_app.config["PONTE_BASE_URL"].rstrip("/") + f"/verify/{public_id}",
    }


def signature_images(snapshot: dict) -> dict[str, bytes]:
    shas = [s.get("image_sha256") for s in snapshot.get("signatories") or [] if s.get("image_sha256")]
    if not shas:
        return {}
    return {row.sha256: row.png for row in db.session.scalars(sa.select(SignatureImage).where(SignatureImage.sha256.in_(shas)))}


def pdf_bytes(certificate: Certificate) -> bytes:
    """The PDF, rendered again from the snapshot; a revoked certificate comes stamped
    "REVOKED" with its date (in the course's zone) and reason, never looking valid."""
    revoked = None
    if certificate.status is CertificateStatus.REVOKED and certificate.revoked_at is not None:
        revoked = {"on": local_date(certificate.revoked_at, certificate.snapshot.get("timezone") or "UTC").isoformat(),
                   "reason": certificate.revoked_reason or ""}
    return render_certificate(certificate.snapshot, signature_images(certificate.snapshot),
                              current_app.config.get("PONTE_CERT_FONT"), revoked=revoked)


# --- issuing ----------------------------------------------------------------------------------

def valid_certificate(enrolment_id: int, kind: CertificateKind) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).where(
        Certificate.enrolment_id == enrolment_id, Certificate.kind == kind, Certificate.status == CertificateStatus.VALID))


def issue(enrolment: Enrolment, kind: CertificateKind, issuer: User | None, *, language: str | None = None,
          progress: Progress | None = None, supersedes: Certificate | None = None, email: bool = True) -> Certificate:
    """Issue one certificate if the enrolment qualifies; at most one valid per (enrolment, kind)."""
    if enrolment.user.is_erased:
        raise CertificateError(_("This person erased their account: no certificate can be issued."))
    course = enrolment.course
    if progress is None:
        el = eligibility(course, [enrolment])[enrolment.id]
        if kind not in el.kinds:
            raise CertificateError(" ".join(el.reasons.get(kind, [_("This kind of certificate is not offered.")])))
        if el.progress is None:
            raise CertificateError(_("This kind of certificate is not offered."))
        progress = el.progress
    if supersedes is None and valid_certificate(enrolment.id, kind) is not None:
        raise Conflict(_("A valid certificate of this kind already exists."))
    now = utcnow()
    year = local_date(now, course.timezone).year  # the serial's year is the course's, not UTC's
    number = _next_serial(year)
    public_id = secrets.token_hex(16)
    serial = f"PONTE-{year}-{number:06d}"
    snapshot = build_snapshot(enrolment, kind, progress, language=language, public_id=public_id, serial=serial,
                              issued_at=now, issuer=issuer)
    key_id = signing_key_id()
    snapshot["verification_code"] = verification_code(snapshot, key_id)
    certificate = Certificate(
        public_id=public_id, serial=serial, year=year, number=number, enrolment_id=enrolment.id, kind=kind,
        language=snapshot["language"], snapshot=snapshot, verification_code=snapshot["verification_code"], key_id=key_id,
        sha256="", issued_at=now, issued_by_id=issuer.id if issuer else None,
    )
    if supersedes is not None and not compare_and_set(
            supersedes, Certificate.status == CertificateStatus.VALID, status=CertificateStatus.SUPERSEDED):
        raise Conflict(_("This certificate has just been %(status)s; nothing was issued.",
                         status=label(supersedes.status)))
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("A valid certificate of this kind already exists.")) from None
    certificate.sha256 = hashlib.sha256(pdf_bytes(certificate)).hexdigest()
    if supersedes is not None:
        compare_and_set(supersedes, Certificate.superseded_by_id.is_(None), superseded_by_id=certificate.id)
    db.session.flush()
    record("certificate.issued", certificate, actor=issuer, serial=serial, kind=kind.value,
           enrolment=enrolment.id, supersedes=supersedes.id if supersedes else None)
    if email:
        queue_email(enrolment.user, "certificate_issued", certificate=certificate, course=course,
                    attachment=("certificate", public_id), dedupe_key=f"certificate-issued:{public_id}")
    return certificate


def due_certificates(course: Course) -> tuple[list[tuple[Enrolment, CertificateKind]], dict[int, Eligibility]]:
    """What "Issue all eligible" would issue: each (enrolment, kind) that qualifies and has
    no valid certificate — nor a revoked one, which is never issued again behind the
    admin's back (only an explicit issue or re-issue does that)."""
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE))
        .options(so.joinedload(Enrolment.user)).order_by(Enrolment.id)).all()
    existing = set(db.session.execute(sa.select(Certificate.enrolment_id, Certificate.kind).where(
        Certificate.enrolment_id.in_([e.id for e in enrolments] or [0]),
        Certificate.status.in_((CertificateStatus.VALID, CertificateStatus.REVOKED)))).all())
    table = eligibility(course, enrolments)
    return [(e, k) for e in enrolments for k in table[e.id].kinds
            if (e.id, k) not in existing and not e.user.is_erased], table


def issue_all(course: Course, issuer: User | None, *, on_progress=None) -> tuple[int, int]:  # noqa: ANN001
    """Issue every certificate the course's enrolments qualify for and lack. Idempotent.
    Returns (issued, considered). `on_progress(done, total)` is called along the way."""
    todo, table = due_certificates(course)
    issued = 0
    for i, (e, kind) in enumerate(todo, start=1):
        try:
            with db.session.begin_nested():
                issue(e, kind, issuer, progress=table[e.id].progress)
            issued += 1
        except Conflict:
            pass  # issued meanwhile by another run: idempotent
        if on_progress:
            on_progress(i, len(todo))
    return issued, len(todo)


# --- life cycle -------------------------------------------------------------------------------

def revoke(certificate: Certificate, reason: str, actor: User) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("Please give a reason; it is shown on the verification page."), field="reason")
    if certificate.status is not CertificateStatus.VALID or not compare_and_set(
            certificate, Certificate.status == CertificateStatus.VALID,
            status=CertificateStatus.REVOKED, revoked_at=utcnow(), revoked_reason=reason[:2000]):
        raise Conflict(_("Only a valid certificate can be revoked; this one is %(status)s.",
                         status=label(certificate.status)))
    record("certificate.revoked", certificate, actor=actor, reason=reason, serial=certificate.serial)
    queue_email(certificate.enrolment.user, "certificate_revoked", certificate=certificate,
                course=certificate.enrolment.course, reason=reason)


def reissue(certificate: Certificate, actor: User, *, language: str | None = None) -> Certificate:
    """Issue again from today's data (a corrected name, say); the new one supersedes the old."""
    if certificate.status is not CertificateStatus.VALID:
        raise Conflict(_("Only a valid certificate can be re-issued; this one is %(status)s.",
                         status=label(certificate.status)))
    enrolment = certificate.enrolment
    progress = progress_for(enrolment.course, [enrolment])[enrolment.id]
    return issue(enrolment, certificate.kind, actor, language=language or certificate.language, progress=progress,
                 supersedes=certificate)


def certificate_attachment(public_id: str) -> tuple[str, bytes, str, str]:
    """The certificate's PDF attached to its email (registered by create_app)."""
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.public_id == public_id))
    if certificate is None:
        raise NotFound("certificate gone")
    return f"{certificate.serial}.pdf", pdf_bytes(certificate), "application", "pdf"
