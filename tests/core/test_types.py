import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from tests.factories import UserFactory


def test_naive_datetimes_are_refused(app_ctx):
    user = UserFactory.build()
    user.created_at = dt.datetime(2026, 7, 6, 9, 30)
    db.session.add(user)
    with pytest.raises(sa.exc.StatementError, match="naive datetime refused"):
        db.session.flush()
    db.session.rollback()


def test_aware_times_come_back_as_utc(app_ctx):
    rome = zoneinfo.ZoneInfo("Europe/Rome")
    user = UserFactory(created_at=dt.datetime(2026, 7, 6, 9, 30, tzinfo=rome))
    db.session.expire_all()
    loaded = db.session.get(User, user.id)
    assert loaded.created_at == dt.datetime(2026, 7, 6, 7, 30, tzinfo=dt.UTC)
    assert loaded.created_at.utcoffset() == dt.timedelta(0)


def test_comparisons_in_queries_use_utc(app_ctx):
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    UserFactory(created_at=dt.datetime(2026, 1, 1, 8, 0, tzinfo=shanghai))  # 00:00 UTC
    found = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(
            User.created_at >= dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
        )
    )
    assert found == 1


def test_sqlite_runs_with_wal_and_foreign_keys(app_ctx):
    if db.engine.dialect.name != "sqlite":
        assert db.engine.dialect.driver == "psycopg"  # PostgreSQL: nothing to switch on
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
