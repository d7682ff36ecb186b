"""The shape of every write view (DESIGN rule 1): call the service; on a `DomainError`
roll back and hand the error to the view; else commit, then run what waits for a commit
(the outbox's delivery, which notifications connects to `committed` in create_app).

    with write(begin=True) as outcome:
        enrolment = services.enrol(course.id, current_user)
    if outcome.error:
        flash(outcome.error.message, "danger")
        return page_again(), outcome.error.status_code
    flash(_("Enrolled."), "success")
    return redirect(...)

Any other exception goes on to the 500 handler, which rolls back.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app

from app.core.db import begin_write
from app.core.errors import DomainError
from app.extensions import db

#: Sent after a write view's transaction committed, with the app as sender.
committed = Namespace().signal("committed")


@dataclass
class Outcome:
    """What became of the write: `error` is the rule that said no (all rolled back)."""

    error: DomainError | None = None


@contextmanager
def write(*, begin: bool = False) -> Iterator[Outcome]:
    """Run the block as the request's one write; `begin` takes the write lock first
    (`begin_write`), for a block that reads before it writes."""
    if begin:
        begin_write()
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        db.session.rollback()
        outcome.error = error
        return
    db.session.commit()
    committed.send(current_app._get_current_object())  # type: ignore[attr-defined]
