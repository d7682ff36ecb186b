from __future__ import annotations

import datetime as dt
import enum
import secrets

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_property

from app.core.types import UTCDateTime, enum_column, utcnow
from app.extensions import Model


class Role(enum.Enum):
    PARTICIPANT = "participant"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class OrganisationType(enum.Enum):
    SME = "sme"
    LARGE_COMPANY = "large_company"
    PUBLIC_ADMINISTRATION = "public_administration"
    UNIVERSITY = "university"
    NGO = "ngo"
    OTHER = "other"


class Gender(enum.Enum):
    """Self-declared, optional, for the foundation's reach figures only."""
    WOMAN = "woman"
    MAN = "man"
    NON_BINARY = "non_binary"
    UNDISCLOSED = "undisclosed"  # "prefer not to say": asked and declined, unlike an empty answer


class Sector(enum.Enum):
    """The sector a person works in, for reports (optional)."""
    ENERGY = "energy"
    MANUFACTURING = "manufacturing"
    CONSTRUCTION = "construction"
    TRANSPORT = "transport"
    AGRICULTURE_FOOD = "agriculture_food"
    WATER_WASTE = "water_waste"
    ENVIRONMENT = "environment"
    FINANCE = "finance"
    ICT = "ict"
    PUBLIC_SECTOR = "public_sector"
    EDUCATION_RESEARCH = "education_research"
    CIVIL_SOCIETY = "civil_society"
    OTHER = "other"


def _calendar_token() -> str:
    return secrets.token_urlsafe(24)


ERASED_DOMAIN = "@erased.invalid"  # the address an erased account is given
ERASED_NAME = "Erased person"  # what erasure leaves in the name column


def erased_name() -> str:
    """ERASED_NAME in the current language, as pages show it."""
    return str(_l("Erased person"))


class User(UserMixin, Model):
    __tablename__ = "user"
    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IN ('en', 'it', 'zh')", name="locale_known"),
        sa.CheckConstraint("session_version >= 1", name="session_version_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    # Read and written as `full_name` (below): an erased account shows its placeholder name
    # in the reader's language.
    _full_name: so.Mapped[str] = so.mapped_column("full_name", sa.String(120))
    native_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    organisation: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    organisation_type: so.Mapped[OrganisationType | None] = so.mapped_column(
        enum_column(OrganisationType, "organisation_type")
    )
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    # Reporting fields (impact): optional, self-declared, explained on the form. The city
    # places a person on the map for travel estimates; it is never shown to other people.
    city: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    gender: so.Mapped[Gender | None] = so.mapped_column(enum_column(Gender, "gender"))
    sector: so.Mapped[Sector | None] = so.mapped_column(enum_column(Sector, "sector"))
    job_role: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    # When the person answered or dismissed the one-time request on /me.
    reporting_asked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="en")
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/Rome")
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role, "user_role"), default=Role.PARTICIPANT, index=True)
    is_active_account: so.Mapped[bool] = so.mapped_column(default=True)
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    calendar_token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, default=_calendar_token)
    privacy_consent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    # The version of the privacy notice agreed to (PONTE_PRIVACY_VERSION); a new version
    # asks again. People in China also agree, separately, to the transfer of their data
    # to Italy (PIPL art. 39), with the version of the notice that described it.
    privacy_version: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    transfer_consent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    transfer_version: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    # Set when the owner opened the link emailed at registration (or an admin vouched for
    # the address). Until then the account may browse and edit its profile, nothing more.
    email_verified_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret once confirmed, and the last
    # time step a code was accepted for, so that a code works once.
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    totp_enabled_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    @property
    def is_erased(self) -> bool:
        """The person erased their account (app/privacy/erasure.py): nothing may bring it back."""
        return (self.email or "").endswith(ERASED_DOMAIN)

    @classmethod
    def is_erased_sql(cls) -> sa.ColumnElement[bool]:
        """`is_erased` as an SQL condition."""
        return cls.email.endswith(ERASED_DOMAIN)

    @hybrid_property
    def full_name(self) -> str:
        if self.is_erased:
            return erased_name()  # what erasure left in the column, translated
        return self._full_name

    @full_name.inplace.setter
    def _full_name_setter(self, value: str) -> None:
        self._full_name = value

    @full_name.inplace.expression
    @classmethod
    def _full_name_expression(cls) -> sa.ColumnElement[str]:
        return cls._full_name  # type: ignore[return-value]

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_instructor(self) -> bool:
        return self.role in (Role.INSTRUCTOR, Role.ADMIN)

    @property
    def display_name(self) -> str:
        if self.native_name:
            return f"{self.full_name} ({self.native_name})"
        return self.full_name


class LoginSession(Model):
    """One signed-in device. Logging out revokes the row, so a copied cookie stops working."""

    __tablename__ = "login_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(255))

    user: so.Mapped[User] = so.relationship()


class PasswordResetToken(Model):
    """A reset link: only its SHA-256 is stored; it expires and works once."""

    __tablename__ = "password_reset_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    expires_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), index=True)
    used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())

    user: so.Mapped[User] = so.relationship()


class RecoveryCode(Model):
    """One of ten single-use codes that sign in when the authenticator app is lost.
    Only its hash is kept; `used_at` is set by a compare-and-set."""

    __tablename__ = "recovery_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
