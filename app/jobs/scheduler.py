"""The one scheduler process: `flask scheduler run`. Web workers never build one."""
from __future__ import annotations

import logging
import signal
import socket
import traceback
from typing import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.core.types import utcnow
from app.extensions import db
from app.jobs.models import JobOutcome, JobRun

log = logging.getLogger("ponte.scheduler")

JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}


def run_recorded(app: Flask, job_id: str, func: Callable[[], dict | None]) -> None:
    """Run one job inside its own app context, record the run, roll back on error."""
    with app.app_context():
        run = JobRun(job_id=job_id, host=f"{socket.gethostname()}"[:100])
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        try:
            counts = func() or {}
        except Exception as exc:  # noqa: BLE001 - recorded, never kills the scheduler
            db.session.rollback()
            run = db.session.get(JobRun, run_id)
            run.outcome = JobOutcome.ERROR
            run.error = "".join(traceback.format_exception(exc))[-4000:]
            log.exception("job %s failed", job_id)
        else:
            db.session.rollback()  # jobs commit their own work; drop anything left half-done
            run = db.session.get(JobRun, run_id)
            run.outcome = JobOutcome.SUCCESS
            run.counts = counts
            if any(counts.values()):
                log.info("job %s: %s", job_id, counts)
        run.finished_at = utcnow()
        db.session.commit()
        db.session.remove()


def job_table() -> dict[str, tuple[Callable[[], dict | None], dict]]:
    """Every periodic job: id → (function, trigger arguments)."""
    from app.certificates.services import run_queued_batches
    from app.jobs import services
    from app.notifications.services import deliver_pending

    return {
        "deliver_outbox": (deliver_pending, {"trigger": "interval", "seconds": 10}),
        "session_reminders": (services.send_session_reminders, {"trigger": "interval", "seconds": 60}),
        "certificate_batches": (run_queued_batches, {"trigger": "interval", "seconds": 15}),
        "auto_issue_certificates": (services.auto_issue_certificates, {"trigger": "interval", "minutes": 30}),
        "promote_waitlists": (services.promote_waitlists, {"trigger": "interval", "minutes": 10}),
        "expire_reset_tokens": (services.expire_reset_tokens, {"trigger": "interval", "hours": 6}),
    }


def run_requested(app: Flask) -> None:
    """Run the jobs an admin asked for ("run now" rows)."""
    from app.jobs.services import take_requests

    with app.app_context():
        requested = take_requests()
        db.session.remove()
    table = job_table()
    for job_id in requested:
        run_recorded(app, job_id, table[job_id][0])


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    for job_id, (func, trigger) in job_table().items():
        scheduler.add_job(run_recorded, args=(app, job_id, func), id=job_id, name=job_id, replace_existing=True,
                          next_run_time=utcnow(), **trigger)
    scheduler.add_job(run_requested, args=(app,), id="run_requested", name="run_requested", replace_existing=True,
                      trigger="interval", seconds=5)
    return scheduler


def run_forever(app: Flask) -> None:
    scheduler = build_scheduler(app)

    def _stop(signum, _frame):  # noqa: ANN001
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("scheduler started with jobs: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    scheduler.start()
    log.info("scheduler stopped")
