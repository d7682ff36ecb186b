import pytest

from app import create_app
from config import ConfigError, DevelopmentConfig, ProductionConfig


def test_production_refuses_to_start_without_secret_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY and DATABASE_URL"):
        create_app(ProductionConfig)


def test_production_refuses_without_database_url_alone(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app(ProductionConfig)


def test_production_starts_with_both_and_secures_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@127.0.0.1:1/db")
    app = create_app(ProductionConfig)
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_creates_a_secret_once_and_keeps_it(monkeypatch, tmp_path):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(DevelopmentConfig, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    first = create_app(DevelopmentConfig).config["SECRET_KEY"]
    second = create_app(DevelopmentConfig).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_creating_the_app_starts_no_scheduler(app):
    import threading

    names = [t.name for t in threading.enumerate()]
    assert not any("APScheduler" in n or "apscheduler" in n.lower() for n in names)
    assert "apscheduler" not in app.extensions
