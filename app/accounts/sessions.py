"""Server-side login sessions on top of Flask-Login's signed cookie.

The cookie carries a random token; the database keeps its hash. Logging out revokes the
row, so a cookie copied before logout no longer works; `session_version` on the user
ends every device at once (password change, "log out everywhere").
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

import sqlalchemy as sa
from flask import request, session
from flask_login import login_user, logout_user

from app.accounts.models import LoginSession, User
from app.core.db import sqlite_immediate
from app.core.types import utcnow
from app.extensions import db

log = logging.getLogger(__name__)
_TOUCH_EVERY = dt.timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_user(user_id: str) -> User | None:
    token = session.get("sid")
    version = session.get("sv")
    if not token or not (user_id.isascii() and user_id.isdigit()):
        return None
    row = db.session.execute(
        sa.select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == _hash(token), LoginSession.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    login_session, user = row
    if user.id != int(user_id) or user.session_version != version or not user.is_active:
        return None
    now = utcnow()
    if now - login_session.last_seen_at > _TOUCH_EVERY:
        if sqlite_immediate.get():
            # A write request already holds SQLite's write lock in its own transaction: a
            # second connection asking for it would wait on ourselves. Note it here; the
            # request's commit keeps it.
            db.session.execute(sa.update(LoginSession).where(
                LoginSession.id == login_session.id, LoginSession.last_seen_at < now - _TOUCH_EVERY)
                .values(last_seen_at=now))
        else:
            _touch(login_session.id, now)
    return user


def _touch(login_session_id: int, now: dt.datetime) -> None:
    """Note that a device was seen, off the request's own transaction: one short write
    on its own connection that takes SQLite's write lock up front (a read-then-write in
    the request's transaction fails with "database is locked" when someone else wrote
    meanwhile), conditional so that a burst of requests writes once. Best effort: a
    device's last-seen time is never worth failing a page for."""
    try:
        with db.engine.connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                conn.execute(sa.update(LoginSession).where(
                    LoginSession.id == login_session_id, LoginSession.last_seen_at < now - _TOUCH_EVERY)
                    .values(last_seen_at=now))
    except sa.exc.OperationalError:
        log.warning("could not note login session %s as seen", login_session_id, exc_info=True)


def start_session(user: User) -> None:
    """Sign `user` in on this device. The caller commits."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_hash(token),
            ip=(request.remote_addr or "")[:45],
            user_agent=(request.user_agent.string or "")[:255],
        )
    )
    session.clear()  # a fresh session: no fixation
    session.permanent = True
    session["sid"] = token
    session["sv"] = user.session_version
    login_user(user)
    user.last_login_at = utcnow()


def end_session() -> None:
    """Sign out this device: revoke its row and clear the cookie. The caller commits."""
    token = session.get("sid")
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _hash(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def end_other_sessions(user: User) -> None:
    """Sign out every other device of `user`; this one stays signed in. The caller commits."""
    user.session_version += 1
    current = session.get("sid")
    stmt = sa.update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if current:
        stmt = stmt.where(LoginSession.token_hash != _hash(current))
    db.session.execute(stmt.values(revoked_at=utcnow()))
    db.session.flush()
    session["sv"] = user.session_version
