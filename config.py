"""Configuration classes, read from the environment.

`create_app()` picks one by `PONTE_CONFIG` (development, testing, production) unless a
class is passed in. Production refuses to start without `SECRET_KEY`, `DATABASE_URL`,
`PONTE_BASE_URL` and `PONTE_CERT_KEYS`.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PONTE_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative.")
    return number


def _database_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy wants the psycopg 3 driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class ConfigError(RuntimeError):
    """The environment does not hold what this configuration needs."""


_KEY_ID = re.compile(r"[A-Za-z0-9]{1,16}")


def parse_cert_keys(value: str | None) -> dict[str, str]:
    """`PONTE_CERT_KEYS` (`id:key,id:key`, oldest first) as {id: key} in the same order.

    The last key signs new certificates; the others only verify the certificates they
    signed. An id is 1–16 letters or digits (it starts every verification code and is
    stored with each certificate, case-insensitively unique); a key is any text without
    commas. Raises ConfigError, never naming a key, when the value is malformed.
    """
    keys: dict[str, str] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        key_id, colon, secret = part.strip().partition(":")
        key_id, secret = key_id.strip(), secret.strip()
        if not colon or not secret or not _KEY_ID.fullmatch(key_id):
            raise ConfigError("PONTE_CERT_KEYS must be comma-separated id:key pairs, oldest first "
                              "(an id is 1–16 letters or digits), e.g. k1:<key>,k2:<key>.")
        if key_id.lower() in (k.lower() for k in keys):
            raise ConfigError(f"PONTE_CERT_KEYS names the key id {key_id!r} twice.")
        keys[key_id] = secret
    return keys


def _cert_keys_from_env(current: dict[str, str] | None) -> dict[str, str]:
    raw = os.environ.get("PONTE_CERT_KEYS")
    if raw is None:
        return dict(current or {})
    keys = parse_cert_keys(raw)
    if not keys:
        raise ConfigError("PONTE_CERT_KEYS is set but holds no key.")
    return keys


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only; if another process created it first, keep theirs."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(text)


class Config:
    PONTE_ENV = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False

    # Sessions: signed cookies, never readable by scripts, not sent cross-site.
    SESSION_COOKIE_NAME = "ponte_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    REMEMBER_COOKIE_HTTPONLY = True

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # The forms with a file field (a programme's logo, a signature) accept this much and
    # say their own, smaller limit on the field, keeping what else was typed.
    PONTE_MAX_UPLOAD_LENGTH = 16 * 1024 * 1024
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "it", "zh")

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # How many reverse proxies in front of the app to believe (X-Forwarded-For, -Proto,
    # -Host, -Port, -Prefix). 0: none, the peer address is the client (rate limits, audit).
    PONTE_TRUSTED_PROXIES = _int("PONTE_TRUSTED_PROXIES", 0)
    PONTE_LOGIN_LIMIT = os.environ.get("PONTE_LOGIN_LIMIT", "5 per minute;20 per hour")

    # argon2id; the defaults of argon2-cffi are RFC 9106's low-memory profile
    # (t=3, m=64 MiB, p=4), above ASVS 5's minimum (m=19 MiB, t=2, p=1).
    PASSWORD_HASH = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_RESET_MAX_AGE = 60 * 60  # seconds
    EMAIL_VERIFY_MAX_AGE = 48 * 60 * 60  # seconds: the link emailed at registration
    PONTE_UNVERIFIED_DAYS = _int("PONTE_UNVERIFIED_DAYS", 7)  # unconfirmed accounts are then deleted
    # Retention (app/jobs/retention.py, listed in the privacy notice), in days.
    PONTE_KEEP_EMAIL_BODIES_DAYS = _int("PONTE_KEEP_EMAIL_BODIES_DAYS", 90)
    PONTE_KEEP_AUDIT_IPS_DAYS = _int("PONTE_KEEP_AUDIT_IPS_DAYS", 365)
    PONTE_KEEP_ENDED_SESSIONS_DAYS = _int("PONTE_KEEP_ENDED_SESSIONS_DAYS", 30)
    PONTE_EXPORT_DIR = os.environ.get("PONTE_EXPORT_DIR", str(INSTANCE_DIR / "exports"))  # copies of people's data, 24 h
    PONTE_REPORT_DIR = os.environ.get("PONTE_REPORT_DIR", str(INSTANCE_DIR / "reports"))  # impact reports (PDF), 30 days
    # Registration: per address (each try emails its owner) and per client.
    PONTE_REGISTER_LIMIT = os.environ.get("PONTE_REGISTER_LIMIT", "3 per hour")
    PONTE_REGISTER_CLIENT_LIMIT = os.environ.get("PONTE_REGISTER_CLIENT_LIMIT", "10 per hour")
    PONTE_VERIFY_RESEND_LIMIT = os.environ.get("PONTE_VERIFY_RESEND_LIMIT", "3 per hour")
    # Administrators must sign in with a second factor (sent to set it up after login).
    PONTE_ADMIN_TWO_FACTOR = _bool("PONTE_ADMIN_TWO_FACTOR", True)

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "file")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Ponte <no-reply@ponte.example.org>")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))
    # The scheduler process delivers the outbox. Turned on, views also deliver right
    # after their commit (tests, and a deployment that runs no scheduler).
    PONTE_DELIVER_AFTER_COMMIT = _bool("PONTE_DELIVER_AFTER_COMMIT", False)

    PONTE_BASE_URL = os.environ.get("PONTE_BASE_URL", "http://127.0.0.1:5000")
    PONTE_ORGANISATION = os.environ.get("PONTE_ORGANISATION", "Ponte Foundation for Italy–China Sustainability")
    # The privacy notice's version: raise it when the notice changes, and everyone signed
    # in is asked to agree again (date-like, e.g. 2026-12-01).
    PONTE_PRIVACY_VERSION = os.environ.get("PONTE_PRIVACY_VERSION", "2026-12-01")
    PONTE_PRIVACY_CONTACT = os.environ.get("PONTE_PRIVACY_CONTACT", "privacy@ponte.example.org")  # named on /privacy
    PONTE_START_SCHEDULER = False  # only `flask scheduler run` starts one
    PONTE_PAGE_CACHE_SECONDS = float(os.environ.get("PONTE_PAGE_CACHE_SECONDS", "5"))
    # Its store (Flask-Caching): one per worker process, or a Redis that all workers share.
    PONTE_CACHE_REDIS_URL = os.environ.get("PONTE_CACHE_REDIS_URL")
    CACHE_TYPE = "RedisCache" if PONTE_CACHE_REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = PONTE_CACHE_REDIS_URL
    CACHE_KEY_PREFIX = "ponte:"
    CACHE_THRESHOLD = 512  # SimpleCache: entries kept per process
    PONTE_CERT_FONT = os.environ.get("PONTE_CERT_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    # Certificate keys, {id: key} oldest first, from PONTE_CERT_KEYS (see parse_cert_keys).
    # Unset (tests, older set-ups): one key, PONTE_CERT_KEY or derived from SECRET_KEY, with
    # id PONTE_CERT_KEY_ID; development keeps that key in instance/cert_keys instead.
    PONTE_CERT_KEYS: dict[str, str] = {}
    PONTE_CERT_KEY = os.environ.get("PONTE_CERT_KEY")
    PONTE_CERT_KEY_ID = os.environ.get("PONTE_CERT_KEY_ID", "k1")
    PONTE_JOB_RUN_RETENTION_DAYS = _int("PONTE_JOB_RUN_RETENTION_DAYS", 30)

    @classmethod
    def init_app(cls, app) -> None:  # noqa: ANN001 - Flask app
        """Hook for a configuration to check or complete itself once the app exists.
        Every configuration reads PONTE_CERT_KEYS here; a malformed value stops the start."""
        app.config["PONTE_CERT_KEYS"] = _cert_keys_from_env(app.config.get("PONTE_CERT_KEYS"))


class DevelopmentConfig(Config):
    PONTE_ENV = "development"
    SQLALCHEMY_DATABASE_URI = _database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'ponte.sqlite3'}")
    )

    @classmethod
    def init_app(cls, app) -> None:  # noqa: ANN001
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = os.environ.get("SECRET_KEY")
        if not key:
            key_file = INSTANCE_DIR / "secret_key"
            if not key_file.exists():
                key_file.write_text(secrets.token_hex(32))
                key_file.chmod(0o600)
            key = key_file.read_text().strip()
        app.config["SECRET_KEY"] = key
        super().init_app(app)
        if not app.config["PONTE_CERT_KEYS"]:
            app.config["PONTE_CERT_KEYS"] = cls._persisted_cert_keys(key)

    @staticmethod
    def _persisted_cert_keys(secret_key: str) -> dict[str, str]:
        """Without PONTE_CERT_KEYS, the certificate key is fixed once, at the first start:
        PONTE_CERT_KEY or the SECRET_KEY of that moment (so certificates issued before keep
        verifying), kept in instance/cert_keys. A later SECRET_KEY leaves it be."""
        key_file = INSTANCE_DIR / "cert_keys"
        key_id = os.environ.get("PONTE_CERT_KEY_ID", "k1")
        _write_private(key_file, f"{key_id}:{os.environ.get('PONTE_CERT_KEY') or secret_key}\n")
        return parse_cert_keys(key_file.read_text())


class TestingConfig(Config):
    PONTE_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"
    SQLALCHEMY_DATABASE_URI = _database_url(
        os.environ.get("TEST_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'test.sqlite3'}")
    )
    WTF_CSRF_ENABLED = False
    MAIL_BACKEND = "memory"
    PONTE_DELIVER_AFTER_COMMIT = True
    SERVER_NAME = None
    PONTE_PAGE_CACHE_SECONDS = 0  # tests see every change at once; test_cache turns it on
    # Admins of most tests sign in with a password alone; tests/accounts/test_two_factor.py
    # turns this on and checks that every other configuration has it on.
    PONTE_ADMIN_TWO_FACTOR = False
    # Fast hashing in tests only; still argon2id, so the same code path runs.
    PASSWORD_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class ProductionConfig(Config):
    PONTE_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")

    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "PONTE_BASE_URL", "PONTE_CERT_KEYS")

    @classmethod
    def init_app(cls, app) -> None:  # noqa: ANN001
        missing = [name for name in cls.REQUIRED if not os.environ.get(name, "").strip()]
        if missing:
            names = " and ".join(missing) if len(missing) < 3 else ", ".join(missing[:-1]) + " and " + missing[-1]
            hint = (" PONTE_CERT_KEYS signs certificates (k1:<a long random key>); to keep certificates issued "
                    "before valid, use k1:<the former PONTE_CERT_KEY, or SECRET_KEY if that was unset>."
                    if "PONTE_CERT_KEYS" in missing else "")
            raise ConfigError(f"Ponte refuses to start in production without {names} set in the environment.{hint}")
        base_url = os.environ["PONTE_BASE_URL"].strip()
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("PONTE_BASE_URL must be the public address, e.g. https://ponte.example.org.")
        super().init_app(app)
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(os.environ["DATABASE_URL"])
        app.config["PONTE_BASE_URL"] = base_url


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    name = os.environ.get("PONTE_CONFIG", "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"PONTE_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}.") from None
