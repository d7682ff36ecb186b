"""One suite, two databases: TEST_DATABASE_URL set → PostgreSQL, else a SQLite file.

The suite runs in parallel (pytest-xdist, `-n`): each worker is its own process with its
own temporary directory, SQLite file and, on PostgreSQL, its own database
(`<name>_gw0`, `<name>_gw1`, … created next to the one TEST_DATABASE_URL names).

The schema is built once per run with the migrations (so they are tested too). Each test
leaves the database empty again: rows are deleted after it, which also lets tests use
real threads, processes and a live server that see committed data.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

_TMP = Path(tempfile.mkdtemp(prefix="ponte-tests-"))
os.environ.setdefault("PONTE_INSTANCE_DIR", str(_TMP / "instance"))
os.environ["PONTE_CONFIG"] = "testing"

from app import create_app  # noqa: E402
from app.extensions import db, limiter  # noqa: E402
from config import TestingConfig, _database_url  # noqa: E402


def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{_TMP / 'test.sqlite3'}"
    url = sa.make_url(_database_url(url))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = url.set(database=f"{url.database}_{worker}")
    return url.render_as_string(hide_password=False)


def _create_worker_database(url: str) -> None:
    """A parallel worker's PostgreSQL database, created (once) from the one configured."""
    worker_url = sa.make_url(url)
    base = worker_url.set(database=worker_url.database.removesuffix("_" + os.environ["PYTEST_XDIST_WORKER"]))
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                              {"name": worker_url.database}).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{worker_url.database}"'))
    engine.dispose()


class Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = database_url()
    MAIL_OUTBOX_DIR = str(_TMP / "outbox")


def pytest_configure(config):  # noqa: ANN001
    config.addinivalue_line("markers", "e2e: browser journeys with Playwright and Debian's chromium")
    config.addinivalue_line("markers", "csrf: run with CSRF protection on")


def _reset_schema(url: str) -> None:
    if url.startswith("postgresql") and os.environ.get("PYTEST_XDIST_WORKER"):
        _create_worker_database(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    if engine.dialect.name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def _schema():
    from flask_migrate import upgrade

    _reset_schema(Config.SQLALCHEMY_DATABASE_URI)
    app = create_app(Config)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        db.engine.dispose()
    yield


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production.

    Without this, a request made while a test holds `app_ctx` would reuse the test's
    context: the same `g` (Flask-Login caches the user there) and the same db session.
    """

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _join_background_batches() -> None:
    """A test that pressed "Issue all eligible" started a batch thread: let it finish
    before the tables are emptied under it (else its inserts race the clean-up)."""
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith("certificate-batch-"):
            thread.join(timeout=120)


@pytest.fixture
def app(_schema, request):
    overrides = {}
    if request.node.get_closest_marker("csrf"):
        overrides["WTF_CSRF_ENABLED"] = True
    cfg = type("PerTestConfig", (Config,), overrides)
    app = create_app(cfg)
    app.test_client_class = FreshContextClient
    limiter.reset()
    yield app
    _join_background_batches()
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()
    limiter.reset()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def mail(app):
    """The memory mail backend: a list of the EmailMessages sent."""
    from app.notifications.backends import get_backend

    with app.app_context():
        return get_backend().sent


class AuthActions:
    def __init__(self, client):  # noqa: ANN001
        self.client = client

    def login(self, email: str, password: str = "correct-horse-battery"):
        return self.client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def query_counter(app):
    """Counts the SQL statements run while the `with` block is open."""
    from contextlib import contextmanager

    @contextmanager
    def count():
        box = {"n": 0}

        def before(*_args, **_kwargs):
            box["n"] += 1

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield box
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return count


def pytest_collection_modifyitems(config, items):  # noqa: ANN001
    # WTForms 3.3 warns about tuple choices that every WTForms user passes; not ours to fix.
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore:Passing SelectField choices as tuples:DeprecationWarning"))
