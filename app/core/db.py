"""Transaction helpers shared by every domain."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from flask import Flask, g, request

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


def contains(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching `text` anywhere, with the
    wildcards a person may type (%, _) taken literally. Lower-case both sides to compare."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


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


@contextmanager
def deferred_reads():
    """Inside a write request, read without taking the write lock (the login's slow
    password check runs here, so that logins do not queue behind each other's hashing)."""
    token = sqlite_immediate.set(False)
    try:
        yield
    finally:
        sqlite_immediate.reset(token)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def register_write_requests(app: Flask) -> None:
    """Every web write starts its write transaction up front (DESIGN.md rule 4): on
    SQLite a POST's transactions begin with BEGIN IMMEDIATE, so a request that reads and
    then writes never fails with "database is locked" because someone else wrote in
    between; it waits for the lock instead. A view need not remember to ask. On
    PostgreSQL nothing changes. Runs before every other hook, so that even the login
    session look-up of a POST is inside the writer's transaction."""

    def start(_sender=None) -> None:  # noqa: ANN001
        if request.method not in SAFE_METHODS:
            g._ponte_writer = sqlite_immediate.set(True)

    def end(_exc: BaseException | None = None) -> None:
        token = g.pop("_ponte_writer", None)
        if token is not None:
            sqlite_immediate.reset(token)

    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.teardown_request(end)
