from __future__ import annotations

from typing import Any

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
