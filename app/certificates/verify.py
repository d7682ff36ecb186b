"""What makes a certificate checkable: the signing keys, the verification code (an HMAC
of its canonical snapshot), the lookup by serial and code, and whether the stored
snapshot is still intact."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata

import sqlalchemy as sa
from flask import current_app

from app.certificates.models import (
    Certificate,
)
from app.extensions import db

# --- snapshot, code, serial -----------------------------------------------------------------

def _keys() -> dict[str, str]:
    """The configured certificate keys, id → secret, oldest first: PONTE_CERT_KEYS, or
    (unset: tests, older set-ups) PONTE_CERT_KEY or SECRET_KEY, with id PONTE_CERT_KEY_ID."""
    config = current_app.config
    return dict(config.get("PONTE_CERT_KEYS") or {
        config.get("PONTE_CERT_KEY_ID", "k1"): config.get("PONTE_CERT_KEY") or config["SECRET_KEY"]})


def signing_key_id() -> str:
    """The id of the newest key: the one that signs new certificates."""
    return list(_keys())[-1]


def _key(key_id: str) -> bytes | None:
    """The HMAC key of `key_id` (ids match whatever their case); None once it is retired."""
    secret = {k.lower(): v for k, v in _keys().items()}.get((key_id or "").lower())
    return hashlib.sha256(f"ponte-certificate:{secret}".encode()).digest() if secret is not None else None


def _canonical(snapshot: dict) -> bytes:
    data = {k: v for k, v in snapshot.items() if k != "verification_code"}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def verification_code(snapshot: dict, key_id: str | None = None) -> str | None:
    """An HMAC of the snapshot under the key `key_id` (default: the newest), shown with
    the key's id in front, K1-XXXX-XXXX-XXXX-XXXX. None when that key is not configured."""
    key_id = key_id or signing_key_id()
    key = _key(key_id)
    if key is None:
        return None
    digest = hmac.new(key, _canonical(snapshot), hashlib.sha256).hexdigest()[:16].upper()
    return f"{key_id.upper()}-" + "-".join(digest[i:i + 4] for i in range(0, 16, 4))


def verify_by_code(serial: str, code: str) -> Certificate | None:
    """The certificate whose serial and verification code both match; None otherwise
    (without saying which was wrong)."""
    serial = _compact(serial)[:32]
    if match := re.fullmatch(r"PONTE(\d{4})(\d{6})", serial):
        serial = f"PONTE-{match.group(1)}-{match.group(2)}"
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == serial))
    expected = _compact(certificate.verification_code) if certificate else "X" * 20
    ok = hmac.compare_digest(expected.encode(), _compact(code)[:40].encode())
    if certificate is None or not ok or not intact(certificate):
        return None
    return certificate


def _compact(text: str | None) -> str:
    """What a person typed, as the machine compares it: full-width characters from a
    Chinese keyboard made plain, case, spaces and dashes ignored ("k1 815f 5509…")."""
    plain = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in plain if ch.isalnum())


def intact(certificate: Certificate) -> bool:
    """The stored snapshot still matches its code under the key that signed it (the
    certificate's `key_id`, kept while that key is listed in PONTE_CERT_KEYS): nobody
    edited the database by hand. False once that key is retired from the configuration."""
    expected = verification_code(certificate.snapshot, certificate.key_id)
    return expected is not None and hmac.compare_digest(expected, certificate.verification_code)
