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
