"""Certificates: verification (public), download (holder and staff), and the admin's
eligibility, issue, bulk issue with progress, ZIP, revocation and re-issue."""
from __future__ import annotations

import zipfile

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import admin_required
from app.catalogue.models import Course
from app.certificates import services
from app.certificates.batches import run_batch_in_thread, start_batch
from app.certificates.course_settings import SignatoryEntry, save_settings
from app.certificates.forms import CertificateSettingsForm, IssueForm, RevokeForm, VerifyForm
from app.certificates.models import Certificate, CertificateBatch, CertificateKind, CertificateStatus, SignatureImage
from app.certificates.verify import intact, verify_by_code
from app.core.db import begin_write
from app.core.writes import write
from app.enrolment.forms import ConfirmForm
from app.enrolment.models import HOLDS_PLACE, Enrolment
from app.extensions import csrf, db, limiter
from app.teaching.access import in_scope, staff_cohort, staff_role

bp = Blueprint("certificates", __name__)


# --- public verification -----------------------------------------------------------------

@bp.route("/verify", methods=["GET", "POST"])
@csrf.exempt  # deliberately: it changes nothing and must work for anyone, signed in or not, from a cached page
@limiter.limit("30 per minute;300 per hour", methods=["POST"])
def verify_form():
    form = VerifyForm(request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not form.validate():
            status = 400  # the field says what is wrong
        else:
            certificate = verify_by_code(form.serial.data, form.code.data)
            if certificate is not None:
                return redirect(url_for("certificates.verify", public_id=certificate.public_id))
            flash(_("No certificate matches this serial and code. Check both and try again."), "danger")
            status = 404
    return render_template("certificates/verify_form.html", form=form), status


@bp.route("/verify/<public_id>")
@limiter.limit("60 per minute")
def verify(public_id: str):
    certificate = _by_public_id(public_id)
    if certificate is None:
        return render_template("certificates/verify_unknown.html"), 404
    return render_template("certificates/verify.html", c=certificate, s=certificate.snapshot,
                           intact=intact(certificate))


def _by_public_id(public_id: str) -> Certificate | None:
    if len(public_id) != 32 or not all(ch in "0123456789abcdef" for ch in public_id):
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.public_id == public_id)
                             .options(so.joinedload(Certificate.superseded_by)))


# --- download ----------------------------------------------------------------------------

def _can_download(certificate: Certificate) -> bool:
    if not current_user.is_authenticated:
        return False
    enrolment = certificate.enrolment
    if current_user.is_admin or enrolment.user_id == current_user.id:
        return True
    # Course staff, within their cohort when they are bound to one.
    return (staff_role(enrolment.course_id, current_user) is not None
            and in_scope(enrolment.cohort_id, staff_cohort(enrolment.course_id, current_user)))


@bp.route("/certificates/<public_id>.pdf")
def download(public_id: str):
    certificate = _by_public_id(public_id)
    if certificate is None or certificate.withdrawn_at is not None or not _can_download(certificate):
        abort(404)  # withdrawn: the holder erased their account
    return Response(services.pdf_bytes(certificate), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{certificate.serial}.pdf"', "Cache-Control": "private, no-store"})


# --- admin: a course's certificates ---------------------------------------------------------

def _course(course_id: int) -> Course:
    return db.get_or_404(Course, course_id)


@bp.route("/admin/courses/<int:course_id>/certificates")
@admin_required
def course_certificates(course_id: int):
    course = _course(course_id)
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE))
        .options(so.joinedload(Enrolment.user)).order_by(Enrolment.id)).all()
    certificates = db.session.scalars(sa.select(Certificate).where(
        Certificate.enrolment_id.in_([e.id for e in enrolments] or [0])).order_by(Certificate.id)).all()
    by_enrolment: dict[int, list[Certificate]] = {}
    for c in certificates:
        by_enrolment.setdefault(c.enrolment_id, []).append(c)
    batch = db.session.scalar(sa.select(CertificateBatch).where(CertificateBatch.course_id == course.id)
                              .order_by(CertificateBatch.id.desc()).limit(1))
    return render_template("certificates/course.html", course=course, enrolments=enrolments,
                           eligibility=services.eligibility(course, enrolments), by_enrolment=by_enrolment,
                           batch=batch, confirm_form=ConfirmForm(),
                           issued={(c.enrolment_id, c.kind) for c in certificates if c.status is CertificateStatus.VALID}, issue_form=IssueForm(), revoke_form=RevokeForm())


@bp.route("/admin/courses/<int:course_id>/certificates/issue", methods=["POST"])
@admin_required
def issue_one(course_id: int):
    course = _course(course_id)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    begin_write()
    enrolment = db.session.get(Enrolment, form.enrolment_id.data)
    if enrolment is None or enrolment.course_id != course.id:
        abort(404)
    with write() as outcome:
        certificate = services.issue(enrolment, CertificateKind(form.kind.data), current_user, language=form.language.data or None)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return course_certificates(course_id), outcome.error.status_code
    flash(_("Certificate %(serial)s issued and emailed.", serial=certificate.serial), "success")
    return redirect(url_for("certificates.course_certificates", course_id=course_id))


@bp.route("/admin/courses/<int:course_id>/certificates/bulk", methods=["POST"])
@admin_required
def issue_bulk(course_id: int):
    course = _course(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        batch = start_batch(course, current_user)
    except services.NothingToIssue as nothing:
        db.session.rollback()
        flash(nothing.message, "info")
        return redirect(url_for("certificates.course_certificates", course_id=course_id))
    db.session.commit()
    if current_app.config.get("PONTE_BATCH_IN_THREAD", True):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        run_batch_in_thread(app, batch.id)
    flash(_("Issuing certificates in the background; you can follow the progress here."), "info")
    return redirect(url_for("certificates.course_certificates", course_id=course_id))


@bp.route("/admin/certificate-batches/<int:batch_id>.json")
@admin_required
def batch_progress(batch_id: int):
    batch = db.get_or_404(CertificateBatch, batch_id)
    return jsonify(status=batch.status.value, total=batch.total, done=batch.done_count, issued=batch.issued_count,
                   error=batch.error)


@bp.route("/admin/courses/<int:course_id>/certificates.zip")
@admin_required
def download_zip(course_id: int):
    course = _course(course_id)
    ids = db.session.scalars(
        sa.select(Certificate.id).join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .where(Enrolment.course_id == course.id, Certificate.status == CertificateStatus.VALID).order_by(Certificate.id)).all()
    if not ids:
        flash(_("No valid certificates to download yet."), "info")
        return redirect(url_for("certificates.course_certificates", course_id=course_id))

    def generate():  # noqa: ANN202
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
            for certificate_id in ids:  # one PDF in memory at a time
                certificate = db.session.get(Certificate, certificate_id)
                archive.writestr(f"{certificate.serial}.pdf", services.pdf_bytes(certificate))
                db.session.expunge(certificate)
                yield sink.take()
        yield sink.take()

    return Response(stream_with_context(generate()), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{course.slug}-certificates.zip"'})


class _Sink:
    """A write-only stream for zipfile that hands back what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _certificate_for_admin(public_id: str) -> Certificate:
    certificate = _by_public_id(public_id)
    if certificate is None:
        abort(404)
    return certificate


@bp.route("/admin/certificates/<public_id>/revoke", methods=["POST"])
@admin_required
def revoke(public_id: str):
    certificate = _certificate_for_admin(public_id)
    form = RevokeForm()
    course_id = certificate.enrolment.course_id
    if not form.validate_on_submit():
        flash(_("Please give a reason; it is shown on the verification page."), "danger")
        return course_certificates(course_id), 400
    with write() as outcome:
        services.revoke(certificate, form.reason.data, current_user)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return course_certificates(course_id), outcome.error.status_code
    flash(_("Certificate %(serial)s revoked; the holder has been told.", serial=certificate.serial), "success")
    return redirect(url_for("certificates.course_certificates", course_id=course_id))


@bp.route("/admin/certificates/<public_id>/reissue", methods=["POST"])
@admin_required
def reissue(public_id: str):
    certificate = _certificate_for_admin(public_id)
    course_id = certificate.enrolment.course_id
    if not ConfirmForm().validate_on_submit():
        abort(400)
    begin_write()
    certificate = _certificate_for_admin(public_id)
    with write() as outcome:
        new = services.reissue(certificate, current_user)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return course_certificates(course_id), outcome.error.status_code
    flash(_("Re-issued as %(serial)s; the old certificate now points to it.", serial=new.serial), "success")
    return redirect(url_for("certificates.course_certificates", course_id=course_id))


@bp.route("/admin/courses/<int:course_id>/certificates/settings", methods=["GET", "POST"])
@admin_required
def settings(course_id: int):
    course = _course(course_id)
    form = CertificateSettingsForm()
    existing = list(course.signatories or []) + [{}] * 3
    if request.method == "GET":
        form.offers_attendance_certificate.data = course.offers_attendance_certificate
        form.offers_completion_certificate.data = course.offers_completion_certificate
        form.min_attendance_rate.data = course.min_attendance_rate
        form.auto_issue_after_days.data = course.auto_issue_after_days
        for entry, person in zip(form.signatories.entries, existing, strict=False):
            entry.form.name.data, entry.form.title.data = person.get("name", ""), person.get("title", "")
    status = 200
    if form.validate_on_submit():
        entries = [SignatoryEntry(
            name=f.name.data or "", title=f.title.data or "", remove_image=bool(f.remove_image.data),
            image=f.image.data.read() if f.image.data and getattr(f.image.data, "filename", "") else None)
            for f in (entry.form for entry in form.signatories.entries)]
        with write() as outcome:
            save_settings(
                course, attendance=form.offers_attendance_certificate.data, completion=form.offers_completion_certificate.data,
                min_rate=form.min_attendance_rate.data, auto_days=form.auto_issue_after_days.data, signatories=entries,
                actor=current_user)
        if not outcome.error:
            flash(_("Certificate settings saved."), "success")
            return redirect(url_for("certificates.course_certificates", course_id=course_id))
        flash(outcome.error.message, "danger")
        status = outcome.error.status_code
    elif request.method == "POST":
        status = 400
    return render_template("certificates/settings.html", course=course, form=form, existing=existing), status


@bp.route("/admin/signatures/<sha256>.png")
@admin_required
def signature_image(sha256: str):
    image = db.session.scalar(sa.select(SignatureImage).where(SignatureImage.sha256 == sha256[:64]))
    if image is None:
        abort(404)
    return Response(image.png, mimetype="image/png")
