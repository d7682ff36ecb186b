"""Two-factor sign-in: a time-based code (TOTP, RFC 6238, 30-second steps, 6 digits)
from an authenticator app, or one of ten single-use recovery codes.

Mandatory for administrators (they issue and revoke certificates and change roles),
optional for everyone else. A code works once: the last accepted time step is kept and
moved on with a compare-and-set, so a code seen over a shoulder, or sent twice by a
double click, signs in once. The QR code is drawn here (segno, SVG), never fetched.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pyotp
import segno
import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup

from app.accounts.models import RecoveryCode, User
from app.audit.services import record
from app.core.cas import changed_rows, compare_and_set
from app.core.errors import Conflict, DomainError
from app.core.types import utcnow
from app.extensions import db

ISSUER = "Ponte"
STEP = 30  # seconds
RECOVERY_CODES = 10


class TwoFactorError(DomainError):
    pass


def new_secret() -> str:
    return pyotp.random_base32()


def qr_svg(user: User, secret: str) -> Markup:
    """The `otpauth://` address as an inline SVG QR code for the authenticator app."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, dark="#1a1a1a", light="#ffffff"))


def _steps(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step (now, or one either side for clocks a little off) whose code this is."""
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp, current = pyotp.TOTP(secret), int(now.timestamp()) // STEP
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def enable(user: User, secret: str, code: str, now: dt.datetime | None = None) -> list[str]:
    """Turn two-factor sign-in on with the secret the user's app was given, once a code
    from the app proves it. Returns the recovery codes, to be shown once."""
    step = _steps(secret, code, now or utcnow())
    if step is None:
        raise TwoFactorError(_("That code is not right. Check the time on your phone and type the code the app shows now."),
                             field="code")
    if not compare_and_set(user, User.totp_enabled_at.is_(None), totp_secret=secret, totp_enabled_at=utcnow(),
                           totp_last_step=step):
        raise Conflict(_("Two-factor sign-in is already on for this account."))
    record("user.two_factor_enabled", user, actor=user)
    return _new_recovery_codes(user)


def check(user: User, code: str, now: dt.datetime | None = None) -> bool:
    """Whether `code` is this account's code for now, never accepted before. A code is
    claimed with a conditional UPDATE of the last step: two requests with it, one wins."""
    if not user.has_two_factor or not user.totp_secret:
        return False
    step = _steps(user.totp_secret, code, now or utcnow())
    if step is None:
        return False
    return changed_rows(
        sa.update(User).where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)) == 1


def _code_hash(code: str) -> str:
    normalised = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes])
    db.session.flush()
    return codes


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """Ten new codes (the old ones stop working), after a code from the app."""
    if not check(user, code):
        raise TwoFactorError(_("That code is not right."), field="code")
    record("user.recovery_codes_renewed", user, actor=user)
    return _new_recovery_codes(user)


def use_recovery_code(user: User, code: str) -> bool:
    """Sign in with a recovery code: each works once (a conditional UPDATE claims it)."""
    used = changed_rows(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()))
    if used:
        record("user.recovery_code_used", user, actor=user)
    return used == 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def disable(user: User, code: str) -> None:
    """Turn it off (not for administrators, who must keep it), after a code from the app."""
    if user.is_admin:
        raise TwoFactorError(_("Administrators must keep two-factor sign-in on."))
    if not check(user, code):
        raise TwoFactorError(_("That code is not right."), field="code")
    compare_and_set(user, User.totp_enabled_at.is_not(None), totp_secret=None, totp_enabled_at=None, totp_last_step=None)
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record("user.two_factor_disabled", user, actor=user)


def record_failure(user: User) -> None:
    record("user.two_factor_failed", user, actor=None)
