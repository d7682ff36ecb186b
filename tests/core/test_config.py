import pytest

from app import create_app
from config import ConfigError, DevelopmentConfig, ProductionConfig, parse_cert_keys

PRODUCTION_ENV = {
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "postgres://u:p@127.0.0.1:1/db",
    "PONTE_BASE_URL": "https://ponte.example.org",
    "PONTE_CERT_KEYS": "k1:" + "a" * 40 + ", k2:" + "b" * 40,
}


@pytest.fixture
def production_env(monkeypatch):
    """Everything production needs; a test takes out what it wants to see missing."""
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_refuses_to_start_without_secret_and_database(production_env):
    production_env.delenv("SECRET_KEY")
    production_env.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="without SECRET_KEY and DATABASE_URL set"):
        create_app(ProductionConfig)


def test_production_refuses_without_database_url_alone(production_env):
    production_env.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="without DATABASE_URL set"):
        create_app(ProductionConfig)


def test_production_names_everything_missing(production_env):
    for name in PRODUCTION_ENV:
        production_env.delenv(name)
    with pytest.raises(ConfigError, match="without SECRET_KEY, DATABASE_URL, PONTE_BASE_URL and PONTE_CERT_KEYS set"):
        create_app(ProductionConfig)


def test_production_refuses_without_a_public_base_url(production_env):
    production_env.delenv("PONTE_BASE_URL")
    with pytest.raises(ConfigError, match="without PONTE_BASE_URL set"):
        create_app(ProductionConfig)
    production_env.setenv("PONTE_BASE_URL", "ponte.example.org")  # no scheme: not an address
    with pytest.raises(ConfigError, match="PONTE_BASE_URL must be the public address"):
        create_app(ProductionConfig)


def test_production_refuses_without_certificate_keys_and_says_how_to_keep_old_ones(production_env):
    production_env.delenv("PONTE_CERT_KEYS")
    with pytest.raises(ConfigError, match="without PONTE_CERT_KEYS set") as info:
        create_app(ProductionConfig)
    assert "the former PONTE_CERT_KEY, or SECRET_KEY" in str(info.value)
    production_env.setenv("PONTE_CERT_KEYS", "k1")  # no key
    with pytest.raises(ConfigError, match="id:key pairs"):
        create_app(ProductionConfig)


def test_production_starts_with_everything_and_secures_cookies(production_env):
    app = create_app(ProductionConfig)
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["PONTE_BASE_URL"] == "https://ponte.example.org"
    assert app.config["PONTE_CERT_KEYS"] == {"k1": "a" * 40, "k2": "b" * 40}
    assert list(app.config["PONTE_CERT_KEYS"]) == ["k1", "k2"]  # the last one signs
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_certificate_keys_are_id_key_pairs_in_order():
    assert list(parse_cert_keys(" k2:second , k1:first:with:colons,, ").items()) == [
        ("k2", "second"), ("k1", "first:with:colons")]
    assert parse_cert_keys("") == {} and parse_cert_keys(None) == {}
    for bad in ("k1", "k1:", ":s3cret", "k-1:s3cret", "x" * 17 + ":s3cret"):
        with pytest.raises(ConfigError, match="id:key pairs") as info:
            parse_cert_keys(bad)
        assert "s3cret" not in str(info.value)  # a key never ends up in a log
    with pytest.raises(ConfigError, match="twice"):
        parse_cert_keys("k1:one,K1:two")


def test_development_creates_a_secret_once_and_keeps_it(monkeypatch, tmp_path):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(DevelopmentConfig, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    first = create_app(DevelopmentConfig).config["SECRET_KEY"]
    second = create_app(DevelopmentConfig).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_fixes_the_certificate_key_once_so_a_new_secret_key_keeps_certificates_valid(
        monkeypatch, tmp_path):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("PONTE_CERT_KEYS", raising=False)
    monkeypatch.delenv("PONTE_CERT_KEY", raising=False)
    monkeypatch.setattr(DevelopmentConfig, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "the-first-secret-" + "a" * 30)
    first = create_app(DevelopmentConfig).config["PONTE_CERT_KEYS"]
    # derived from the SECRET_KEY of the first start, as before: older certificates still verify
    assert first == {"k1": "the-first-secret-" + "a" * 30}
    assert (tmp_path / "cert_keys").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("SECRET_KEY", "a-rotated-secret-" + "b" * 30)
    rotated = create_app(DevelopmentConfig)
    assert rotated.config["SECRET_KEY"].startswith("a-rotated") and rotated.config["PONTE_CERT_KEYS"] == first
    monkeypatch.setenv("PONTE_CERT_KEYS", "k1:" + "c" * 40 + ",k2:" + "d" * 40)  # the environment wins
    assert list(create_app(DevelopmentConfig).config["PONTE_CERT_KEYS"]) == ["k1", "k2"]


def test_creating_the_app_starts_no_scheduler(app):
    import threading

    names = [t.name for t in threading.enumerate()]
    assert not any("APScheduler" in n or "apscheduler" in n.lower() for n in names)
    assert "apscheduler" not in app.extensions
