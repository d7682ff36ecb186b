"""Account rules: registration, authentication, password reset, profile."""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts.models import LoginSession, OrganisationType, PasswordResetToken, Role, User
from app.accounts.passwords import burn_verify_time, hash_password, needs_rehash, verify_password
from app.audit.services import record
from app.core.cas import changed_rows, compare_and_set, rowcount
from app.core.errors import Conflict, DomainError
from app.core.timezones import is_valid_zone
from app.core.types import utcnow
from app.extensions import db
from app.notifications.services import queue_email, withhold_emails


class AccountError(DomainError):
    pass


class AccountExists(AccountError):
    """Registration with an email that already has an account: the page offers to log
    in or to reset the password instead."""

    def __init__(self) -> None:
        super().__init__(_("An account with this email already exists. Log in or reset your password."), field="email")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


@dataclass
class Registration:
    email: str
    password: str
    full_name: str
    native_name: str | None = None
    organisation: str | None = None
    organisation_type: OrganisationType | None = None
    country: str | None = None
    locale: str = "en"
    timezone: str = "Europe/Rome"
    privacy_consent: bool = False
    transfer_consent: bool = False  # to the transfer of data to Italy: needed from people in China
    reporting: dict | None = None  # city, gender, sector, job_role (optional; see update_profile)


def register_user(data: Registration, *, role: Role = Role.PARTICIPANT, actor: User | None = None,
                  verified: bool = False) -> User:
    """Create an account. Raises AccountError if the email is taken or a rule fails.
    `verified`: the address is vouched for (an admin or the command line made it)."""
    email = normalise_email(data.email)
    _check_registration(data)
    if find_user_by_email(email) is not None:
        raise AccountExists()
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        full_name=data.full_name.strip(),
        native_name=(data.native_name or "").strip() or None,
        organisation=(data.organisation or "").strip() or None,
        organisation_type=data.organisation_type,
        country=(data.country or "").upper() or None,
        locale=data.locale,
        timezone=data.timezone,
        role=role,
        privacy_consent_at=utcnow(),
        privacy_version=privacy_version(),
        email_verified_at=utcnow() if verified else None,
    )
    if data.transfer_consent:
        user.transfer_consent_at, user.transfer_version = utcnow(), privacy_version()
    if data.reporting is not None:  # asked on the registration form: not asked again on /me
        for name, value in data.reporting.items():
            setattr(user, name, value.strip() or None if isinstance(value, str) else value)
        user.reporting_asked_at = utcnow()
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise AccountExists() from None
    record("user.registered", user, actor=actor or user, role=role.value)
    return user


def _check_registration(data: Registration) -> None:
    if not data.privacy_consent:
        raise AccountError(_("Please accept the privacy notice to create an account."), field="privacy_consent")
    if (data.country or "").upper() in TRANSFER_CONSENT_COUNTRIES and not data.transfer_consent:
        raise AccountError(TRANSFER_NEEDED(), field="transfer_consent")
    if not is_valid_zone(data.timezone):
        raise AccountError(_("Unknown time zone."), field="timezone")
    if data.locale not in current_app.config["LANGUAGES"]:
        raise AccountError(_("Unknown language."), field="locale")


# --- consent ------------------------------------------------------------------------------

# People here give a separate consent to the transfer of their data abroad (China's PIPL).
TRANSFER_CONSENT_COUNTRIES = {"CN"}


def TRANSFER_NEEDED() -> str:  # noqa: N802 - a message, translated when asked for
    return _("People living in China need to agree to the transfer of their data to Italy to use Ponte.")


def privacy_version() -> str:
    return current_app.config["PONTE_PRIVACY_VERSION"]


def consents_needed(user: User) -> tuple[bool, bool]:
    """(the current privacy notice, the transfer to Italy) that `user` has yet to agree to."""
    current = privacy_version()
    transfer = (user.country or "") in TRANSFER_CONSENT_COUNTRIES and user.transfer_version != current
    return user.privacy_version != current, transfer


def give_consent(user: User, *, privacy: bool, transfer: bool) -> None:
    """Record agreement to the current notice and, where asked, to the transfer."""
    need_privacy, need_transfer = consents_needed(user)
    if (need_privacy and not privacy) or (need_transfer and not transfer):
        raise AccountError(_("Please tick each box to go on, or log out."))
    now, version, given = utcnow(), privacy_version(), []
    if need_privacy:
        user.privacy_consent_at, user.privacy_version = now, version
        given.append("privacy")
    if need_transfer:
        user.transfer_consent_at, user.transfer_version = now, version
        given.append("transfer")
    if given:
        record("user.consent_given", user, actor=user, version=version, consents=given)


def register_by_email(data: Registration) -> None:
    """Registration from the public form, which must not tell anyone whether an address
    has an account: a new address gets an account and the link that confirms it; an
    address with an unconfirmed account gets a fresh link; one with a confirmed account
    gets an email saying someone tried. The form answers the same in every case (and
    spends the same hashing time)."""
    _check_registration(data)
    existing = find_user_by_email(data.email)
    if existing is None:
        try:
            user = register_user(data)
        except AccountExists:  # registered a moment ago by a twin request: answer alike
            return
        send_verification(user)
        return
    burn_verify_time(data.password)
    if not existing.is_active:
        return
    if existing.is_verified:
        record("user.registration_attempted", existing, actor=None)
        queue_email(existing, "registration_attempt")
    else:
        send_verification(existing)


# --- confirming the address -----------------------------------------------------------

def _verify_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ponte-verify-email")


def verification_token(user: User) -> str:
    """A signed link token naming the account and the address it confirms; it expires
    (EMAIL_VERIFY_MAX_AGE) and confirms once (a confirmed account is not confirmed again)."""
    return _verify_serializer().dumps({"u": user.id, "e": user.email})


def send_verification(user: User, *, actor: User | None = None) -> None:
    not_erased(user)
    hours = current_app.config["EMAIL_VERIFY_MAX_AGE"] // 3600
    queue_email(user, "verify_email", token=verification_token(user), hours=hours)
    record("user.verification_sent", user, actor=actor or user)


class VerifyOutcome(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY = "already"


def verify_email(token: str) -> tuple[User, VerifyOutcome]:
    """Confirm the address a link names. Raises AccountError for a bad or expired link
    (or one for an address the account no longer has)."""
    bad = AccountError(_("This confirmation link is invalid or has expired. Log in to have a new one sent."))
    if not token or len(token) > 500:
        raise bad
    try:
        data = _verify_serializer().loads(token, max_age=current_app.config["EMAIL_VERIFY_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        raise bad from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or user.email != data.get("e") or not user.is_active:
        raise bad
    if not compare_and_set(user, User.email_verified_at.is_(None), email_verified_at=utcnow()):
        return user, VerifyOutcome.ALREADY
    record("user.email_verified", user, actor=user)
    return user, VerifyOutcome.CONFIRMED


def require_verified(user: User, *, own: bool = True) -> None:
    """Enrolling, applying, checking in and joining a staff wait for a confirmed address."""
    if getattr(user, "is_verified", False):
        return
    if own:
        raise Unverified(_("Please confirm your email address first: open the link we emailed you "
                           "(you can have it sent again from the top of this page)."))
    raise Unverified(_("%(name)s has not confirmed their email address yet.", name=user.display_name))


class Unverified(AccountError):
    status_code = 403


def purge_unverified(now: dt.datetime | None = None) -> int:
    """Delete accounts never confirmed within PONTE_UNVERIFIED_DAYS (they could do
    nothing but browse). Returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=current_app.config["PONTE_UNVERIFIED_DAYS"])
    ids = db.session.scalars(sa.select(User.id).where(User.email_verified_at.is_(None), User.created_at < cutoff)).all()
    for user_id in ids:
        user = db.session.get(User, user_id)
        record("user.unverified_deleted", None, actor=None, user=user_id)
        db.session.delete(user)
    db.session.flush()
    return len(ids)


def authenticate(email: str, password: str) -> User | None:
    """The user if the password is right and the account active; None otherwise.

    Unknown emails spend the same hashing time as wrong passwords.
    """
    user = find_user_by_email(email)
    if user is None:
        burn_verify_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


def rehash_if_needed(user: User, password: str) -> None:
    """After a successful login: store the hash again when the hashing parameters have
    grown since it was made. Call it inside the login's write transaction."""
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise AccountError(_("Your current password is not correct."), field="current_password")
    user.password_hash = hash_password(new_password)
    retire_reset_links(user.id)
    record("user.password_changed", user, actor=user)


def update_profile(user: User, **fields: object) -> None:
    allowed = {"full_name", "native_name", "organisation", "organisation_type", "country", "locale", "timezone",
               *REPORTING_FIELDS}
    if "timezone" in fields and not is_valid_zone(str(fields["timezone"])):
        raise AccountError(_("Unknown time zone."), field="timezone")
    if "locale" in fields and fields["locale"] not in current_app.config["LANGUAGES"]:
        raise AccountError(_("Unknown language."), field="locale")
    changed = []
    for name, value in fields.items():
        if name not in allowed:
            raise ValueError(name)
        if isinstance(value, str):
            value = value.strip() or None
        if name == "country" and value:
            value = str(value).upper()
        if name in ("full_name", "locale", "timezone") and not value:
            continue
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    if REPORTING_FIELDS & fields.keys() and user.reporting_asked_at is None:
        user.reporting_asked_at = utcnow()  # answered: not asked again (part of this same write)
    if changed:
        record("user.profile_updated", user, actor=user, fields=changed)


REPORTING_FIELDS = {"city", "gender", "sector", "job_role"}


def dismiss_reporting_request(user: User) -> None:
    """The person said "not now, don't ask again" (or answered) on /me: set once."""
    user = db.session.get_one(User, user.id)  # the row, not Flask-Login's proxy
    compare_and_set(user, User.reporting_asked_at.is_(None), reporting_asked_at=utcnow())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(email: str, *, actor: User | None = None) -> None:
    """Email a reset link if the account exists. Says nothing either way. `actor`: an
    admin who sent it (else the person asked)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.is_erased:
        return
    token = secrets.token_urlsafe(32)
    max_age = dt.timedelta(seconds=current_app.config["PASSWORD_RESET_MAX_AGE"])
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + max_age))
    record("user.password_reset_requested", user, actor=actor or user)
    queue_email(user, "password_reset", token=token, minutes=int(max_age.total_seconds() // 60))


def valid_reset_token(token: str) -> PasswordResetToken | None:
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link then works no more."""
    row = valid_reset_token(token)
    if row is None:
        raise AccountError(_("This reset link is invalid or has expired. Ask for a new one."))
    # Conditional update: two clicks on the same link cannot both succeed.
    used = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if rowcount(used) != 1:
        raise AccountError(_("This reset link is invalid or has expired. Ask for a new one."))
    retire_reset_links(row.user_id)
    user = row.user
    user.password_hash = hash_password(new_password)
    user.session_version += 1  # every device signed out
    record("user.password_reset", user, actor=user)
    return user


def retire_reset_links(user_id: int) -> int:
    """Mark every unused reset link of the account used, in one UPDATE: once the password
    is set (by a link or by changing it), no older link may set it again. Returns how many."""
    return changed_rows(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow()))


def set_role(user: User, role: Role, *, actor: User | None, notify: bool = False, seen: Role | None = None) -> bool:
    """Change the role (compare-and-set: two admins' clicks change it once). An admin
    may not take their own admin role, nor leave Ponte without an active admin. With
    `notify`, the person is told by email. `seen`: the role the page showed, when the
    change comes from a page; one changed since stands. True when this call changed it."""
    not_erased(user)
    old = user.role
    if old is role:
        return False
    if seen is not None and old is not seen:
        raise Conflict(_("Someone changed this person's role a moment ago: nothing was changed."))
    if old is Role.ADMIN:
        _keep_an_admin(user, actor)
    if not compare_and_set(user, User.role == old, role=role):
        raise Conflict(_("Someone changed this person's role a moment ago: nothing was changed."))
    record("user.role_changed", user, actor=actor, old=old.value, new=role.value)
    if notify:
        queue_email(user, "account_status", change="role", role=role.value)
    return True


def not_erased(user: User) -> None:
    """An erased account cannot be changed, reactivated or sent anything again."""
    if user.is_erased:
        raise Conflict(_("This account has been erased: it cannot be changed or used again."))


def _keep_an_admin(user: User, actor: User | None) -> None:
    if actor is not None and actor.id == user.id:
        raise AccountError(_("You cannot take away your own administrator role or account; ask another administrator."))
    others = db.session.scalar(sa.select(sa.func.count(User.id)).where(
        User.role == Role.ADMIN, User.is_active_account.is_(True), User.id != user.id))
    if not others:
        raise AccountError(_("Ponte needs at least one active administrator."))


def deactivate_user(user: User, actor: User) -> None:
    """Stop an account: signed out on every device, no login, no email but the notice of
    this change. Enrolments, attendance and certificates stay as they are."""
    not_erased(user)
    if user.is_admin:
        _keep_an_admin(user, actor)
    if not compare_and_set(user, User.is_active_account.is_(True), is_active_account=False,
                           session_version=User.session_version + 1):
        raise Conflict(_("This account is already deactivated."))
    db.session.execute(sa.update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    withhold_emails(user.id)
    record("user.deactivated", user, actor=actor)
    queue_email(user, "account_status", change="deactivated", role=user.role.value)


def reactivate_user(user: User, actor: User) -> None:
    not_erased(user)
    if not compare_and_set(user, User.is_active_account.is_(False), is_active_account=True):
        raise Conflict(_("This account is already active."))
    record("user.reactivated", user, actor=actor)
    queue_email(user, "account_status", change="reactivated", role=user.role.value)


def regenerate_calendar_token(user: User) -> str:
    """A new secret for the personal calendar feed; the old address stops working."""
    user.calendar_token = secrets.token_urlsafe(24)
    record("user.calendar_token_regenerated", user, actor=user)
    return user.calendar_token
