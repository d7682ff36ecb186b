"""A copy of everything Ponte holds about a person (GDPR art. 15 and 20, PIPL art. 45).

The person asks at /auth/export; the scheduler's `build_exports` job writes a ZIP with
`ponte-data.json` (profile, consents, enrolments and their history, attendance, session
places, certificates, emails, login sessions, audit events about or by them) and the PDF
of each certificate, then emails a link that works for 24 hours, for them only."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import zipfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from app.accounts.models import LoginSession, User
from app.audit.models import AuditEvent
from app.audit.services import record
from app.catalogue.models import Course
from app.certificates.models import Certificate
from app.certificates.services import pdf_bytes
from app.core.cas import compare_and_set
from app.core.errors import Conflict
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.notifications.services import queue_email
from app.privacy.models import DataExport
from app.schedule.models import CourseSession, SessionDecline, SessionSignup
from app.teaching.models import Attendance

log = logging.getLogger(__name__)
VALID_FOR = dt.timedelta(hours=24)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def export_dir() -> Path:
    folder = Path(current_app.config["PONTE_EXPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def request_export(user: User) -> DataExport:
    """Queue a copy; a second request while one waits is told so (the unique index decides)."""
    export = DataExport(user_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(export)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("Your copy is already being prepared; we will email you when it is ready.")) from None
    record("privacy.export_requested", user, actor=user)
    return export


def latest_export(user_id: int) -> DataExport | None:
    return db.session.scalar(sa.select(DataExport).where(DataExport.user_id == user_id).order_by(DataExport.id.desc()))


def ready_export(token: str, user_id: int, now: dt.datetime | None = None) -> DataExport | None:
    """The person's ready export that `token` opens, while it is valid; else None."""
    if not token or len(token) > 100:
        return None
    export = db.session.scalar(sa.select(DataExport).where(DataExport.token_hash == _hash(token)))
    if export is None or export.user_id != user_id or export.status != "ready":
        return None
    if export.expires_at is None or export.expires_at <= (now or utcnow()) or not export.path:
        return None
    return export


def build_pending_exports(now: dt.datetime | None = None) -> dict[str, int]:
    """The job: build every waiting export, each claimed by a compare-and-set."""
    built = failed = 0
    for export_id in db.session.scalars(sa.select(DataExport.id).where(DataExport.status == "queued")).all():
        export = db.session.get_one(DataExport, export_id)
        if not compare_and_set(export, DataExport.status == "queued", status="building"):
            db.session.commit()
            continue
        db.session.commit()
        try:
            token = _build(export, now or utcnow())
        except Exception as error:  # noqa: BLE001 - one person's copy must not stop the others
            db.session.rollback()
            log.exception("data export %s failed", export_id)
            compare_and_set(db.session.get(DataExport, export_id), DataExport.status == "building", status="failed",
                            error=str(error)[:500])
            db.session.commit()
            failed += 1
            continue
        user = db.session.get_one(User, export.user_id)
        queue_email(user, "data_export_ready", token=token, hours=int(VALID_FOR.total_seconds() // 3600))
        db.session.commit()
        built += 1
    return {"built": built, "failed": failed}


def _build(export: DataExport, now: dt.datetime) -> str:
    user = db.session.get_one(User, export.user_id)
    token = secrets.token_urlsafe(32)
    path = export_dir() / f"{export.id}-{secrets.token_hex(8)}.zip"
    data, certificates = person_data(user, now)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ponte-data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        archive.writestr("README.txt", _readme(data))
        for certificate in certificates:
            archive.writestr(f"certificates/{certificate.serial}.pdf", pdf_bytes(certificate))
    compare_and_set(export, DataExport.status == "building", status="ready", token_hash=_hash(token), path=str(path),
                    size=path.stat().st_size, ready_at=now, expires_at=now + VALID_FOR)
    return token


def _readme(data: dict) -> str:
    return ("Ponte: a copy of the data kept about you\n\n"
            f"Made on {data['generated_at']} (UTC).\n"
            "ponte-data.json holds every record, in sections; certificates/ holds the PDF of each certificate.\n")


def _iso(value) -> str | None:  # noqa: ANN001
    return value.isoformat() if value is not None else None


def person_data(user: User, now: dt.datetime) -> tuple[dict, list[Certificate]]:
    """Everything about `user`, as plain JSON, and their certificates (for the PDFs)."""
    enrolments = db.session.scalars(sa.select(Enrolment).where(Enrolment.user_id == user.id)
                                    .options(so.joinedload(Enrolment.course)).order_by(Enrolment.id)).all()
    enrolment_ids = [e.id for e in enrolments]
    history: dict[int, list] = {}
    for event in db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.object_type == "enrolment", AuditEvent.object_id.in_(enrolment_ids)).order_by(AuditEvent.id)):
        history.setdefault(event.object_id or 0, []).append({"at": _iso(event.created_at), "action": event.action})
    attendance = db.session.execute(
        sa.select(Attendance, CourseSession, Course).join(CourseSession, CourseSession.id == Attendance.session_id)
        .join(Course, Course.id == CourseSession.course_id).where(Attendance.enrolment_id.in_(enrolment_ids))
        .order_by(CourseSession.starts_at)).all()
    places = db.session.execute(
        sa.select(SessionSignup, CourseSession).join(CourseSession, CourseSession.id == SessionSignup.session_id)
        .where(SessionSignup.enrolment_id.in_(enrolment_ids))).all()
    declines = db.session.execute(
        sa.select(SessionDecline, CourseSession).join(CourseSession, CourseSession.id == SessionDecline.session_id)
        .where(SessionDecline.enrolment_id.in_(enrolment_ids))).all()
    certificates = db.session.scalars(sa.select(Certificate).where(Certificate.enrolment_id.in_(enrolment_ids))
                                      .order_by(Certificate.id)).all()
    emails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.user_id == user.id)
                                .order_by(OutboxMessage.id)).all()
    logins = db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)
                                .order_by(LoginSession.id)).all()
    events = db.session.scalars(sa.select(AuditEvent).where(sa.or_(
        AuditEvent.actor_id == user.id, sa.and_(AuditEvent.object_type == "user", AuditEvent.object_id == user.id)))
        .order_by(AuditEvent.id)).all()
    data = {
        "generated_at": _iso(now),
        "profile": {
            "email": user.email, "full_name": user.full_name, "native_name": user.native_name,
            "organisation": user.organisation,
            "organisation_type": user.organisation_type.value if user.organisation_type else None,
            "country": user.country, "language": user.locale, "time_zone": user.timezone, "role": user.role.value,
            "account_created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
            "email_confirmed_at": _iso(user.email_verified_at), "two_factor_sign_in": user.has_two_factor,
            "city": user.city, "gender": user.gender.value if user.gender else None,
            "sector": user.sector.value if user.sector else None, "job_role": user.job_role,
        },
        "consents": {
            "privacy_notice": {"at": _iso(user.privacy_consent_at), "version": user.privacy_version},
            "transfer_to_italy": {"at": _iso(user.transfer_consent_at), "version": user.transfer_version},
        },
        "enrolments": [{
            "activity": e.course.title, "activity_address": e.course.slug, "starts_on": _iso(e.course.starts_on),
            "ends_on": _iso(e.course.ends_on), "status": e.status.value, "motivation": e.motivation,
            "answers": e.answers, "waitlisted_at": _iso(e.waitlisted_at), "decision_reason": e.decision_reason,
            "decided_at": _iso(e.decided_at), "completion_passed": e.completion_passed,
            "completion_note": e.completion_note, "created_at": _iso(e.created_at), "history": history.get(e.id, []),
        } for e in enrolments],
        "attendance": [{
            "activity": course.title, "session": session.title, "starts_at": _iso(session.starts_at),
            "status": a.status.value, "method": a.method.value, "note": a.note, "recorded_at": _iso(a.recorded_at),
        } for a, session, course in attendance],
        "session_places": [{"session": s.title, "starts_at": _iso(s.starts_at), "booked_at": _iso(p.created_at)}
                           for p, s in places],
        "sessions_declined": [{"session": s.title, "starts_at": _iso(s.starts_at)} for _d, s in declines],
        "certificates": [{
            "serial": c.serial, "kind": c.kind.value, "status": c.status.value, "language": c.language,
            "issued_at": _iso(c.issued_at), "revoked_at": _iso(c.revoked_at), "revoked_reason": c.revoked_reason,
            "file": f"certificates/{c.serial}.pdf",
        } for c in certificates],
        "emails": [{"queued_at": _iso(m.created_at), "sent_at": _iso(m.sent_at), "subject": m.subject,
                    "kind": m.template, "status": m.status.value} for m in emails],
        "login_sessions": [{"started_at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at),
                            "ended_at": _iso(s.revoked_at), "network_address": s.ip, "browser": s.user_agent}
                           for s in logins],
        # an event about them made by someone else keeps that person's address out of the copy
        "audit_events": [{"at": _iso(e.created_at), "action": e.action, "by_you": e.actor_id == user.id,
                          "object": e.object_type, "details": e.details,
                          "network_address": e.ip if e.actor_id == user.id else None} for e in events],
        "survey_answers": _survey_answers(enrolment_ids, user.locale),
    }
    return data, list(certificates)


def _survey_answers(enrolment_ids: list[int], lang: str) -> list[dict]:
    """The person's own survey responses, question by question, in their language."""
    from app.feedback.models import SurveyResponse
    from app.feedback.services import text_of

    responses = db.session.scalars(
        sa.select(SurveyResponse).where(SurveyResponse.enrolment_id.in_(enrolment_ids))
        .options(so.joinedload(SurveyResponse.survey), so.selectinload(SurveyResponse.answers))
        .order_by(SurveyResponse.id)).all()
    out = []
    for r in responses:
        answers = []
        for a in sorted(r.answers, key=lambda a: (a.question.position, a.question_id)):
            q = a.question
            chosen = {c["value"]: text_of(c, lang) for c in q.choices}
            value: Any
            if a.number is not None:
                value = a.number
            elif a.choices is not None:
                value = [chosen.get(v, v) for v in a.choices]
            else:
                value = chosen.get(a.text, a.text) if q.choices else a.text
            answers.append({"question": text_of(q.text, lang), "answer": value})
        out.append({"activity": r.survey.course.title, "submitted_at": _iso(r.submitted_at), "language": r.language,
                    "answers": answers})
    return out


def remove_expired_exports(now: dt.datetime) -> int:
    """Delete export files and rows 24 hours after they were ready (retention)."""
    removed = 0
    for export in db.session.scalars(sa.select(DataExport).where(
            sa.or_(DataExport.expires_at < now, sa.and_(DataExport.status == "failed",
                                                        DataExport.requested_at < now - VALID_FOR)))).all():
        if export.path:
            Path(export.path).unlink(missing_ok=True)
        db.session.delete(export)
        removed += 1
    db.session.flush()
    return removed

