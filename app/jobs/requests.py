"""Run now, from the web: a request row per job that the scheduler process claims (the
web process never runs jobs)."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.core.cas import rowcount
from app.core.db import begin_write
from app.core.types import utcnow
from app.extensions import db
from app.jobs.models import JobRequest
from app.jobs.table import job_table


def request_run(job_id: str, actor: User) -> JobRequest | None:
    """'Run now', from the web: a row the scheduler process picks up (the web never runs
    jobs). One waiting request per job, however many clicks: a partial unique index lets
    one insert win; returns None when the job was already asked for."""
    from app.audit.services import record

    if job_id not in job_table():
        raise KeyError(job_id)
    req = JobRequest(job_id=job_id, requested_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(req)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None
    record("job.requested", None, actor=actor, job=job_id)
    return req


def take_requests(job_ids: list[str] | None = None) -> list[str]:
    """Claim the pending 'run now' requests (of `job_ids`, or all), with a conditional
    UPDATE each: one scheduler takes each request."""
    begin_write()
    stmt = sa.select(JobRequest.id).where(JobRequest.taken_at.is_(None))
    if job_ids is not None:
        stmt = stmt.where(JobRequest.job_id.in_(job_ids))
    ids = db.session.scalars(stmt).all()
    taken = []
    for request_id in ids:
        claimed = db.session.execute(sa.update(JobRequest).where(JobRequest.id == request_id, JobRequest.taken_at.is_(None))
                                     .values(taken_at=utcnow()))
        if rowcount(claimed) == 1:
            taken.append(db.session.get_one(JobRequest, request_id).job_id)
    db.session.commit()
    return taken
