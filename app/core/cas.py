"""Compare-and-set: the one way a row changes state (DESIGN.md rule 4).

Checking a status in Python and then writing is a race under PostgreSQL's READ
COMMITTED: two requests both see "accepted" and both withdraw. Here the database checks
and writes in one statement, and its row count says who won::

    if not compare_and_set(enrolment, Enrolment.status == S.ACCEPTED, status=S.WITHDRAWN):
        raise Conflict(...)          # someone else got there first: nothing to undo
    release_seat(...)                # only the winner releases, emails, audits

Every state-changing service goes through this helper, so the rule lives in one place
and the concurrency tests race every caller of it.
"""
from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from app.extensions import db


def compare_and_set(obj: Any, *conditions: sa.ColumnElement[bool], **values: Any) -> bool:
    """Set `values` on `obj`'s row only where every condition still holds, in one UPDATE.

    Returns True when this call made the change; only then may the caller release
    places, queue emails or write audit events. Either way `obj` is reloaded, so the
    caller sees the row as it stands now (the winner's state, when this call lost).
    """
    model = type(obj)
    result = db.session.execute(
        sa.update(model)
        .where(model.id == obj.id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(obj)
    return rowcount(result) == 1


def changed_rows(statement: sa.Update | sa.Delete) -> int:
    """Run a conditional UPDATE or DELETE (without touching the ORM's copies) and return
    how many rows it changed: the count that decides what the caller does next."""
    return rowcount(db.session.execute(statement.execution_options(synchronize_session=False)))


def rowcount(result: sa.Result) -> int:
    """The rows an UPDATE, DELETE or INSERT changed (its result is a CursorResult; the
    session's `execute` is typed as returning any Result)."""
    return cast(sa.CursorResult, result).rowcount
