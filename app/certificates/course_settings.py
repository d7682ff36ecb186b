"""A course's certificate settings: which kinds, the minimum attendance, automatic
issue, and up to three signatories with their signature images (PNG or JPEG, checked
by content, stored once by hash)."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.models import Course
from app.certificates.models import (
    SignatureImage,
)
from app.certificates.services import CertificateError
from app.extensions import db

MAX_SIGNATURE_BYTES = 512 * 1024


# --- signatures ---------------------------------------------------------------------------------

def store_signature(data: bytes, actor: User) -> SignatureImage:
    """Accept a PNG or JPEG by its content (not its name), re-encoded as a small PNG."""
    if len(data) > MAX_SIGNATURE_BYTES:
        raise CertificateError(_("The image is larger than 512 KB."), field="image")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("PNG", "JPEG"):
                raise CertificateError(_("Only PNG or JPEG images are accepted."), field="image")
            if img.width * img.height > 4000 * 4000:
                raise CertificateError(_("The image is too large."), field="image")
            img.load()
            small = img.convert("RGBA")
            small.thumbnail((600, 200))
            out = io.BytesIO()
            small.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise CertificateError(_("Only PNG or JPEG images are accepted."), field="image") from None
    png = out.getvalue()
    sha = hashlib.sha256(png).hexdigest()
    existing = db.session.scalar(sa.select(SignatureImage).where(SignatureImage.sha256 == sha))
    if existing:
        return existing
    image = SignatureImage(png=png, sha256=sha, uploaded_by_id=actor.id)
    db.session.add(image)
    db.session.flush()
    return image


@dataclass
class SignatoryEntry:
    """One signatory row of the settings form: an empty name drops the row; `image` is a
    newly uploaded file's bytes (None: keep the old image unless `remove_image`)."""

    name: str
    title: str = ""
    image: bytes | None = None
    remove_image: bool = False


def _signatories(entries: list[SignatoryEntry], course: Course, actor: User) -> list[dict]:
    """The signatories to keep, row by row against the ones saved before."""
    existing = list(course.signatories or []) + [{}] * len(entries)
    people = []
    for entry, old in zip(entries, existing, strict=False):
        if not entry.name:
            if entry.title or entry.image is not None:  # a row half filled in is a mistake, not a removal
                raise CertificateError(_("Each signatory needs a name (or leave the whole row empty)."),
                                       field="signatories")
            continue
        person = {"name": entry.name, "title": entry.title or ""}
        if entry.image is not None:
            person["image_sha256"] = store_signature(entry.image, actor).sha256
        elif old.get("image_sha256") and not entry.remove_image:
            person["image_sha256"] = old["image_sha256"]
        people.append(person)
    return people


def save_settings(course: Course, *, attendance: bool, completion: bool, min_rate: int, auto_days: int | None,
                  signatories: list[SignatoryEntry], actor: User) -> None:
    people = _signatories(signatories, course, actor)
    if not 0 <= min_rate <= 100:
        raise CertificateError(_("The minimum attendance is a percentage from 0 to 100."), field="min_attendance_rate")
    if auto_days is not None and not 0 <= auto_days <= 365:
        raise CertificateError(_("Automatic issue takes a number of days from 0 to 365."), field="auto_issue_after_days")
    course.offers_attendance_certificate = attendance
    course.offers_completion_certificate = completion
    course.min_attendance_rate = min_rate
    course.auto_issue_after_days = auto_days
    course.signatories = people[:3]
    db.session.flush()
    record("course.certificate_settings", course, actor=actor, attendance=attendance, completion=completion,
           min_rate=min_rate, auto_days=auto_days, signatories=len(people))
