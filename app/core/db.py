"""Transaction helpers shared by every domain."""
from __future__ import annotations

from app.extensions import db


def begin_write() -> None:
    """Start the request's write transaction now.

    On SQLite a transaction that reads first and writes later fails at once with
    "database is locked" when another writer committed in between (its snapshot is
    stale; the busy timeout does not apply). `BEGIN IMMEDIATE` takes the write lock up
    front and waits for it instead. On PostgreSQL this just starts a transaction.
    Call it in a view (which owns the transaction) before a service that writes.
    """
    if db.session().in_transaction():
        db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
