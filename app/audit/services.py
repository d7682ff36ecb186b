from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context, request

from app.audit.models import AuditEvent
from app.extensions import db


def record(action: str, obj: Any = None, *, actor: Any = None, **details: Any) -> AuditEvent:
    """Write one audit event in the caller's transaction (flushed, not committed)."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor) if actor is not None else None,
        object_type=getattr(obj, "__tablename__", None) if obj is not None else None,
        object_id=getattr(obj, "id", None) if obj is not None else None,
        details={k: v for k, v in details.items() if v is not None},
        ip=(request.remote_addr or "")[:45] if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class EventFilters:
    """What the audit log is narrowed to; every field optional."""
    actor_id: int | None = None
    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    user_id: int | None = None  # by or about this person
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def events(f: EventFilters, *scope: sa.ColumnElement[bool]) -> sa.Select:
    """Audit events matching `f` (and any `scope` condition a caller builds, such as
    "about this course or anything in it"), newest first, with their actor loaded."""
    stmt = sa.select(AuditEvent).options(so.joinedload(AuditEvent.actor)).where(*scope).order_by(AuditEvent.id.desc())
    if f.actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == f.actor_id)
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.object_type:
        stmt = stmt.where(AuditEvent.object_type == f.object_type)
    if f.object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == f.object_id)
    if f.user_id is not None:
        stmt = stmt.where(sa.or_(AuditEvent.actor_id == f.user_id,
                                 sa.and_(AuditEvent.object_type == "user", AuditEvent.object_id == f.user_id)))
    if f.since is not None:
        stmt = stmt.where(AuditEvent.created_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEvent.created_at < f.until)
    return stmt


def object_types() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.object_type).where(AuditEvent.object_type.is_not(None))
                                   .distinct().order_by(AuditEvent.object_type)))
