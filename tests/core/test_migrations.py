"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and go back to base."""
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import Config

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def _fresh_app(tmp_path):
    url = Config.SQLALCHEMY_DATABASE_URI
    options = {}
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA migration_check"))
        engine.dispose()
        options = {"connect_args": {"options": "-csearch_path=migration_check"}}
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    cfg = type("MigrationConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options})
    return create_app(cfg)


def test_upgrade_gives_the_models_schema_and_downgrade_reaches_base(tmp_path):
    app = _fresh_app(tmp_path)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        assert diff == []
        assert {t.name for t in db.metadata.sorted_tables} <= tables

        downgrade(directory=MIGRATIONS, revision="base")
        with db.engine.connect() as conn:
            remaining = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


def test_the_impact_migration_keeps_every_row_of_a_database_in_use(tmp_path):
    """0010 adds columns to course and user: on SQLite with foreign keys on, a table
    rebuilt by batch mode would cascade-delete sessions and enrolments (it once did)."""
    app = _fresh_app(tmp_path)
    now = "2026-07-01 09:00:00+00:00"
    rows = {
        "user": {"id": 1, "email": "a@example.org", "password_hash": "x", "full_name": "A", "locale": "en",
                 "timezone": "Europe/Rome", "role": "participant", "is_active_account": True, "session_version": 1,
                 "calendar_token": "t", "created_at": now},
        "programme": {"id": 1, "slug": "p", "title": "P", "description": "", "created_at": now},
        "course": {"id": 1, "programme_id": 1, "slug": "c", "title": "C", "summary": "", "description": "",
                   "kind": "course", "language": "en", "is_online": False, "timezone": "Europe/Rome",
                   "starts_on": "2026-07-06", "ends_on": "2026-07-07", "seats_taken": 1, "enrolment_mode": "open",
                   "application_questions": "", "status": "published", "offers_attendance_certificate": True,
                   "offers_completion_certificate": True, "min_attendance_rate": 75, "signatories": "[]",
                   "created_at": now, "updated_at": now},
        "course_session": {"id": 1, "course_id": 1, "title": "S", "description": "", "kind": "lecture",
                           "status": "scheduled", "starts_at": now, "ends_at": "2026-07-01 11:00:00+00:00", "seats_taken": 0,
                           "is_mandatory": False, "counts_for_attendance": True, "sequence": 0, "checkin_secret": "s",
                           "created_at": now, "updated_at": now},
        "enrolment": {"id": 1, "course_id": 1, "user_id": 1, "status": "accepted", "motivation": "", "answers": "{}",
                      "created_at": now, "updated_at": now},
        "course_staff": {"id": 1, "course_id": 1, "user_id": 1, "role": "lead", "created_at": now},
    }
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0009")
        with db.engine.begin() as conn:
            for table, row in rows.items():
                columns = ", ".join(f'"{c}"' for c in row)
                conn.execute(sa.text(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join(":" + c for c in row)})'),
                             row)
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            for table in rows:
                assert conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() == 1, table
            assert conn.execute(sa.text('SELECT train_the_trainer FROM course')).scalar() in (False, 0)
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE \"user\" SET gender = 'woman', sector = 'energy', city = 'Roma'"))
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE \"user\" SET gender = 'unknown'"))
        except sa.exc.IntegrityError:
            pass
        else:
            raise AssertionError("the gender CHECK constraint is missing")
        downgrade(directory=MIGRATIONS, revision="0009")
        with db.engine.connect() as conn:
            for table in rows:
                assert conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() == 1, table
        if db.engine.dialect.name == "postgresql":  # leave nothing behind for other tests (SQLite: a temp file)
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA migration_check CASCADE"))
        db.engine.dispose()
