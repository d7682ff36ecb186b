"""Transaction helpers shared by every domain."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from app.extensions import db

#: Set in background work (scheduler jobs, batch threads): on SQLite every transaction
#: there starts with BEGIN IMMEDIATE, so a job never reads first and then finds its
#: snapshot stale when it writes. The web keeps cheap deferred reads.
sqlite_immediate = contextvars.ContextVar("sqlite_immediate", default=False)


@contextmanager
def writer_transactions():
    token = sqlite_immediate.set(True)
    try:
        yield
    finally:
        sqlite_immediate.reset(token)


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
